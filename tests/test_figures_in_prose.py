"""No numbers in prose that no results file holds (the house rule).

Prose is README.md, benchmarks/README.md, data/README.md, the docstrings and comments of
``workbench/**/*.py`` and the Markdown of the notebooks' ``mo.md(...)`` cells. A *figure* is a measured
result: a number with decimals (``0.1715``, ``+0.0083``, ``[0.4902, 0.4942]``) or a number with the
unit of a result: a ratio (``1.052x``), time (``53.4 s``, ``148 ms``, ``13 min``), a rate
(``9,069 events/s``), memory (``1.38 GB``) or a percentage (``92%``).

Not figures:
- whole numbers without such a unit (counts, sizes, k = 10, years, seeds, line numbers);
- code: anything in backticks, ``>>>`` examples and their output, fenced blocks, URLs;
- versions and identifiers (``0.1.0``, ``Python 3.11``, ``arXiv 2006.00556``, ``84.51°``);
- thresholds and goals: after ``<``, ``<=``, ``>=``, ``>``, ``=``, ``~``, "within", "aim", "goal",
  "under", "at most", "at least", or in a Markdown table's "goal" or "baseline" column;
- settings named just before their value ("learning rate 0.04", "every 0.5 s");
- confidence levels ("95% interval"), numbers in formulas (next to ``*``, ``/``, ``^``, ``=``);
- the phrases of ``ALLOWED`` below: facts of the data and definitions, each with its source.

Where to look: a table row, paragraph or docstring that names results files (``results/X.json``,
``benchmarks/X.py``; a bare ``X.py`` in benchmarks/README.md) is held to those files; a Markdown block
naming none is held to what its section names; anything else to every results file. A figure is
backed when a number of those files (numbers, numeric keys and the numbers written in their text
fields, such as settings) rounds to it at the prose's precision: ``0.1715`` matches 0.17152, ``53.4 s``
matches 53.41, ``1.052x`` matches 1.0518, ``9,069`` matches 9069.4. A percentage also matches its
fraction (``69%``: 0.69), ``ms`` also matches seconds and ``min`` seconds; the sign is ignored (a gap
may be stored as a - b or b - a).
"""

from __future__ import annotations

import ast
import bisect
import io
import json
import math
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
MARKDOWN = ["README.md", "benchmarks/README.md", "data/README.md"]

#: Facts of the data and definitions, not measured by a benchmark: (phrase as written, source). A figure
#: inside one of these phrases is allowed; keep the list short.
ALLOWED: list[tuple[str, str]] = [
    ("0.6745 (x - median) / MAD", "Iglewicz and Hoaglin's modified z-score: the normal quantile at 0.75"),
    ("20,000 items take 1.6 GB", "4 n^2 bytes of float32 for n = 20,000: arithmetic, not a measurement"),
    ("92% of The Complete Journey's interactions", "a count of the data: its 20,000 most popular products"),
    ("about 4x alpha", "Armitage, McPherson and Rowe 1969: 10 looks at alpha 0.05 reject a true null ~19%"),
    ("20% of MovieLens", "the share of users coldstart_ml100k.py holds out (cold_user_split(fraction=0.2))"),
]

UNITS = r"[x×]|\s?(?:%|ms|s|min|GB|MB|events/s|requests/s)"
NUMBER = re.compile(
    r"(?<![\w.,/^*=@#\-−+])(?P<sign>[+\-−±]?)(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?P<frac>\.\d+)?"
    r"(?P<unit>" + UNITS + r")?(?![\w.]*\.\d|[\w@(°+])"
)
PLAIN_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")
BACKTICKS = re.compile(r"``.*?``|`[^`]*`", re.S)
URL = re.compile(r"<?https?://\S+")
NOT_A_RESULT_BEFORE = re.compile(
    r"(<|>|<=|>=|≤|≥|=|~|\bwithin|\baim|\bgoal|\bunder|\bat most|\bat least|\bPython|\bversion|\barXiv"
    r"|\blearning rates?|\bevery|[*/^]|\w\()\s*$"
)
NOT_A_RESULT_AFTER = re.compile(r"\s*(?:[*/^×=]|[x×]\s|(?:paired\s+|bootstrap\s+)?(?:t-)?(?:interval|confidence|CI)\b)")
SKIPPED_COLUMNS = {"goal", "baseline"}


def results_numbers() -> dict[str, list[float]]:
    """Every number of each results file (absolute values, sorted), by the file's stem."""
    numbers: dict[str, list[float]] = {}

    def walk(value, into: list[float]) -> None:
        if isinstance(value, bool):
            return
        if isinstance(value, int | float):
            if math.isfinite(value):
                into.append(abs(float(value)))
        elif isinstance(value, str):  # settings written as text: "500 events or 0.2 s after the first"
            into.extend(float(m.group(0)) for m in PLAIN_NUMBER.finditer(value))
        elif isinstance(value, dict):  # keys too: a table keyed by a setting ("0.04": ...)
            for key, v in value.items():
                if PLAIN_NUMBER.fullmatch(key):
                    into.append(float(key))
                walk(v, into)
        elif isinstance(value, list):
            for v in value:
                walk(v, into)

    for path in sorted(RESULTS.glob("*.json")):
        found: list[float] = []
        walk(json.loads(path.read_text()), found)
        numbers[path.stem] = sorted(set(found))
    return numbers


STEMS = sorted(path.stem for path in RESULTS.glob("*.json"))


def named_results(text: str, *, bare: bool = False) -> set[str]:
    """Stems of the results files ``text`` names as ``results/X.json`` or ``benchmarks/X.py`` (a bare
    ``X.py`` too when ``bare``); ``scale.py`` writes ``scale_10m.json`` and ``scale_50m.json``."""
    prefix = r"(?:benchmarks/|results/)" + ("?" if bare else "")
    names = set()
    for m in re.finditer(r"(?<![\w/])" + prefix + r"(?:results/)?(\w+)\.(?:py|json)\b", text):
        names |= {stem for stem in STEMS if stem == m.group(1) or stem.startswith(m.group(1) + "_")}
    return names


def without_doctests(text: str) -> str:
    """``text`` with ``>>>`` examples and their output (up to the next blank line) blanked."""
    kept, in_example = [], False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith((">>>", "...")):
            in_example = True
        elif not stripped:
            in_example = False
        kept.append("" if in_example else line)
    return "\n".join(kept)


def python_prose(path: Path) -> list[tuple[int, str]]:
    """(line, text) of the docstrings, comment blocks and ``mo.md`` cells of a module."""
    source = path.read_text()
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                found.append((first.lineno, without_doctests(first.value.value)))
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "md" and node.args:
            arg = node.args[0]  # a notebook's Markdown cell; the {code} of an f-string is not prose
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.append((arg.lineno, arg.value))
            elif isinstance(arg, ast.JoinedStr):
                text = "".join(v.value if isinstance(v, ast.Constant) else " {} " for v in arg.values)
                found.append((arg.lineno, text))
    block: list[tuple[int, str]] = []  # consecutive comment lines read as one piece
    for token in [*tokenize.generate_tokens(io.StringIO(source).readline), None]:
        if token is not None and token.type == tokenize.COMMENT:
            if block and token.start[0] != block[-1][0] + 1:
                found.append((block[0][0], "\n".join(text for _, text in block)))
                block = []
            block.append((token.start[0], token.string.lstrip("#:").strip()))
        elif block and (token is None or token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.DEDENT)):
            found.append((block[0][0], "\n".join(text for _, text in block)))
            block = []
    return found


def markdown_blocks(text: str, *, bare: bool) -> list[tuple[int, str, set[str] | None]]:
    """(line, text, scope) of each table row and paragraph of a Markdown file. The scope is the results
    files the block names, else those its section names, else None (every results file)."""
    lines = re.sub(r"```.*?```", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S).splitlines()
    blocks: list[tuple[int, str, int]] = []  # (line, text, section)
    section, paragraph, header = 0, [], None
    for i, line in enumerate([*lines, ""]):
        is_row = line.lstrip().startswith("|")
        if paragraph and (not line.strip() or is_row or line.startswith("#")):
            blocks.append((paragraph[0], "\n".join(lines[j] for j in paragraph), section))
            paragraph = []
        if line.startswith("#"):
            section += 1
        elif is_row:
            cells = line.strip().strip("|").split("|")
            if header is None:
                header = [cell.strip().lower() for cell in cells]
            cells = ["" if name in SKIPPED_COLUMNS else cell for name, cell in zip(header, cells, strict=False)]
            blocks.append((i, "|".join(cells), section))
        elif line.strip():
            paragraph.append(i)
        if not is_row:
            header = None
    by_section: dict[int, set[str]] = {}
    for _, block, number in blocks:
        by_section.setdefault(number, set()).update(named_results(block, bare=bare))
    return [
        (i + 1, block, named_results(block, bare=bare) or by_section[number] or None) for i, block, number in blocks
    ]


def prose() -> list[tuple[str, int, str, set[str] | None]]:
    """(path, line, text, scope) of every piece of prose."""
    pieces: list[tuple[str, int, str, set[str] | None]] = []
    for name in MARKDOWN:
        blocks = markdown_blocks((ROOT / name).read_text(), bare=name == "benchmarks/README.md")
        pieces += [(name, line, block, scope) for line, block, scope in blocks]
    for path in sorted([*(ROOT / "workbench").rglob("*.py"), *(ROOT / "notebooks").glob("*.py")]):
        rel = str(path.relative_to(ROOT))
        pieces += [(rel, line, text, named_results(text) or None) for line, text in python_prose(path)]
    return pieces


def figures(text: str) -> list[tuple[int, str, float, int, str]]:
    """(line offset, as written, value, decimals, unit) of each figure in ``text``."""
    allowed = [m.span() for phrase, _ in ALLOWED for m in re.finditer(re.escape(phrase), text)]
    blank = lambda m: re.sub(r"[^\n]", " ", m.group(0))  # noqa: E731
    text = URL.sub(blank, BACKTICKS.sub(blank, text))
    found = []
    for m in NUMBER.finditer(text):
        unit = (m.group("unit") or "").strip()
        if not (m.group("frac") or unit) or any(a <= m.start() < b for a, b in allowed):
            continue
        before, after = text[: m.start()], text[m.end() :]
        if NOT_A_RESULT_BEFORE.search(before) or NOT_A_RESULT_AFTER.match(after):
            continue
        value = float(m.group("int").replace(",", "") + (m.group("frac") or ""))
        decimals = len(m.group("frac") or ".") - 1
        found.append((before.count("\n"), m.group(0).strip(), value, decimals, unit))
    return found


def backed(value: float, decimals: int, unit: str, numbers: list[float]) -> bool:
    """Whether one of ``numbers`` (sorted) rounds to ``value`` at ``decimals``."""
    targets = [(value, 10.0**-decimals)]
    if unit == "%":
        targets.append((value / 100, 10.0 ** -(decimals + 2)))
    if unit == "ms":
        targets.append((value / 1000, 10.0 ** -(decimals + 3)))
    if unit == "min":
        targets.append((value * 60, 60 * 10.0**-decimals))
    for target, step in targets:
        half = step / 2 + 1e-9
        i = bisect.bisect_left(numbers, target - half)
        if i < len(numbers) and numbers[i] <= target + half:
            return True
    return False


def unbacked() -> list[tuple[str, int, str]]:
    """(path, line, figure) of every figure in prose that no results file in its scope holds."""
    numbers = results_numbers()
    everything = sorted({x for values in numbers.values() for x in values})
    out = []
    for path, line, text, scope in prose():
        pool = everything if scope is None else sorted({x for stem in scope for x in numbers[stem]})
        for offset, written, value, decimals, unit in figures(text):
            if not backed(value, decimals, unit, pool):
                out.append((path, line + offset, written))
    return out


def test_every_figure_in_prose_is_in_a_results_file():
    missing = [f"{path}:{line}: {figure}" for path, line, figure in unbacked()]
    assert not missing, "figures no results file holds (fix the prose, rerun the benchmark or drop the number):\n" + (
        "\n".join(missing)
    )


def test_every_allowed_phrase_is_still_in_prose():
    texts = [text for _, _, text, _ in prose()]
    assert [phrase for phrase, _ in ALLOWED if not any(phrase in text for text in texts)] == []


@pytest.mark.parametrize(
    ("prose_text", "found"),
    [
        ("a temporal holdout scores 0.4321 against 0.48", ["0.4321", "0.48"]),
        ("1.052x tuned TIFU-KNN, +0.0084 [+0.0038, +0.0127], 53.4 s, 9,069 events/s, 92%", None),
        ("k = 10, 1,469,307 rows, seed 42, Python 3.11, version 0.1.0, in 2023", []),
        ("`0.25` and ``x = 0.5`` and alpha=0.3, >= 1.05x, p99 < 20 ms, within 15%, learning rate 0.04", []),
        ("a 95% interval, 1/log2(rank+1), 0.6745 * x", []),
    ],
)
def test_what_counts_as_a_figure(prose_text, found):
    written = [figure for _, figure, _, _, _ in figures(prose_text)]
    if found is None:
        assert written == ["1.052x", "+0.0084", "+0.0038", "+0.0127", "53.4 s", "9,069 events/s", "92%"]
    else:
        assert written == found


def test_a_figure_matches_at_the_prose_precision():
    numbers = sorted([0.17152, 53.41, 1.0518, 9069.4, 0.69, 0.1477, 785.0])
    assert backed(0.1715, 4, "", numbers) and backed(53.4, 1, "s", numbers) and backed(1.052, 3, "x", numbers)
    assert backed(9069, 0, "events/s", numbers) and backed(69, 0, "%", numbers) and backed(148, 0, "ms", numbers)
    assert backed(13, 0, "min", numbers)
    assert not backed(0.1716, 4, "", numbers) and not backed(0.4321, 4, "", numbers)


if __name__ == "__main__":
    for path, line, written in unbacked():
        print(f"{path}:{line}: {written}")
