"""A synthetic shop: demographics, a catalogue and a view -> cart -> purchase log with orders.

Everything is drawn from one ``np.random.default_rng(seed)`` with array
operations only (no Python loop over users, items, sessions, trips or events),
so ten million events take seconds. The structure a recommender can learn:

- category tastes depend on the demographic segment (age band x gender x region),
  and each user has a favourite category, so clustering on demographics has signal;
- item popularity is Zipf-like within each category (a long tail);
- sessions follow a funnel: each cart follows a view of the same item in the same
  session, each purchase follows its cart (about 70 / 20 / 10 % of events);
- repeat purchases: each active user makes shopping trips every few days and keeps a
  few staples from the CONSUMABLES categories, each bought every 1st, 2nd, 3rd or 4th
  trip (with jitter and skips); explore purchases follow the tastes above, and a user
  rarely buys the same durable twice. The purchases of a session form one order
  (``order_id``);
- a few users have demographics but no events, a few items have no events (cold).

>>> ds = make_ecommerce(300, 200, 5_000, seed=0)
>>> len(ds), ds.users.columns.tolist(), ds.items.columns.tolist()
(5000, ['age', 'gender', 'region', 'signup_date'], ['category', 'brand', 'price', 'name'])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.data.dataset import Dataset
from workbench.errors import DataError
from workbench.guards import positive_int

SIZES: dict[str, dict[str, int]] = {
    "small": dict(n_users=300, n_items=200, n_events=8_000),
    "medium": dict(n_users=5_000, n_items=2_000, n_events=200_000),
    "large": dict(n_users=50_000, n_items=10_000, n_events=2_000_000),
}

# category: (log-mean price, brands, products)
CATALOGUE: dict[str, tuple[float, tuple[str, ...], tuple[str, ...]]] = {
    "electronics": (
        4.6,
        ("Voltix", "Nimbus", "Quanta", "Arcwave"),
        ("Headphones", "Speaker", "Charger", "Smartwatch", "Keyboard"),
    ),
    "fashion": (3.6, ("Linea", "Northwind", "Velour", "Acme"), ("Jacket", "Sneaker", "Dress", "Scarf", "Jeans")),
    "home": (3.8, ("Hearth", "Oakly", "Casa", "Lumen"), ("Lamp", "Cushion", "Pan", "Vase", "Blanket")),
    "beauty": (3.0, ("Glowa", "Petal", "Aurea", "Mira"), ("Serum", "Lipstick", "Shampoo", "Perfume", "Cream")),
    "sports": (
        3.9,
        ("Acme", "Stride", "Peak", "Trailhead"),
        ("Trail Shoe", "Yoga Mat", "Bottle", "Backpack", "Dumbbell"),
    ),
    "books": (2.7, ("Inkwell", "Paperleaf", "Folio", "Quill"), ("Novel", "Cookbook", "Atlas", "Biography", "Thriller")),
    "toys": (3.2, ("Blokko", "Tinker", "Jolly", "Zoomi"), ("Puzzle", "Robot", "Doll", "Kite", "Board Game")),
    "grocery": (
        2.2,
        ("Harvest", "Greenly", "Daily", "Orchard"),
        ("Coffee", "Olive Oil", "Tea", "Granola", "Chocolate"),
    ),
}
CATEGORIES = tuple(CATALOGUE)
ADJECTIVES = np.array(["Classic", "Pro", "Lite", "Eco", "Trail", "Urban", "Smart", "Mini", "Deluxe", "Everyday"])
CATEGORY_SHARE = np.array([0.16, 0.20, 0.14, 0.10, 0.10, 0.12, 0.08, 0.10])  # of the catalogue

AGE_EDGES = np.array([18, 30, 45, 60, 76])  # bands 18-29, 30-44, 45-59, 60-75
GENDERS = np.array(["F", "M"])
GENDER_SHARE = np.array([0.52, 0.48])
REGIONS = np.array(["north", "south", "east", "west"])
REGION_SHARE = np.array([0.30, 0.25, 0.25, 0.20])
# Log-taste shifts, columns in CATEGORIES order: the young buy gadgets and fashion, the old home and books.
AGE_TASTE = np.array(
    [
        [0.9, 0.8, -0.8, 0.2, 0.5, -0.6, -0.2, -0.6],
        [0.3, 0.2, 0.2, 0.0, 0.3, -0.2, 0.9, 0.0],
        [-0.2, -0.2, 0.8, 0.0, -0.2, 0.4, 0.2, 0.4],
        [-0.8, -0.6, 1.0, -0.2, -0.6, 1.0, 0.0, 0.8],
    ]
)
GENDER_TASTE = np.array([[-0.4, 0.5, 0.2, 1.0, -0.3, 0.2, 0.0, 0.0], [0.5, -0.3, -0.1, -1.0, 0.5, -0.1, 0.0, 0.0]])

COLD_SHARE = 0.05  # of users, and of items, that never appear in the log
FAVOURITE_SHARE = 0.5  # sessions spent in the user's favourite category
VIEWS_PER_SESSION = 2.5
EVENT_SHARE = {"view": 0.7, "cart": 0.2, "purchase": 0.1}  # the funnel's rates are set to give this mix
ZIPF_EXPONENT = 1.1
START = int(pd.Timestamp("2024-01-01").timestamp())
N_DAYS = 56
HOUR_WEIGHT = np.array([1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 3, 3.5, 4, 4, 4.5, 4.5, 4, 4, 4.5, 5, 6, 7, 7.5, 6.5, 4, 2])
DAY = 86_400
ORDER = "order_id"

# Repeat purchases. Consumables are bought again on a cycle; the other categories are durables
# (electronics, fashion, home, sports, toys, books), which a user rarely buys twice.
CONSUMABLES = ("beauty", "grocery")
DURABLE = ~np.isin(CATEGORIES, CONSUMABLES)  # by category code
DURABLE_REDRAWS = 5  # times a durable bought again is replaced by another item of its category
STAPLE_SHARE = 0.8  # of purchases: staples bought again on their cycle; the rest explore the tastes
STAPLES_PER_TRIP = 1.0  # mean staple buys in a trip's basket; a user's staples grow with sqrt(trips)
STAPLE_CYCLE = np.array([0.3, 0.3, 0.25, 0.15])  # share of staples bought every 1st, 2nd, 3rd, 4th trip
STAPLE_SKIP = 0.1  # a due staple is left out of the trip
STAPLE_JITTER = 0.1  # a due staple moves to the trip before or after
TRIP_JITTER = 0.1  # standard deviation of a trip's day, as a share of the user's trip period
MIN_TRIP_PERIOD = 2.0  # days


def _ids(prefix: str, n: int, width: int, integer: bool) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """Ids ``prefix`` + zero-padded 0..n-1 (at least ``width`` digits), or int64 1..n when ``integer``."""
    if integer:
        return np.arange(1, n + 1, dtype=np.int64)
    digits = np.char.zfill(np.arange(n).astype(str), max(width, len(str(n - 1))))
    return pd.array(np.char.add(prefix, digits), dtype="str")


def _grouped_sampler(weights: np.ndarray, group_of_entry: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shifted cumulative probabilities for drawing an entry within a group (entries sorted by group).

    Group g owns the interval [g, g + 1); an entry of weight 0 owns an empty interval.
    Returns the shifted cumulative array and each group's last entry position.
    """
    n_groups = int(group_of_entry.max()) + 1
    totals = np.bincount(group_of_entry, weights=weights, minlength=n_groups)
    cum = np.cumsum(weights) - np.repeat(np.cumsum(totals) - totals, np.bincount(group_of_entry, minlength=n_groups))
    cum = np.divide(cum, totals[group_of_entry], out=np.ones_like(cum), where=totals[group_of_entry] > 0)
    last = np.cumsum(np.bincount(group_of_entry, minlength=n_groups)) - 1
    cum[last] = 1.0
    return cum + group_of_entry, last


def _draw(rng: np.random.Generator, sampler: tuple[np.ndarray, np.ndarray], groups: np.ndarray) -> np.ndarray:
    """One entry position per element of ``groups``, with the group's probabilities."""
    shifted, last = sampler
    position = np.searchsorted(shifted, groups + rng.random(len(groups)), side="right")
    return np.minimum(position, last[groups])


def _check_sizes(**sizes: int) -> None:
    for name, value in sizes.items():
        positive_int(value, f"make_ecommerce: {name}")


def _cold(rng: np.random.Generator, n: int) -> np.ndarray:
    """A boolean mask with about COLD_SHARE of ``n`` set (at least one when n >= 2)."""
    n_cold = 0 if n < 2 else max(1, int(round(COLD_SHARE * n)))
    mask = np.zeros(n, dtype=bool)
    mask[rng.choice(n, size=n_cold, replace=False)] = True
    return mask


def _users(rng: np.random.Generator, n_users: int, integer_ids: bool) -> tuple[pd.DataFrame, np.ndarray]:
    """The users table and each user's segment code (age band x gender x region)."""
    age = np.clip(np.round(rng.normal(38, 13, n_users)), AGE_EDGES[0], AGE_EDGES[-1] - 1).astype(np.int64)
    gender = rng.choice(len(GENDERS), size=n_users, p=GENDER_SHARE)
    region = rng.choice(len(REGIONS), size=n_users, p=REGION_SHARE)
    signup = START - rng.integers(DAY, 3 * 365 * DAY, n_users)
    band = np.searchsorted(AGE_EDGES, age, side="right") - 1
    segment = (band * len(GENDERS) + gender) * len(REGIONS) + region
    users = pd.DataFrame(
        {
            "age": age,
            "gender": pd.array(GENDERS[gender], dtype="str"),
            "region": pd.array(REGIONS[region], dtype="str"),
            "signup_date": pd.to_datetime(signup, unit="s").floor("D"),
        },
        index=pd.Index(_ids("u", n_users, 6, integer_ids), name=C.USER),
    )
    return users, segment


def _items(rng: np.random.Generator, n_items: int, integer_ids: bool) -> tuple[pd.DataFrame, np.ndarray]:
    """The items table and each item's category code."""
    category = rng.choice(len(CATEGORIES), size=n_items, p=CATEGORY_SHARE)
    log_mean, brands, products = (np.array(column, dtype=object) for column in zip(*CATALOGUE.values(), strict=False))
    brand = np.stack(brands)[category, rng.integers(0, 4, n_items)]
    product = np.stack(products)[category, rng.integers(0, 5, n_items)]
    price = np.maximum(np.floor(np.exp(rng.normal(log_mean[category].astype(float), 0.45))), 1.0) - 0.01
    name = (
        pd.Series(brand, dtype="str")
        + " "
        + ADJECTIVES[rng.integers(0, len(ADJECTIVES), n_items)]
        + " "
        + pd.Series(product, dtype="str")
        + " "
        + pd.Series(rng.integers(1, 100, n_items)).astype("str")
    )
    items = pd.DataFrame(
        {
            "category": pd.array(np.array(CATEGORIES)[category], dtype="str"),
            "brand": pd.array(brand.astype(str), dtype="str"),
            "price": price,
            "name": name.array,
        },
        index=pd.Index(_ids("p", n_items, 5, integer_ids), name=C.ITEM),
    )
    return items, category


def _segment_tastes(rng: np.random.Generator) -> np.ndarray:
    """Category probabilities per segment, shape (segments, categories)."""
    region_taste = rng.normal(0, 0.4, (len(REGIONS), len(CATEGORIES)))
    log_taste = (
        AGE_TASTE[:, None, None, :]
        + GENDER_TASTE[None, :, None, :]
        + region_taste[None, None, :, :]
        + rng.normal(0, 0.2, (len(AGE_EDGES) - 1, len(GENDERS), len(REGIONS), len(CATEGORIES)))
    )
    return np.exp(log_taste).reshape(-1, len(CATEGORIES))


def _draw_items(
    rng: np.random.Generator, catalogue: tuple[tuple[np.ndarray, np.ndarray], np.ndarray], category: np.ndarray
) -> np.ndarray:
    """One warm item per element of ``category``, by popularity within the category."""
    sampler, item_order = catalogue
    return item_order[_draw(rng, sampler, category)]


def _shuffled_within(rng: np.random.Generator, groups: np.ndarray) -> np.ndarray:
    """An order that sorts ``groups`` (non-negative ints below 2**31) and shuffles each group."""
    return np.argsort((groups.astype(np.int64) << 32) | rng.integers(0, 2**32, len(groups)))


def _rank_in_runs(groups: np.ndarray) -> np.ndarray:
    """Position of each element within its run of equal values (``groups`` sorted)."""
    boundary = np.ones(len(groups), dtype=bool)
    boundary[1:] = groups[1:] != groups[:-1]
    starts = np.flatnonzero(boundary)
    return np.arange(len(groups)) - np.repeat(starts, np.diff(np.append(starts, len(groups))))


def _funnel(rng: np.random.Generator, n_events: int, n_staple_buys: int) -> np.ndarray:
    """Events per browse view (1: the view; 2: and its cart; 3: and its purchase), summing to ``n_events``.

    The rates give the EVENT_SHARE mix once the staple buys (a view, a cart and a purchase each)
    are added. Cutting the list at n_events drops at most the tail of the last view's funnel.
    """
    total = n_events + 3 * n_staple_buys
    views, carts, purchases = (EVENT_SHARE[event] * total - n_staple_buys for event in C.EVENT_TYPES)
    cart = rng.random(n_events) < carts / views  # n_events views always suffice
    purchase = cart & (rng.random(n_events) < purchases / carts)
    per_view = 1 + cart.astype(np.int64) + purchase
    ends = np.cumsum(per_view)
    n_views = int(np.searchsorted(ends, n_events)) + 1
    per_view = per_view[:n_views]
    per_view[-1] -= ends[n_views - 1] - n_events
    return per_view


def _clock(rng: np.random.Generator, day: np.ndarray) -> np.ndarray:
    """Int-second times on the given days (0 .. N_DAYS - 1), busier in the evening."""
    hour = rng.choice(24, size=len(day), p=HOUR_WEIGHT / HOUR_WEIGHT.sum())
    return START + day * DAY + hour * 3600 + rng.integers(0, 3600, len(day))


def _session_start(rng: np.random.Generator, n_sessions: int) -> np.ndarray:
    """Int-second browse session starts over N_DAYS: growth over time, busier weekends and evenings."""
    day_index = np.arange(N_DAYS)
    weekday = (pd.Timestamp(START, unit="s").dayofweek + day_index) % 7
    day_weight = (1 + 0.5 * day_index / N_DAYS) * np.where(weekday >= 5, 1.3, 1.0)
    return _clock(rng, rng.choice(N_DAYS, size=n_sessions, p=day_weight / day_weight.sum()))


def _trips(rng: np.random.Generator, activity: np.ndarray, n_trips: float) -> tuple[np.ndarray, np.ndarray]:
    """About ``n_trips`` shopping trips, shared by activity: the user and day of each, sorted by user then time.

    A user expecting r trips shops every N_DAYS / r days (at least MIN_TRIP_PERIOD) from a
    random phase, each trip's day jittered by TRIP_JITTER of the period.
    """
    rate = n_trips * activity / activity.sum()
    period = np.maximum(N_DAYS / np.maximum(rate, 1e-12), MIN_TRIP_PERIOD)
    phase = rng.random(len(activity)) * period
    count = np.ceil((N_DAYS - phase) / period).clip(0).astype(np.int64)  # trips k with phase + k period < N_DAYS
    user = np.repeat(np.arange(len(activity)), count)
    k = _rank_in_runs(user)
    day = phase[user] + (k + rng.normal(0, TRIP_JITTER, len(user))) * period[user]
    return user, np.clip(day, 0, N_DAYS - 1).astype(np.int64)


def _staples(
    rng: np.random.Generator,
    trip_user: np.ndarray,
    n_buys: float,
    segment: np.ndarray,
    taste: np.ndarray,
    catalogue: tuple[tuple[np.ndarray, np.ndarray], np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Staples of the users who make trips, as (user, item) arrays: distinct consumables per user.

    A user with T trips keeps 1 + Poisson(g sqrt(T)) staples, g set so that the staples come to
    about ``n_buys`` buys in all. A staple's category follows the user's segment tastes among
    CONSUMABLES, its item the popularity.
    """
    consumable = np.flatnonzero(np.isin(CATEGORIES, CONSUMABLES))
    consumable_taste = taste[:, consumable]
    if not consumable_taste.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    shoppers, n_trips = np.unique(trip_user, return_counts=True)
    due = (STAPLE_CYCLE / np.arange(1, len(STAPLE_CYCLE) + 1)).sum() * (1 - STAPLE_SKIP)  # buys per staple and trip
    growth = max(n_buys / due - n_trips.sum(), 0.0) / max((n_trips**1.5).sum(), 1)
    user = np.repeat(shoppers, 1 + rng.poisson(growth * np.sqrt(n_trips)))
    sampler = _grouped_sampler(consumable_taste.ravel(), np.repeat(np.arange(len(taste)), len(consumable)))
    seg = segment[user]
    item = _draw_items(rng, catalogue, consumable[_draw(rng, sampler, seg) - seg * len(consumable)])
    _, first = np.unique(np.stack([user, item]), axis=1, return_index=True)
    return user[first], item[first]


def _staple_buys(
    rng: np.random.Generator, trip_user: np.ndarray, staple_user: np.ndarray, staple_item: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The trip (position in the trip arrays) and item of each staple buy.

    A staple has a cycle c (1 to 4 trips, STAPLE_CYCLE) and a random offset o: it is due on the
    user's trips k with (k + o) % c == 0; a due buy is skipped with STAPLE_SKIP and moves to the
    trip before or after with STAPLE_JITTER.
    """
    first = np.searchsorted(trip_user, staple_user)
    count = np.searchsorted(trip_user, staple_user, side="right") - first
    cycle = 1 + rng.choice(len(STAPLE_CYCLE), size=len(staple_user), p=STAPLE_CYCLE)
    offset = rng.integers(0, cycle)
    staple = np.repeat(np.arange(len(staple_user)), count)
    k = _rank_in_runs(staple)
    due = ((k + offset[staple]) % cycle[staple] == 0) & (rng.random(len(k)) >= STAPLE_SKIP)
    staple, k = staple[due], k[due]
    shift = rng.choice([-1, 0, 1], size=len(k), p=[STAPLE_JITTER / 2, 1 - STAPLE_JITTER, STAPLE_JITTER / 2])
    k = np.clip(k + shift, 0, count[staple] - 1)
    stride = int(count.max(initial=1))
    buy = np.unique(staple * stride + k)  # a staple moved onto a trip that has it already is bought once
    staple = buy // stride
    return first[staple] + buy % stride, staple_item[staple]


def _trip_sessions(
    rng: np.random.Generator, trip_user: np.ndarray, user_of_session: np.ndarray, has_purchase: np.ndarray
) -> np.ndarray:
    """The session of each trip: a browse session of the same user, else a new one (numbered from
    ``len(user_of_session)``).

    Each user's browse sessions, those with a purchase first, take the user's trips in random
    order: explore purchases join a trip's basket whenever the user has trips enough.
    """
    n_sessions, n_trips = len(user_of_session), len(trip_user)
    session_order = _shuffled_within(rng, 2 * user_of_session + ~has_purchase)
    trip_order = _shuffled_within(rng, trip_user)
    stride = max(n_sessions, n_trips) + 1
    session_key = user_of_session[session_order] * stride + _rank_in_runs(user_of_session[session_order])
    trip_key = trip_user[trip_order] * stride + _rank_in_runs(trip_user[trip_order])
    position = np.minimum(np.searchsorted(trip_key, session_key), max(n_trips - 1, 0))
    matched = trip_key[position] == session_key if n_trips else np.zeros(n_sessions, bool)
    trip_session = np.full(n_trips, -1, dtype=np.int64)
    trip_session[trip_order[position[matched]]] = session_order[matched]
    alone = trip_session < 0
    trip_session[alone] = n_sessions + np.arange(int(alone.sum()))
    return trip_session


def _views_by_session(
    browse: tuple[np.ndarray, np.ndarray, np.ndarray],
    staple_session: np.ndarray,
    staple_item: np.ndarray,
    n_sessions: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All views sorted by session, each session's staple buys first (3 events each), then its browse views.

    ``browse`` holds the browse views' session (in runs, one per session), item and event count.
    Returns the views' session, item and event count, and each session's first view position.
    """
    browse_session, browse_item, browse_events = browse
    by_session = np.argsort(staple_session, kind="stable")
    staple_session, staple_item = staple_session[by_session], staple_item[by_session]
    n_staples = np.bincount(staple_session, minlength=n_sessions)
    size = n_staples + np.bincount(browse_session, minlength=n_sessions)
    first = np.cumsum(size) - size
    position = np.concatenate(
        [
            first[staple_session] + _rank_in_runs(staple_session),
            first[browse_session] + n_staples[browse_session] + _rank_in_runs(browse_session),
        ]
    )

    def placed(staple_part: np.ndarray, browse_part: np.ndarray) -> np.ndarray:
        values = np.empty(len(position), dtype=np.int64)
        values[position] = np.concatenate([staple_part, browse_part])
        return values

    events = placed(np.full(len(staple_session), 3), browse_events)
    return placed(staple_session, browse_session), placed(staple_item, browse_item), events, first


def _event_times(
    rng: np.random.Generator,
    view_session: np.ndarray,
    first_view: np.ndarray,
    session_start: np.ndarray,
    per_view: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each event's view, stage (0 view, 1 cart, 2 purchase) and int-second time; views sorted by session.

    Views follow each other by a geometric number of seconds from the session start. Carts follow
    their view, purchases their cart, by 5 s to 5 min; within a session, carts (and purchases) are
    pushed to strictly increasing seconds, so no two rows are identical.
    """
    elapsed = np.cumsum(rng.geometric(1 / 40, size=len(view_session)))
    view_time = session_start[view_session] + elapsed - elapsed[first_view][view_session]
    view = np.repeat(np.arange(len(view_session)), per_view)
    stage = (np.arange(len(view)) - np.repeat(np.cumsum(per_view) - per_view, per_view)).astype(np.int8)
    timestamp = view_time[view]
    session_shift = view_session[view] << 32  # above any int-second time
    for later in (1, 2):
        rows = np.flatnonzero(stage == later)  # each row follows its view's previous stage
        k = np.arange(len(rows))
        raw = timestamp[rows - 1] + rng.integers(5, 300, len(rows)) - k + session_shift[rows]
        timestamp[rows] = np.maximum.accumulate(raw) - session_shift[rows] + k
    return view, stage, timestamp


def _bought_before(user: np.ndarray, item: np.ndarray, time: np.ndarray) -> np.ndarray:
    """Mask of the purchases whose (user, item) was bought earlier."""
    order = np.lexsort((time, item, user))
    again = np.zeros(len(user), dtype=bool)
    again[order[1:]] = (user[order[1:]] == user[order[:-1]]) & (item[order[1:]] == item[order[:-1]])
    return again


def _order_ids(session_of_purchase: np.ndarray, purchase_time: np.ndarray) -> np.ndarray:
    """Order id (1, 2, ... by the time of the order's first purchase) of each purchase; an order is a session's
    purchases, which come in time order within a session."""
    sessions, first, inverse = np.unique(session_of_purchase, return_index=True, return_inverse=True)
    by_time = np.lexsort((sessions, purchase_time[first]))
    order_of_session = np.empty(len(sessions), dtype=np.int64)
    order_of_session[by_time] = np.arange(1, len(sessions) + 1)
    return order_of_session[inverse]


def make_ecommerce(n_users: int, n_items: int, n_events: int, *, seed: int, integer_ids: bool = False) -> Dataset:
    """A synthetic shop with ``n_users`` users, ``n_items`` items and exactly ``n_events`` events.

    Interactions: ``user_id`` ("u000123"), ``item_id`` ("p00042"), ``event``
    (view / cart / purchase), ``timestamp`` (int seconds over eight weeks from
    2024-01-01), ``session_id``, ``order_id`` (pandas "Int64": set on purchases, the
    purchases of a session forming one order, numbered 1, 2, ... in time order);
    sorted by time. Users: age, gender, region, signup_date. Items: category,
    brand, price, name. With ``integer_ids``, user ids are int64 1..n_users and item
    ids int64 1..n_items. Same seed, same data.

    The frames are valid by construction, so the Dataset is built directly:
    ``Dataset.from_frames`` would re-check and re-lower-case ten million event
    strings for nothing (a test checks that from_frames gives the same Dataset).

    >>> ds = make_ecommerce(1_000, 300, 20_000, seed=7)
    >>> ds.interactions["event"].value_counts(normalize=True).round(2).to_dict()
    {'view': 0.7, 'cart': 0.2, 'purchase': 0.1}
    """
    _check_sizes(n_users=n_users, n_items=n_items, n_events=n_events)
    rng = np.random.default_rng(seed)
    users, segment = _users(rng, n_users, integer_ids)
    items, category = _items(rng, n_items, integer_ids)

    # Item weights: Zipf over a random popularity rank, zero for cold items; cold items first in
    # each category so that the sampler's last entry per category is a warm one.
    popularity = rng.permutation(n_items).astype(np.float64) + 1.0
    item_weight = np.where(_cold(rng, n_items), 0.0, popularity**-ZIPF_EXPONENT)
    item_order = np.lexsort((item_weight > 0, category))
    catalogue = (_grouped_sampler(item_weight[item_order], category[item_order]), item_order)
    available = np.bincount(category, weights=item_weight, minlength=len(CATEGORIES)) > 0

    taste = _segment_tastes(rng) * available
    segments = np.arange(len(taste))
    taste_sampler = _grouped_sampler(taste.ravel(), np.repeat(segments, len(CATEGORIES)))
    favourite = _draw(rng, taste_sampler, segment) - segment * len(CATEGORIES)

    activity = np.where(_cold(rng, n_users), 0.0, rng.lognormal(0.0, 1.0, n_users))

    # Repeat purchases: trips, staples and the staple buys, about STAPLE_SHARE of all purchases.
    staple_buys = STAPLE_SHARE * EVENT_SHARE["purchase"] * n_events
    trip_user, trip_day = _trips(rng, activity, staple_buys / STAPLES_PER_TRIP)
    staple_user, staple_item = _staples(rng, trip_user, staple_buys, segment, taste, catalogue)
    buy_trip, buy_item = _staple_buys(rng, trip_user, staple_user, staple_item)
    most = int(EVENT_SHARE["purchase"] * n_events)  # leaves the browse funnel its carts
    if len(buy_trip) > most:
        keep = np.sort(rng.choice(len(buy_trip), size=most, replace=False))
        buy_trip, buy_item = buy_trip[keep], buy_item[keep]

    # Browsing: views in sessions of a category (favourite or taste), items by popularity.
    per_view = _funnel(rng, n_events - 3 * len(buy_trip), len(buy_trip))
    n_views = len(per_view)
    session_length = rng.geometric(1 / VIEWS_PER_SESSION, size=n_views)  # n_views sessions always suffice
    n_sessions = int(np.searchsorted(np.cumsum(session_length), n_views)) + 1
    session_of_view = np.repeat(np.arange(n_sessions), session_length[:n_sessions])[:n_views]
    user_of_session = rng.choice(n_users, size=n_sessions, p=activity / activity.sum())
    seg = segment[user_of_session]
    category_of_session = np.where(
        rng.random(n_sessions) < FAVOURITE_SHARE,
        favourite[user_of_session],
        _draw(rng, taste_sampler, seg) - seg * len(CATEGORIES),
    )
    item_of_view = _draw_items(rng, catalogue, category_of_session[session_of_view])

    # Trips take place in browse sessions of their user (or in sessions of their own), at trip time.
    # Sessions with views are numbered by start time; a trip's staples come first among its views.
    has_purchase = np.bincount(session_of_view, weights=per_view == 3, minlength=n_sessions) > 0
    trip_session = _trip_sessions(rng, trip_user, user_of_session, has_purchase)
    alone = trip_session >= n_sessions
    start = np.concatenate([_session_start(rng, n_sessions), np.zeros(int(alone.sum()), np.int64)])
    start[trip_session] = _clock(rng, trip_day)
    staple_session = trip_session[buy_trip]
    used = np.arange(len(start)) < n_sessions
    used[staple_session] = True
    by_start = np.argsort(start, kind="stable")
    by_start = by_start[used[by_start]]
    renumber = np.empty(len(start), dtype=np.int64)
    renumber[by_start] = np.arange(len(by_start))
    session_user = np.concatenate([user_of_session, trip_user[alone]])[by_start]
    browse = (renumber[session_of_view], item_of_view, per_view)
    view_session, view_item, per_view, first_view = _views_by_session(
        browse, renumber[staple_session], buy_item, len(by_start)
    )
    view, stage, timestamp = _event_times(rng, view_session, first_view, start[by_start], per_view)

    # A durable bought again by the same user is explored instead: another item of its category
    # (drawn again up to DURABLE_REDRAWS times, as the new item may be one the user has too).
    bought = np.flatnonzero(stage == 2)
    durable = bought[DURABLE[category[view_item[view[bought]]]]]
    durable_view, buyer = view[durable], session_user[view_session[view[durable]]]
    for _ in range(DURABLE_REDRAWS):
        redo = durable_view[_bought_before(buyer, view_item[durable_view], timestamp[durable])]
        view_item[redo] = _draw_items(rng, catalogue, category[view_item[redo]])

    order_id = np.zeros(n_events, dtype=np.int64)
    order_id[bought] = _order_ids(view_session[view[bought]], timestamp[bought])
    order = np.argsort(timestamp, kind="stable")
    session = view_session[view][order]
    interactions = pd.DataFrame(
        {
            C.USER: users.index.array.take(session_user[session]),
            C.ITEM: items.index.array.take(view_item[view[order]]),
            C.EVENT: pd.array(np.array(C.EVENT_TYPES), dtype="str").take(stage[order].astype(np.intp)),
            C.TIMESTAMP: timestamp[order],
            "session_id": session,
            ORDER: pd.arrays.IntegerArray(order_id[order], stage[order] != 2),
        }
    )
    return Dataset(interactions, users, items)


def order_log(ds: Dataset) -> pd.DataFrame:
    """What a shop exports: a row per purchased item (order_id, user_id, product_id, timestamp), sorted by order.

    >>> order_log(make_ecommerce(300, 200, 5_000, seed=0)).columns.tolist()
    ['order_id', 'user_id', 'product_id', 'timestamp']
    """
    log = ds.interactions
    if ORDER not in log.columns:
        raise DataError(
            f"interactions: column '{ORDER}' is missing, which order_log needs (columns are "
            f"{list(map(str, log.columns))[:12]}); make_ecommerce writes it"
        )
    purchases = log[log[C.EVENT] == "purchase"]
    orders = pd.DataFrame(
        {
            ORDER: purchases[ORDER].to_numpy(np.int64),
            C.USER: purchases[C.USER].array,
            "product_id": purchases[C.ITEM].array,
            C.TIMESTAMP: purchases[C.TIMESTAMP].array,
        }
    )
    return orders.sort_values([ORDER, C.TIMESTAMP], kind="stable", ignore_index=True)
