"""DESIGN.md's layers as code: import-linter's contracts (pyproject.toml) hold for the package as it is."""

import subprocess
import sys
from pathlib import Path

from importlinter.api import read_configuration

ROOT = Path(__file__).resolve().parents[1]
#: DESIGN.md's layout: dependencies point one way, left to right.
DESIGN_ORDER = ["data", "models", "evaluation", "analysis", "report", "views"]


def contracts() -> dict[str, dict]:
    options = read_configuration(str(ROOT / "pyproject.toml"))["contracts_options"]
    return {contract["id"]: contract for contract in options}


def test_the_layers_contract_follows_design_order():
    layers = list(reversed(contracts()["layers"]["layers"]))  # bottom first
    position = {name: i for i, layer in enumerate(layers) for name in layer.replace(":", "|").split("|")}
    order = [position[f"workbench.{name}".strip()] for name in DESIGN_ORDER]
    assert order == sorted(order) and len(set(order)) == len(order)


def test_every_contract_is_kept():
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert f"{len(contracts())} kept, 0 broken" in result.stdout
