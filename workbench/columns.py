"""Canonical column names, defined in one place."""

USER = "user_id"
ITEM = "item_id"
RATING = "rating"
TIMESTAMP = "timestamp"
EVENT = "event"
SCORE = "score"
RANK = "rank"
#: True on recommendation rows served by a fallback (unknown user, too few own candidates).
FALLBACK = "fallback"

REQUIRED = (USER, ITEM)
OPTIONAL = (RATING, TIMESTAMP, EVENT)
RECOMMENDATION = (USER, ITEM, SCORE, RANK, FALLBACK)

EVENT_TYPES = ("view", "cart", "purchase")

#: Optional log columns of a shop's line items, kept as given: units bought and the money paid.
QUANTITY = "quantity"
SPEND = "sales_value"

#: Item columns read as an item's category, in this order of preference (a cell may join several with
#: '|', as MovieLens genres do): genres, a shop's category, a grocer's department.
CATEGORIES = ("genres", "category", "department")
