"""A synthetic shop: demographics, a catalogue and a view -> cart -> purchase log.

Everything is drawn from one ``np.random.default_rng(seed)`` with array
operations only (no Python loop over users, items, sessions or events), so ten
million events take seconds. The structure a recommender can learn:

- category tastes depend on the demographic segment (age band x gender x region),
  and each user has a favourite category, so clustering on demographics has signal;
- item popularity is Zipf-like within each category (a long tail);
- sessions follow a funnel: each cart follows a view of the same item in the same
  session, each purchase follows its cart (about 70 / 20 / 10 % of events);
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
from workbench.errors import ConfigError

SIZES: dict[str, dict[str, int]] = {
    "small": dict(n_users=300, n_items=200, n_events=5_000),
    "medium": dict(n_users=5_000, n_items=2_000, n_events=200_000),
    "large": dict(n_users=50_000, n_items=10_000, n_events=2_000_000),
}

# category: (log-mean price, brands, products)
CATALOGUE: dict[str, tuple[float, tuple[str, ...], tuple[str, ...]]] = {
    "electronics": (
        4.6, ("Voltix", "Nimbus", "Quanta", "Arcwave"), ("Headphones", "Speaker", "Charger", "Smartwatch", "Keyboard")
    ),
    "fashion": (3.6, ("Linea", "Northwind", "Velour", "Acme"), ("Jacket", "Sneaker", "Dress", "Scarf", "Jeans")),
    "home": (3.8, ("Hearth", "Oakly", "Casa", "Lumen"), ("Lamp", "Cushion", "Pan", "Vase", "Blanket")),
    "beauty": (3.0, ("Glowa", "Petal", "Aurea", "Mira"), ("Serum", "Lipstick", "Shampoo", "Perfume", "Cream")),
    "sports": (
        3.9, ("Acme", "Stride", "Peak", "Trailhead"), ("Trail Shoe", "Yoga Mat", "Bottle", "Backpack", "Dumbbell")
    ),
    "books": (2.7, ("Inkwell", "Paperleaf", "Folio", "Quill"), ("Novel", "Cookbook", "Atlas", "Biography", "Thriller")),
    "toys": (3.2, ("Blokko", "Tinker", "Jolly", "Zoomi"), ("Puzzle", "Robot", "Doll", "Kite", "Board Game")),
    "grocery": (2.2, ("Harvest", "Greenly", "Daily", "Orchard"), ("Coffee", "Olive Oil", "Tea", "Granola", "Chocolate")),
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
CART_GIVEN_VIEW = 2 / 7  # gives views : carts : purchases = 70 : 20 : 10
PURCHASE_GIVEN_CART = 0.5
ZIPF_EXPONENT = 1.1
START = int(pd.Timestamp("2024-01-01").timestamp())
N_DAYS = 56
HOUR_WEIGHT = np.array([1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 3, 3.5, 4, 4, 4.5, 4.5, 4, 4, 4.5, 5, 6, 7, 7.5, 6.5, 4, 2])
DAY = 86_400


def _ids(prefix: str, n: int, width: int) -> pd.api.extensions.ExtensionArray:
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
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"make_ecommerce: {name} must be a positive integer, got {value!r}")


def _cold(rng: np.random.Generator, n: int) -> np.ndarray:
    """A boolean mask with about COLD_SHARE of ``n`` set (at least one when n >= 2)."""
    n_cold = 0 if n < 2 else max(1, int(round(COLD_SHARE * n)))
    mask = np.zeros(n, dtype=bool)
    mask[rng.choice(n, size=n_cold, replace=False)] = True
    return mask


def _users(rng: np.random.Generator, n_users: int) -> tuple[pd.DataFrame, np.ndarray]:
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
        index=pd.Index(_ids("u", n_users, 6), name=C.USER),
    )
    return users, segment


def _items(rng: np.random.Generator, n_items: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The items table and each item's category code."""
    category = rng.choice(len(CATEGORIES), size=n_items, p=CATEGORY_SHARE)
    log_mean, brands, products = (np.array(column, dtype=object) for column in zip(*CATALOGUE.values()))
    brand = np.stack(brands)[category, rng.integers(0, 4, n_items)]
    product = np.stack(products)[category, rng.integers(0, 5, n_items)]
    price = np.maximum(np.floor(np.exp(rng.normal(log_mean[category].astype(float), 0.45))), 1.0) - 0.01
    name = (
        pd.Series(brand, dtype="str") + " " + ADJECTIVES[rng.integers(0, len(ADJECTIVES), n_items)]
        + " " + pd.Series(product, dtype="str") + " " + pd.Series(rng.integers(1, 100, n_items)).astype("str")
    )
    items = pd.DataFrame(
        {
            "category": pd.array(np.array(CATEGORIES)[category], dtype="str"),
            "brand": pd.array(brand.astype(str), dtype="str"),
            "price": price,
            "name": name.array,
        },
        index=pd.Index(_ids("p", n_items, 5), name=C.ITEM),
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


def _funnel(rng: np.random.Generator, n_events: int) -> tuple[np.ndarray, np.ndarray]:
    """View number and stage (0 view, 1 cart, 2 purchase) of exactly ``n_events`` events.

    Each view is followed by its cart and purchase; cutting the list after n_events
    drops at most the tail of the last view's funnel, so the funnel order still holds.
    """
    cart = rng.random(n_events) < CART_GIVEN_VIEW  # n_events views always suffice
    purchase = cart & (rng.random(n_events) < PURCHASE_GIVEN_CART)
    per_view = 1 + cart.astype(np.int64) + purchase
    n_views = int(np.searchsorted(np.cumsum(per_view), n_events)) + 1
    per_view = per_view[:n_views]
    view = np.repeat(np.arange(n_views), per_view)[:n_events]
    stage = (np.arange(len(view)) - np.repeat(np.cumsum(per_view) - per_view, per_view)[:n_events]).astype(np.int8)
    return view, stage


def _session_start(rng: np.random.Generator, n_sessions: int) -> np.ndarray:
    """Sorted int-second session starts over N_DAYS: growth over time, busier weekends and evenings."""
    day_index = np.arange(N_DAYS)
    weekday = (pd.Timestamp(START, unit="s").dayofweek + day_index) % 7
    day_weight = (1 + 0.5 * day_index / N_DAYS) * np.where(weekday >= 5, 1.3, 1.0)
    day = rng.choice(N_DAYS, size=n_sessions, p=day_weight / day_weight.sum())
    hour = rng.choice(24, size=n_sessions, p=HOUR_WEIGHT / HOUR_WEIGHT.sum())
    return np.sort(START + day * DAY + hour * 3600 + rng.integers(0, 3600, n_sessions))


def make_ecommerce(n_users: int, n_items: int, n_events: int, *, seed: int) -> Dataset:
    """A synthetic shop with ``n_users`` users, ``n_items`` items and exactly ``n_events`` events.

    Interactions: ``user_id`` ("u000123"), ``item_id`` ("p00042"), ``event``
    (view / cart / purchase), ``timestamp`` (int seconds over eight weeks from
    2024-01-01), ``session_id``; sorted by time. Users: age, gender, region,
    signup_date. Items: category, brand, price, name. Same seed, same data.

    The frames are valid by construction, so the Dataset is built directly:
    ``Dataset.from_frames`` would re-check and re-lower-case ten million event
    strings for nothing (a test checks that from_frames gives the same Dataset).

    >>> ds = make_ecommerce(1_000, 300, 20_000, seed=7)
    >>> ds.interactions["event"].value_counts(normalize=True).round(1).to_dict()
    {'view': 0.7, 'cart': 0.2, 'purchase': 0.1}
    """
    _check_sizes(n_users=n_users, n_items=n_items, n_events=n_events)
    rng = np.random.default_rng(seed)
    users, segment = _users(rng, n_users)
    items, category = _items(rng, n_items)

    # Item weights: Zipf over a random popularity rank, zero for cold items; cold items first in
    # each category so that the sampler's last entry per category is a warm one.
    popularity = rng.permutation(n_items).astype(np.float64) + 1.0
    item_weight = np.where(_cold(rng, n_items), 0.0, popularity**-ZIPF_EXPONENT)
    item_order = np.lexsort((item_weight > 0, category))
    item_sampler = _grouped_sampler(item_weight[item_order], category[item_order])
    available = np.bincount(category, weights=item_weight, minlength=len(CATEGORIES)) > 0

    taste = _segment_tastes(rng) * available
    segments = np.arange(len(taste))
    taste_sampler = _grouped_sampler(taste.ravel(), np.repeat(segments, len(CATEGORIES)))
    favourite = _draw(rng, taste_sampler, segment) - segment * len(CATEGORIES)

    activity = np.where(_cold(rng, n_users), 0.0, rng.lognormal(0.0, 1.0, n_users))

    view, stage = _funnel(rng, n_events)
    n_views = int(view[-1]) + 1
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
    item_of_view = item_order[_draw(rng, item_sampler, category_of_session[session_of_view])]

    # Time: sessions start at sorted times and views follow each other by a geometric number of
    # seconds. Carts follow their view, purchases their cart, by 5 s to 5 min; within a session,
    # carts (and purchases) are pushed to strictly increasing seconds, so no two rows are identical.
    gap = rng.geometric(1 / 40, size=n_views).astype(np.int64)
    elapsed = np.cumsum(gap)
    first_view = np.searchsorted(session_of_view, np.arange(n_sessions))
    view_time = _session_start(rng, n_sessions)[session_of_view] + elapsed - elapsed[first_view][session_of_view]
    timestamp = view_time[view]
    session_shift = session_of_view[view].astype(np.int64) << 32  # above any int-second time
    for later in (1, 2):
        rows = np.flatnonzero(stage == later)  # each row follows its view's previous stage
        k = np.arange(len(rows))
        raw = timestamp[rows - 1] + rng.integers(5, 300, len(rows)) - k + session_shift[rows]
        timestamp[rows] = np.maximum.accumulate(raw) - session_shift[rows] + k

    order = np.argsort(timestamp, kind="stable")
    session = session_of_view[view][order]
    interactions = pd.DataFrame(
        {
            C.USER: users.index.array.take(user_of_session[session]),
            C.ITEM: items.index.array.take(item_of_view[view[order]]),
            C.EVENT: pd.array(np.array(C.EVENT_TYPES), dtype="str").take(stage[order].astype(np.intp)),
            C.TIMESTAMP: timestamp[order],
            "session_id": session,
        }
    )
    return Dataset(interactions, users, items)
