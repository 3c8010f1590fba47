"""Guards: refuse a dense allocation that would not fit, before making it; check parameters.

The budget is ``WORKBENCH_MEMORY_BUDGET`` (e.g. ``"4GB"``, ``"512MiB"``, ``"2e9"``),
by default a quarter of physical memory. Any layer may import this module.

>>> check_dense(1_000, 64, what="user factors")
512000
>>> check_dense(10**6, 10**6, what="a users x items score matrix")  # doctest: +SKIP
Traceback (most recent call last):
workbench.errors.ConfigError: a users x items score matrix would need a dense 1,000,000 x 1,000,000 array of 8.0 TB, ...
"""

from __future__ import annotations

import numbers
import os
import re

from workbench.errors import ConfigError

BUDGET_ENV = "WORKBENCH_MEMORY_BUDGET"
DEFAULT_SHARE = 0.25  # of physical memory, when the environment variable is unset
FALLBACK_BUDGET = 2 * 1024**3  # where the physical memory cannot be read

_UNITS = {
    "": 1,
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KIB": 2**10,
    "MIB": 2**20,
    "GIB": 2**30,
    "TIB": 2**40,
}
_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*$")


def parse_size(text: str) -> int:
    """Bytes in a size such as ``"4GB"`` (powers of 10), ``"512MiB"`` (powers of 2) or ``"1e9"``.

    >>> parse_size("1.5GB"), parse_size("2KiB"), parse_size("100")
    (1500000000, 2048, 100)
    """
    match = _SIZE.match(str(text))
    unit = match.group(2).upper() if match else None
    if match is None or unit not in _UNITS or float(match.group(1)) <= 0:
        raise ConfigError(f"{BUDGET_ENV}={text!r} is not a memory size; write e.g. 4GB, 512MiB or 2e9")
    return int(float(match.group(1)) * _UNITS[unit])


def physical_memory() -> int | None:
    """Bytes of physical memory (None where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def memory_budget() -> int:
    """Bytes one dense array may take: ``WORKBENCH_MEMORY_BUDGET``, else 25% of physical memory."""
    text = os.environ.get(BUDGET_ENV, "").strip()
    if text:
        return parse_size(text)
    total = physical_memory()
    return int(total * DEFAULT_SHARE) if total else FALLBACK_BUDGET


def format_bytes(n: float) -> str:
    """``1.5 GB`` style, powers of 10.

    >>> format_bytes(1_500_000_000)
    '1.5 GB'
    """
    if n < 1000:
        return f"{n:.0f} B"
    for unit in ("KB", "MB", "GB"):
        n /= 1000
        if n < 1000:
            return f"{n:.1f} {unit}"
    return f"{n / 1000:.1f} TB"


def check_dense(n_rows: int, n_cols: int, *, what: str, itemsize: int = 8) -> int:
    """Raise ConfigError if a dense ``n_rows x n_cols`` array would exceed the memory budget.

    Returns the bytes it would take. Call it before ``np.zeros``, ``.toarray()`` and the like;
    ``what`` names the array in the message (say what the user can change).
    """
    n_rows, n_cols = int(n_rows), int(n_cols)
    if n_rows < 0 or n_cols < 0:
        raise ConfigError(f"{what}: negative array shape {n_rows} x {n_cols}")
    needed = n_rows * n_cols * int(itemsize)  # Python ints: no overflow
    budget = memory_budget()
    if needed > budget:
        raise ConfigError(
            f"{what} would need a dense {n_rows:,} x {n_cols:,} array of {format_bytes(needed)}, "
            f"over the memory budget of {format_bytes(budget)} (set {BUDGET_ENV}, e.g. 8GB, to change it)"
        )
    return needed


def positive_int(value: object, name: str) -> int:
    """``value`` as an ``int`` when it is a positive integer (Python or numpy; not a bool), else a
    one-line ConfigError naming ``name``. Every positive-integer parameter is checked here.

    >>> positive_int(3, "k")
    3
    >>> positive_int(0, "k")
    Traceback (most recent call last):
    workbench.errors.ConfigError: k must be a positive integer, got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
