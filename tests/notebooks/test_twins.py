"""The Jupyter twins are real Jupyter notebooks: every output renders in JupyterLab offline (pandas tables,
Markdown, charts under JupyterLab's own Vega-Lite mimetype), the controls are a papermill ``parameters`` cell,
and the kernel prints no tqdm widget warning. Two twins are executed on synthetic-small (nbclient)."""

import json

import nbformat
import pytest
import vl_convert
from nbclient.exceptions import CellExecutionError

import workbench.twin as mo
from workbench.data.synthetic import make_ecommerce
from workbench.notebooks import execute_twin, notebooks_dir, output_problem, twin_notebook, twin_path

SMALL = "synthetic-small"
#: The Vega-Lite nearest to the 5.6 JupyterLab 4 bundles, among those vl-convert compiles with.
JUPYTERLAB_VEGALITE = "5.8"


def exported(*sources: str) -> dict:
    """A notebook as ``marimo export ipynb`` writes it: code cells, and a Markdown one for ``"# ..."``."""
    cells = [
        {"cell_type": "markdown", "id": f"c{i}", "metadata": {}, "source": text}
        if text.startswith("# ")
        else {
            "cell_type": "code",
            "execution_count": None,
            "id": f"c{i}",
            "metadata": {},
            "outputs": [],
            "source": text,
        }
        for i, text in enumerate(sources)
    ]
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def markdown_shown(notebook) -> list[str]:
    """The Markdown of every rich output of an executed notebook."""
    return [
        "".join(output["data"].get("text/markdown", ""))
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output["output_type"] in ("display_data", "execute_result")
    ]


def code_of(cell: dict) -> str:
    return "".join(cell["source"])


def test_controls_become_a_parameters_cell_and_marimo_is_not_imported():
    twin = twin_notebook(
        exported(
            "import marimo as mo\nfrom workbench.notebooks import data_choice, rerank_controls",
            "# Title",
            'dataset = mo.ui.dropdown(**data_choice())\nk = mo.ui.slider(5, 50, step=5, value=10, label="k")\n'
            'run = mo.ui.run_button(label="Go")\nmo.hstack([dataset, k, run])',
            "load(dataset.value, k.value)",
            "k2, n_candidates, n_folds = rerank_controls()\n(k2.value, n_candidates.value, n_folds.value)",
            'track = mo.ui.checkbox(label="log")\ntrack',
        )
    )
    nbformat.validate(nbformat.from_dict(twin))
    cells = twin["cells"]
    assert code_of(cells[0]).startswith("import workbench.twin as mo\n") and "marimo" not in code_of(cells[0])
    parameters = cells[2]
    assert parameters["metadata"]["tags"] == ["parameters"], "placed where the first control was"
    lines = code_of(parameters).splitlines()
    assert "k = 10  # k: 5 to 50, step 5" in lines
    assert "track = False  # log: True or False" in lines
    assert any(line.startswith("dataset = None  # ml-100k,") for line in lines)
    assert (
        "k2 = 10  # k (list length): 5 to 50, step 5" in lines
        and "n_folds = 3  # holdout folds: 2 to 5, step 1" in lines
    )
    assert not any(line.startswith("run =") for line in lines), "a run button is pressed, not a parameter"
    controls = code_of(cells[3])
    assert (
        'dataset = mo.parameter(dataset, mo.ui.dropdown(**data_choice()), name="dataset", any_value=True)' in controls
    )
    assert 'k = mo.parameter(k, mo.ui.slider(5, 50, step=5, value=10, label="k"), name="k")' in controls
    assert 'run = mo.ui.run_button(label="Go")' in controls
    assert 'mo.parameters((k2, n_candidates, n_folds), rerank_controls(), names=("k2", "n_candidates", "n_folds"))' in (
        code_of(cells[5])
    )
    assert twin["metadata"]["kernelspec"]["name"] == "python3"


def test_a_stopped_section_is_an_if_so_run_all_goes_on():
    twin = twin_notebook(
        exported(
            "import marimo as mo",
            "mo.stop(users is None)\nusers.chart",
            'mo.stop(not ready, mo.md("Press **Train**."))\nscores = ready * 2\nmo.vstack([\n    scores,\n])',
        )
    )
    quiet, told = (code_of(cell) for cell in twin["cells"][1:])
    assert quiet == "if users is not None:\n    mo.show(users.chart)"
    assert told.splitlines()[:3] == ["if not ready:", '    mo.show(mo.md("Press **Train**."))', "else:"]
    for users, ready, shown in ((None, 0, []), (type("U", (), {"chart": "drawn"}), 3, ["drawn"])):
        seen = []
        namespace = {
            "mo": type("Mo", (), {"show": staticmethod(seen.append), "md": str, "vstack": list}),
            "users": users,
        }
        exec(quiet, namespace)
        assert seen == shown
        namespace["ready"] = ready
        seen.clear()
        exec(told, namespace)
        assert seen == (["Press **Train**."] if not ready else [[6]])


def test_parameters_are_checked_against_the_control():
    assert mo.parameter(20, mo.ui.slider(5, 50, step=5, value=10, label="k"), name="k").value == 20
    assert mo.parameter(None, mo.ui.slider(5, 50, step=5, value=10, label="k"), name="k").value == 10
    with pytest.raises(ValueError, match=r"k \(k\) takes a number from 5 to 50, not 500"):
        mo.parameter(500, mo.ui.slider(5, 50, step=5, value=10, label="k"), name="k")
    users = mo.ui.dropdown(options={"7": 7, "8": 8}, value="7", label="user")
    assert mo.parameter(8, users, name="user").value == 8, "a dropdown takes its key or its value"
    with pytest.raises(ValueError, match="takes one of '7', '8'; not 9"):
        mo.parameter(9, mo.ui.dropdown(options={"7": 7, "8": 8}, value="7"), name="user")
    boxes = mo.ui.dictionary({"impute": mo.ui.checkbox(label="impute"), "merge": mo.ui.checkbox(label="merge")})
    assert mo.parameter({"impute": True}, boxes, name="cleaning").value == {"impute": True, "merge": False}
    again = mo.parameter(mo.parameter(30, mo.ui.slider(5, 50, value=10), name="k"), mo.ui.slider(5, 50, value=10))
    assert again.value == 30, "running the control cell again keeps the value it was given"
    assert mo.parameter("/data/orders.csv", mo.ui.dropdown(["ml-100k"], value="ml-100k"), any_value=True).value == (
        "/data/orders.csv"
    )


def test_charts_go_to_jupyterlabs_own_vega_lite_renderer():
    import altair as alt

    chart = alt.Chart(alt.Data(values=[{"a": 1, "b": 2}])).mark_bar().encode(x="a:Q", y="b:Q").properties(title="T")
    bundle = chart._repr_mimebundle_()
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle
    assert set(bundle) == {mo.VEGALITE_MIME, "text/plain"} and bundle["text/plain"] == "Chart: T"
    assert output_problem({"output_type": "display_data", "data": bundle}) == ""
    vl_convert.vegalite_to_vega(bundle[mo.VEGALITE_MIME], vl_version=JUPYTERLAB_VEGALITE)


def test_output_problems_are_named():
    def problem(data):
        return output_problem({"output_type": "display_data", "data": data})

    assert problem({"text/html": "<marimo-ui-element object-id='x'>", "text/plain": ""}) == "marimo element"
    assert problem({"text/html": '<script src="https://cdn.jsdelivr.net/npm/vega@6?noext"></script>'}) == "network"
    assert problem({"application/vnd.vegalite.v6.json": {}, "text/plain": "<VegaLite 6 object>"}) == "unknown mimetype"
    assert problem({"text/markdown": "  ", "text/plain": "x"}) == "blank"
    assert problem({"text/plain": "3"}) == "" and problem({"text/markdown": "**3**"}) == ""


def check_renders_offline(notebook) -> int:
    """Assert what JupyterLab shows of an executed twin renders offline; returns the number of rich outputs."""
    rich = 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            kind = output["output_type"]
            assert kind != "error", f"{output.get('ename')}: {output.get('evalue')}"
            if kind == "stream":
                assert "TqdmWarning" not in output["text"] and "IProgress" not in output["text"], output["text"]
                continue
            rich += 1
            assert output_problem(output) == "", (output_problem(output), json.dumps(output)[:400])
            vega = [mime for mime in output["data"] if "vega" in mime]
            assert vega in ([], [mo.VEGALITE_MIME]), vega
            if vega:
                vl_convert.vegalite_to_vega(dict(output["data"][mo.VEGALITE_MIME]), vl_version=JUPYTERLAB_VEGALITE)
    return rich


@pytest.mark.parametrize("name", ["03_als", "07_audit"])
def test_executed_twin_renders_offline_in_jupyterlab(name):
    notebook = execute_twin(twin_path(notebooks_dir() / f"{name}.py"), data=SMALL, parameters={"k": 5})
    assert check_renders_offline(notebook) >= 5
    shown = markdown_shown(notebook)
    assert any("`5`" in text and "`k`" in text for text in shown), "the parameter k = 5 reached the controls"
    assert any(
        mo.VEGALITE_MIME in output.get("data", {}) for cell in notebook.cells for output in cell.get("outputs", [])
    )


def test_a_parameter_out_of_range_stops_with_the_allowed_values():
    with pytest.raises(CellExecutionError, match="takes a number from 5 to 50, not 500"):
        execute_twin(twin_path(notebooks_dir() / "03_als.py"), data=SMALL, parameters={"k": 500})


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("02_coldstart", "No demographics: the data set has no users table"),
        ("09_freshness", "Fresh data does not apply: the log has no timestamp column"),
    ],
)
def test_a_twin_on_a_bare_log_says_which_sections_do_not_apply(name, said, tmp_path):
    """A log of customer-item pairs only (no users or items table, no times): Run All goes through, every output
    renders, and each section the data cannot serve says why instead of failing or showing nothing."""
    log = make_ecommerce(n_users=300, n_items=200, n_events=6000, seed=3).interactions[["user_id", "item_id"]]
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    notebook = execute_twin(twin_path(notebooks_dir() / f"{name}.py"), data=str(path))
    check_renders_offline(notebook)
    shown = markdown_shown(notebook)
    assert any(text.startswith(said) for text in shown), shown
