"""Experiment tracking: runs read back with MLflow's own client; without MLflow, None and a one-line hint."""

import sys
import warnings

import altair as alt
import pandas as pd
import pytest

from workbench.data import Dataset
from workbench.errors import ConfigError
from workbench.models import PopularityRecommender
from workbench.tracking import INSTALL_HINT, Tracker, track_run


def small_chart() -> alt.Chart:
    frame = pd.DataFrame({"trial": [0, 1, 2], "value": [0.1, 0.3, 0.2]})
    return alt.Chart(frame).mark_line().encode(x="trial:Q", y="value:Q")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One local store shared by the MLflow tests (creating its database takes a few seconds)."""
    pytest.importorskip("mlflow")
    return tmp_path_factory.mktemp("mlruns")


@pytest.fixture
def no_mlflow(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # makes `import mlflow` raise ImportError


def test_run_is_read_back_with_the_mlflow_client(store, tmp_path):
    import mlflow

    interactions = pd.DataFrame({"user_id": ["u1", "u1", "u2"], "item_id": ["a", "b", "a"]})
    model_dir = tmp_path / "model"
    PopularityRecommender().fit(Dataset.from_frames(interactions)).save(model_dir)
    params = {"factors": 87, "regularization": 12.5, "backend": "cpu"}
    metrics = {"ndcg": 0.25, "recall": 0.5}

    run_id = track_run(
        "tuned als",
        params=params,
        metrics=metrics,
        charts={"history": small_chart()},
        model_dir=model_dir,
        tracking_uri=store,
        experiment="tests",
    )

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{store / 'mlflow.db'}")
    run = client.get_run(run_id)
    assert run.info.run_name == "tuned als" and run.info.status == "FINISHED"
    assert client.get_experiment(run.info.experiment_id).name == "tests"
    assert run.data.params == {"factors": "87", "regularization": "12.5", "backend": "cpu"}
    assert run.data.metrics == metrics
    assert [a.path for a in client.list_artifacts(run_id, "charts")] == ["charts/history.svg"]
    svg = (store / "artifacts" / run_id / "artifacts" / "charts" / "history.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<svg")
    logged_model = {a.path.removeprefix("model/") for a in client.list_artifacts(run_id, "model")}
    assert logged_model == {p.name for p in model_dir.iterdir()} and "manifest.json" in logged_model
    # the model files arrive byte for byte, so the logged copy loads like the original
    copy = store / "artifacts" / run_id / "artifacts" / "model"
    assert PopularityRecommender.load(copy).recommend(["u2"], k=1)["item_id"].tolist() == ["b"]


def test_tracker_adds_runs_to_one_experiment(store):
    import mlflow

    tracker = Tracker(store, experiment="repeat")
    ids = [tracker.log_run(f"run {i}", params={"i": i}, metrics={"score": i / 10}) for i in range(2)]
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{store / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("repeat")
    found = client.search_runs([experiment.experiment_id])
    assert sorted(r.info.run_id for r in found) == sorted(ids)
    assert sorted(r.data.metrics["score"] for r in found) == [0.0, 0.1]


def test_mlflow_rejection_is_one_line_and_the_run_marked_failed(store):
    import mlflow

    with pytest.raises(ConfigError, match="tracking run 'bad'") as caught:
        track_run("bad", params={}, metrics={"ndcg@10": 0.2}, tracking_uri=store, experiment="bad names")
    assert "\n" not in str(caught.value) and "ndcg@10" in str(caught.value)
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{store / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("bad names")
    assert [r.info.status for r in client.search_runs([experiment.experiment_id])] == ["FAILED"]


def test_without_mlflow_returns_none_and_hints_once(no_mlflow, tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        first = track_run("a", params={"k": 10}, metrics={"ndcg": 0.1}, tracking_uri=tmp_path / "store")
        second = Tracker(tmp_path / "store").log_run("b", params={}, metrics={}, charts={"c": small_chart()})
    assert first is None and second is None
    assert [str(w.message) for w in caught] == [INSTALL_HINT]
    assert "\n" not in INSTALL_HINT and "pip install 'workbench[tracking]'" in INSTALL_HINT
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"params": {"layers": [1, 2]}}, r"params\['layers'\]: expected a string or a number, got list"),
        ({"metrics": {"ndcg": "high"}}, r"metrics\['ndcg'\]: expected a number, got str"),
        ({"metrics": {"ok": True}}, r"metrics\['ok'\]: expected a number, got bool"),
        ({"charts": {"history": "chart.svg"}}, r"charts\['history'\]: expected an altair chart, got str"),
        ({"model_dir": "no/such/dir"}, r"model_dir: no/such/dir is not a directory"),
        ({"name": " "}, r"run name: expected a non-empty string"),
        ({"tracking_uri": ""}, r"tracking_uri: expected a folder or an MLflow URI"),
    ],
)
def test_bad_inputs_name_the_entry_with_or_without_mlflow(no_mlflow, kwargs, message):
    call = {"name": "run", "params": {}, "metrics": {}, **kwargs}
    with pytest.raises(ConfigError, match=message):
        track_run(call.pop("name"), **call)
