"""Charts of analysis results (workbench.report.analysis_charts), drawn from what the analysis functions return."""

import altair as alt
import numpy as np
import optuna
import pandas as pd
import pytest
from reference import residual_pairs

from workbench.analysis.bandits import simulate_bandits
from workbench.analysis.experiment import peeking_curve
from workbench.analysis.explain import global_importance
from workbench.analysis.residuals import calibration_curve, residuals_by_segment
from workbench.errors import ConfigError, DataError, ModelError
from workbench.report.analysis_charts import (
    bandit_chart,
    beeswarm_chart,
    calibration_chart,
    dependence_chart,
    drift_chart,
    freshness_chart,
    history_chart,
    importance_chart,
    peeking_chart,
    residual_chart,
    waterfall_chart,
)


# -- residuals ------------------------------------------------------------------------
def test_residual_and_calibration_charts_draw():
    table = residual_pairs()
    by = residuals_by_segment(table, "gender", n_boot=50, seed=0)
    chart = residual_chart(by, "gender")
    assert isinstance(chart, alt.LayerChart) and "gender" in chart.to_dict()["title"]
    assert isinstance(calibration_chart(calibration_curve(table, n_bins=2)), alt.LayerChart)
    with pytest.raises(DataError, match="segment 'age'"):
        residual_chart(by, "age")
    with pytest.raises(DataError, match="calibration_chart: no column 'bin'"):
        calibration_chart(pd.DataFrame({"predicted": [0.1]}))


# -- SHAP explanations ----------------------------------------------------------------
def test_waterfall_ends_at_the_score(contrib):
    chart = waterfall_chart(contrib.iloc[3], max_features=1)
    frame = chart.data
    assert isinstance(chart, alt.Chart)
    assert frame["feature"].tolist() == ["als", "other features"]
    assert frame["end"].iloc[-1] == pytest.approx(0.1 + 2.0 + 0.0)
    assert frame["start"].iloc[0] == pytest.approx(0.1)
    chart.to_dict()  # a valid Vega-Lite spec


def test_beeswarm_and_dependence(contrib):
    values = contrib[["user_id", "item_id"]].assign(pop=[10.0, 20.0, 30.0, 40.0], als=[1.0, 2.0, 3.0, 4.0])
    swarm = beeswarm_chart(contrib, values)
    assert len(swarm.data) == 8 and swarm.data["value_percentile"].between(0, 1).all()
    swarm.to_dict()
    dep = dependence_chart(contrib, values, "pop")
    assert dep.data["value"].tolist() == [10.0, 20.0, 30.0, 40.0]
    dep.to_dict()
    with pytest.raises(ConfigError):
        dependence_chart(contrib, values, "nope")


def test_charts_are_sampled_under_5000_rows():
    rng = np.random.default_rng(0)
    big = pd.DataFrame(
        {
            "user_id": np.arange(20_000),
            "item_id": 0,
            "base_value": 0.0,
            "f1": rng.normal(size=20_000),
            "f2": rng.normal(size=20_000),
        }
    )
    assert len(beeswarm_chart(big).data) <= 5000
    assert len(dependence_chart(big, big, "f1").data) <= 5000


def test_real_charts_stay_small(explained_reranker):
    contrib, values, recs = explained_reranker.contrib, explained_reranker.values, explained_reranker.recs
    top = global_importance(contrib)["feature"].iloc[0]
    feature = top if top in values.columns else "item_popularity"
    many = pd.concat([contrib] * 5, ignore_index=True)  # 6,000 rows: over the limit
    many_values = pd.concat([values] * 5, ignore_index=True)
    for chart in (
        beeswarm_chart(many, many_values),
        dependence_chart(many, many_values, feature),
        waterfall_chart(contrib.iloc[0]),
    ):
        assert len(chart.data) <= 5000
        chart.to_dict()
    swarm = beeswarm_chart(contrib, values, max_features=4)
    assert swarm.data["feature"].nunique() == 4
    assert len(swarm.data) == 4 * len(contrib)  # 1,200 rows x 4 features: no sampling under the limit
    end = waterfall_chart(contrib.iloc[0]).data["end"].iloc[-1]
    assert end == pytest.approx(recs["score"].iloc[0], abs=1e-4)


# -- experiments: peeking and bandits -------------------------------------------------
def test_peeking_chart_has_the_curve_and_the_alpha_rule():
    curve = peeking_curve((1, 5), n_sims=200, n_per_arm=200, seed=0)
    spec = peeking_chart(curve).to_dict()
    assert len(spec["layer"]) == 2
    with pytest.raises(DataError, match="peeking_curve"):
        peeking_chart(curve.drop(columns="alpha"))


def test_bandit_chart_has_reward_and_regret_panels():
    rng = np.random.default_rng(0)
    users = pd.Index([f"u{i}" for i in range(1000)], name="user_id")
    rates = {"pop": 0.05, "als": 0.40, "rerank": 0.15}
    rewards = pd.DataFrame({arm: (rng.random(1000) < p).astype(float) for arm, p in rates.items()}, index=users)
    spec = bandit_chart(simulate_bandits(rewards, seed=0), max_points=100).to_dict()
    assert len(spec["hconcat"]) == 2
    data = next(iter(spec["datasets"].values()))
    assert len(data) == 3 * 100


# -- drift and freshness over time ----------------------------------------------------
def windows(**columns) -> pd.DataFrame:
    start = pd.date_range("2024-01-01", periods=3, freq="7D")
    return pd.DataFrame({"start": start, "n_events": [10, 12, 9], "n_users": [4, 5, 3], **columns})


def test_drift_chart_has_threshold_rule():
    table = windows(popularity_psi=[0.0, 0.3, 0.1])
    spec = drift_chart(table, "popularity_psi").to_dict()
    assert len(spec["layer"]) == 2 and "PSI" in spec["title"]
    with pytest.raises(ConfigError, match="signal"):
        drift_chart(table, "nope")


def test_freshness_chart_one_line_per_strategy():
    table = pd.concat([windows(hit_rate=[0.1, 0.2, 0.3]).assign(strategy=s) for s in ("frozen", "refit")])
    spec = freshness_chart(table, metric="hit_rate", k=5).to_dict()
    assert spec["title"] == "Hit rate@5 per window" and spec["encoding"]["color"]["field"] == "strategy"
    with pytest.raises(ConfigError, match="metric"):
        freshness_chart(table, metric="auc")


# -- tuning studies -------------------------------------------------------------------
@pytest.fixture(scope="module")
def study() -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(lambda t: -((t.suggest_float("x", -2, 2) - 1) ** 2) + 0.1 * t.suggest_int("n", 1, 3), n_trials=8)
    return study


def test_history_and_importance_charts(study):
    history = history_chart(study).to_dict()
    data = next(iter(history["datasets"].values()))
    values = [row["value"] for row in data]
    assert len(data) == 8 and [row["best_so_far"] for row in data] == list(np.maximum.accumulate(values))
    rows = next(iter(importance_chart(study, seed=0).to_dict()["datasets"].values()))
    assert {row["parameter"] for row in rows} == {"x", "n"}
    assert sum(row["importance"] for row in rows) == pytest.approx(1.0)
    with pytest.raises(ModelError, match="no completed trials"):
        history_chart(optuna.create_study(direction="maximize"))
