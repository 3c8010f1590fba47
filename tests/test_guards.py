"""Resource guards: size parsing, the budget from the environment, refusing oversized dense arrays."""

import os

import numpy as np
import pytest

from workbench.errors import ConfigError
from workbench.guards import BUDGET_ENV, check_dense, format_bytes, memory_budget, parse_size, positive_int


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4GB", 4 * 10**9),
        ("4 gb", 4 * 10**9),
        ("512MiB", 512 * 2**20),
        ("1.5GiB", 3 * 2**29),
        ("2e9", 2 * 10**9),
        ("100", 100),
        ("10kb", 10_000),
        ("1TB", 10**12),
        ("3B", 3),
    ],
)
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "lots", "4 parsecs", "-1GB", "0", "GB", "4GB8"])
def test_parse_size_rejects_nonsense_in_one_line(text):
    with pytest.raises(ConfigError, match=BUDGET_ENV) as info:
        parse_size(text)
    assert "\n" not in str(info.value)


def test_budget_from_environment(monkeypatch):
    monkeypatch.setenv(BUDGET_ENV, "3MB")
    assert memory_budget() == 3_000_000
    monkeypatch.setenv(BUDGET_ENV, "three")
    with pytest.raises(ConfigError, match="not a memory size"):
        memory_budget()


def test_default_budget_is_a_quarter_of_physical_memory(monkeypatch):
    monkeypatch.delenv(BUDGET_ENV, raising=False)
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert memory_budget() == physical // 4


def test_check_dense_at_the_boundary(monkeypatch):
    monkeypatch.setenv(BUDGET_ENV, "8000")  # bytes: exactly 1,000 float64 cells
    assert check_dense(10, 100, what="scores") == 8_000
    assert check_dense(10, 200, what="scores", itemsize=4) == 8_000
    with pytest.raises(ConfigError) as info:
        check_dense(10, 101, what="the users x items score block")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("the users x items score block would need a dense 10 x 101 array of 8.1 KB")
    assert "8.0 KB" in message and BUDGET_ENV in message


def test_check_dense_matches_numpy_and_never_overflows(monkeypatch):
    monkeypatch.setenv(BUDGET_ENV, "1TB")
    for shape, dtype in [((7, 13), np.float64), ((3, 5), np.float32), ((0, 10), np.int64)]:
        assert check_dense(*shape, what="x", itemsize=np.dtype(dtype).itemsize) == np.empty(shape, dtype).nbytes
    # 2**40 x 2**40 x 8 bytes overflows int64; the guard must still refuse it
    with pytest.raises(ConfigError, match="1,099,511,627,776 x 1,099,511,627,776"):
        check_dense(2**40, 2**40, what="x")
    with pytest.raises(ConfigError, match="negative"):
        check_dense(-1, 5, what="x")


def test_format_bytes():
    assert [format_bytes(n) for n in (0, 999, 1_000, 1_500_000, 2.5e9, 8e12)] == [
        "0 B",
        "999 B",
        "1.0 KB",
        "1.5 MB",
        "2.5 GB",
        "8.0 TB",
    ]


@pytest.mark.parametrize(("value", "expected"), [(1, 1), (7, 7), (np.int64(3), 3), (np.uint8(2), 2), (10**12, 10**12)])
def test_positive_int_known_answers(value, expected):
    result = positive_int(value, "k")
    assert result == expected and type(result) is int


@pytest.mark.parametrize("value", [0, -1, np.int32(0), 2.0, 1.5, "3", None, True, False, [1]])
def test_positive_int_refuses_anything_else_in_one_line_naming_the_parameter(value):
    with pytest.raises(ConfigError, match=r"^n_folds must be a positive integer, got ") as info:
        positive_int(value, "n_folds")
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)  # callers catching ValueError keep working
