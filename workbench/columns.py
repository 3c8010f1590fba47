"""Canonical column names, defined in one place."""

USER = "user_id"
ITEM = "item_id"
RATING = "rating"
TIMESTAMP = "timestamp"
EVENT = "event"
SCORE = "score"
RANK = "rank"

REQUIRED = (USER, ITEM)
OPTIONAL = (RATING, TIMESTAMP, EVENT)
RECOMMENDATION = (USER, ITEM, SCORE, RANK)

EVENT_TYPES = ("view", "cart", "purchase")
