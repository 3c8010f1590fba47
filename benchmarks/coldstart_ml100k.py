"""Cold users on MovieLens-100K: popularity, demographic clusters and ridge favourites, with onboarding.

Per split seed, 20% of users are held out with all their interactions
(``cold_user_split(ds, fraction=0.2, seed=...)``); their demographics stay in
``ds.users``, so ClusterColdStart (kmeans, n_clusters chosen on warm users)
places them in a cluster. Two cold-start models: ``clusters`` (the default, each
cluster's favourites) and ``ridge`` (``favourites="ridge"``: a ridge regression of
the item columns on the demographics, its penalty chosen on warm users held out
as if cold). The goal (>= 1.05x popularity on demographics only) is measured on
``ridge``. Compared on nDCG@10:

- demographics only: popularity vs each model on every interaction of the cold users;
- onboarding with 1 and 3 first interactions: each cold user's first 1 or 3 items
  by timestamp are revealed (``workbench.analysis.onboarding.reveal_first``) and every
  model is scored on the same remaining items (popularity and the models never list
  the revealed items again); <model> + n first is ``recommend_onboarded``;
- picks (simulated): each cold user "picks" the 2 genres most frequent among all
  their interactions, a stand-in for a sign-up genre question (it reads the user's
  taste from their log, so it is an upper bound on what a real question gives).

For each model: the per-seed mean, the mean over seeds with a 95% t-interval
(seeds share users, so the interval is indicative), the lift over popularity and
the per-user paired difference with popularity (``workbench.analysis.experiment.compare``,
bootstrap interval per seed). Onboarding weights are measured for each model on a
separate tuning split (seed 100, not among the evaluation seeds): ``item_weight``
with 3 first items, ``pick_weight`` with picks alone.

    python benchmarks/coldstart_ml100k.py [--out DIR] [--seeds 0 1 2 3 4]
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from _common import write_result

from workbench.analysis.experiment import compare
from workbench.analysis.onboarding import onboarding_per_user, reveal_first
from workbench.analysis.stats import t_interval
from workbench.data import load_movielens_100k
from workbench.data.split import cold_user_split
from workbench.errors import FallbackWarning
from workbench.evaluation import evaluate_per_user
from workbench.models import ClusterColdStart, PopularityRecommender
from workbench.models.onboarding import ITEM_WEIGHT, PICK_WEIGHT

RESULTS = Path(__file__).parent / "results"
K = 10
GOAL = 1.05
FRACTION = 0.2
TUNING_SEED = 100
ITEM_GRID = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
PICK_GRID = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
N_PICKS = 2
#: The cold-start models compared: name -> ClusterColdStart options (besides kmeans, seed 0).
MODELS = {"clusters": {}, "ridge": {"favourites": "ridge"}}
#: The model the goal is measured on.
GOAL_MODEL = "ridge"


def simulated_picks(ds, truth: pd.DataFrame, n: int = N_PICKS) -> dict:
    """Each user's ``n`` most frequent genres among their interactions in ``truth`` (ties: alphabetical)."""
    genres = ds.items["genres"].reindex(truth["item_id"]).astype("string").str.split("|")
    pairs = pd.DataFrame({"user_id": truth["user_id"].to_numpy(), "genre": genres.to_numpy()}).explode("genre")
    counts = pairs.groupby(["user_id", "genre"]).size().rename("count").reset_index()
    counts = counts.sort_values(["user_id", "count", "genre"], ascending=[True, False, True])
    return counts.groupby("user_id").head(n).groupby("user_id")["genre"].agg(list).to_dict()


def fit_models(train) -> tuple[PopularityRecommender, dict[str, ClusterColdStart], dict[str, float]]:
    """Popularity and each model of :data:`MODELS` fitted on ``train``, with each model's fit seconds."""
    models, seconds = {}, {}
    for name, options in MODELS.items():
        start = time.perf_counter()
        models[name] = ClusterColdStart(method="kmeans", seed=0, **options).fit(train)
        seconds[name] = time.perf_counter() - start
    return PopularityRecommender().fit(train), models, seconds


def demographics_only(popularity, models, test) -> dict[str, pd.DataFrame]:
    users = test.interactions["user_id"].unique()
    recs = {"popularity": popularity.recommend(users, k=K)}
    recs |= {name: model.recommend(users, k=K) for name, model in models.items()}
    return {name: evaluate_per_user(frame, test, k=K) for name, frame in recs.items()}


def with_picks(model, test, picks, first_n: int = 0) -> pd.DataFrame:
    """Per-user nDCG of a model + simulated picks (and the first ``first_n`` items when > 0)."""
    first, rest = reveal_first(test, first_n) if first_n else ({}, test.interactions)
    users = rest["user_id"].unique()
    chosen = {u: picks[u] for u in users if u in picks}
    recs = model.recommend_onboarded(users, first_items=first or None, picks=chosen, k=K)
    return evaluate_per_user(recs, rest, k=K)


def mean_ci(values) -> dict:
    """Mean and 95% t-interval over seeds."""
    mean, low, high = t_interval(values)
    return {"mean": mean, "ci_low": low, "ci_high": high}


def tune(ds) -> dict:
    """nDCG@10 of each model + onboarding over the weight grids, on the tuning split."""
    train, test = cold_user_split(ds, fraction=FRACTION, seed=TUNING_SEED)
    popularity, models, _ = fit_models(train)
    picks = simulated_picks(ds, test.interactions)
    result = {"split_seed": TUNING_SEED, "defaults": {"item_weight": ITEM_WEIGHT, "pick_weight": PICK_WEIGHT}}
    for name, model in models.items():
        item_rows, pick_rows = [], []
        for weight in ITEM_GRID:
            model.item_weight = weight
            table = onboarding_per_user(model, popularity, test, n=3, k=K)[f"{name} + 3 first"]
            item_rows.append({"item_weight": weight, "ndcg": float(table["ndcg"].mean())})
        model.item_weight = ITEM_WEIGHT
        for weight in PICK_GRID:
            model.pick_weight = weight
            pick_rows.append({"pick_weight": weight, "ndcg": float(with_picks(model, test, picks)["ndcg"].mean())})
        model.pick_weight = PICK_WEIGHT
        result[name] = {
            "item_weight": item_rows,
            "pick_weight": pick_rows,
            "best_item_weight": max(item_rows, key=lambda r: r["ndcg"])["item_weight"],
            "best_pick_weight": max(pick_rows, key=lambda r: r["ndcg"])["pick_weight"],
        }
    return result


def run_split(ds, seed: int) -> dict:
    train, test = cold_user_split(ds, fraction=FRACTION, seed=seed)
    popularity, models, fit_seconds = fit_models(train)
    picks = simulated_picks(ds, test.interactions)
    settings = {"demographics": demographics_only(popularity, models, test), "first_1": {}, "first_3": {}}
    for name, model in models.items():
        for n in (1, 3):
            settings[f"first_{n}"] |= onboarding_per_user(model, popularity, test, n=n, k=K)
        settings["demographics"][f"{name} + picks"] = with_picks(model, test, picks)
        settings["first_3"][f"{name} + 3 first + picks"] = with_picks(model, test, picks, first_n=3)
    row = {
        "split_seed": seed,
        "n_clusters": models["clusters"].n_clusters_,
        "ridge_penalty": models["ridge"].ridge_penalty_,
        "fit_seconds": fit_seconds,
        "settings": {},
    }
    for setting, per_user in settings.items():
        base = per_user["popularity"]
        entry = {"users": len(base), "popularity_ndcg": float(base["ndcg"].mean()), "models": {}}
        for name, table in per_user.items():
            if name == "popularity":
                continue
            paired = compare(base, table, metric="ndcg", seed=0)
            entry["models"][name] = {
                "ndcg": paired.mean_b,
                "lift": paired.mean_b / paired.mean_a,
                "diff": paired.diff,
                "diff_ci_low": paired.ci_low,
                "diff_ci_high": paired.ci_high,
                "p_ttest": paired.p_ttest,
            }
        row["settings"][setting] = entry
    demographics = settings["demographics"]
    paired = compare(demographics["clusters"], demographics[GOAL_MODEL], metric="ndcg", seed=0)
    row["goal_model_vs_clusters"] = {
        "diff": paired.diff,
        "diff_ci_low": paired.ci_low,
        "diff_ci_high": paired.ci_high,
        "p_ttest": paired.p_ttest,
    }
    return row


def summarise(runs: list[dict]) -> dict:
    summary = {}
    for setting in runs[0]["settings"]:
        entries = [r["settings"][setting] for r in runs]
        block = {"popularity_ndcg": mean_ci([e["popularity_ndcg"] for e in entries])}
        for name in entries[0]["models"]:
            models = [e["models"][name] for e in entries]
            block[name] = {
                "ndcg": mean_ci([m["ndcg"] for m in models]),
                "lift": mean_ci([m["lift"] for m in models]),
                "diff": mean_ci([m["diff"] for m in models]),
                "seeds_with_diff_ci_above_zero": int(sum(m["diff_ci_low"] > 0 for m in models)),
            }
        summary[setting] = block
    versus = [r["goal_model_vs_clusters"] for r in runs]
    summary["goal_model_vs_clusters_demographics"] = {
        "diff": mean_ci([v["diff"] for v in versus]),
        "seeds_with_diff_ci_above_zero": int(sum(v["diff_ci_low"] > 0 for v in versus)),
    }
    summary["meets_goal_demographics"] = bool(summary["demographics"][GOAL_MODEL]["lift"]["mean"] >= GOAL)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    args = parser.parse_args(argv)

    start = time.perf_counter()
    warnings.simplefilter("ignore", FallbackWarning)  # every cold user is unknown to the models, by design
    ds = load_movielens_100k()
    tuning = tune(ds)
    runs = [run_split(ds, seed) for seed in args.seeds]
    summary = summarise(runs)
    result = {
        "benchmark": "coldstart_ml100k",
        "k": K,
        "goal_lift_demographics": GOAL,
        "goal_model": f"{GOAL_MODEL}: ClusterColdStart(method='kmeans', seed=0, **{MODELS[GOAL_MODEL]})",
        "split": f"cold_user_split(ds, fraction={FRACTION}, seed=split_seed)",
        "onboarding": "first n items by timestamp revealed; all models scored on the remaining items",
        "picks": f"simulated: each cold user's {N_PICKS} most frequent genres among their interactions",
        "interval": "95% t-interval over split seeds; per-seed paired differences with bootstrap intervals",
        "seeds": args.seeds,
        "summary": summary,
        "tuning": tuning,
        "runs": runs,
        "seconds": time.perf_counter() - start,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "sklearn": sklearn.__version__,
    }
    write_result(args.out, "coldstart_ml100k.json", result)

    def fmt(ci: dict) -> str:
        return f"{ci['mean']:.4f} [{ci['ci_low']:.4f}, {ci['ci_high']:.4f}]"

    for name in MODELS:
        print(f"tuning {name} (seed {TUNING_SEED}): {tuning[name]['item_weight']}\n  {tuning[name]['pick_weight']}")
    for run in runs:
        parts = []
        for setting, entry in run["settings"].items():
            models = ", ".join(
                f"{name} {m['ndcg']:.4f} ({m['lift']:.3f}x, diff {m['diff']:+.4f} "
                f"[{m['diff_ci_low']:+.4f}, {m['diff_ci_high']:+.4f}])"
                for name, m in entry["models"].items()
            )
            parts.append(f"  {setting} ({entry['users']} users): popularity {entry['popularity_ndcg']:.4f}; {models}")
        head = f"split seed {run['split_seed']} ({run['n_clusters']} clusters, ridge penalty {run['ridge_penalty']:g})"
        print(f"{head}:\n" + "\n".join(parts))
    for setting, block in summary.items():
        if not isinstance(block, dict) or "popularity_ndcg" not in block:
            continue
        print(f"{setting}: popularity {fmt(block['popularity_ndcg'])}")
        for name, m in block.items():
            if name != "popularity_ndcg":
                print(f"  {name}: nDCG {fmt(m['ndcg'])}, lift {fmt(m['lift'])}, diff {fmt(m['diff'])}")
    versus = summary["goal_model_vs_clusters_demographics"]
    print(f"{GOAL_MODEL} - clusters, demographics only: {fmt(versus['diff'])} (per-user paired, mean over seeds)")
    print(f"goal {GOAL}x with demographics only ({GOAL_MODEL}) met: {summary['meets_goal_demographics']}")
    print(f"{result['seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
