"""How the re-ranker's rounds for basket holdouts were chosen: validation baskets of The Complete Journey.

The Complete Journey, households with 3 to 50 baskets (as benchmarks/next_basket.py); the test
basket (each household's last) is set aside and never read here. The validation basket is each
household's second-to-last (``next_basket_split`` of the train side). Per learning rate,
``LightGBMReranker(seed=0, n_rounds=300)`` is fitted once on the rest and its validation nDCG@10
read after 50 ... 300 rounds (``best_iteration_`` set before ``recommend``), beside buy again
and TIFU-KNN with its default settings. Writes rerank_rounds_baskets.json into benchmarks/results/.

    .venv/bin/python benchmarks/rerank_rounds_baskets.py [--rates 0.04 0.06 0.08] [--out DIR]
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings
from pathlib import Path

from _common import write_result
from next_basket import complete_journey
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from workbench.data.split import next_basket_split
from workbench.errors import FallbackWarning
from workbench.evaluation import evaluate
from workbench.models import LightGBMReranker, RepeatRecommender, TIFUKNNRecommender

K = 10
ROUNDS = (50, 100, 150, 200, 250, 300)
RESULTS = Path(__file__).parent / "results"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[0.04, 0.06, 0.08])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    train, _test = next_basket_split(complete_journey(), by="order")  # the test basket is never read
    fit, valid = next_basket_split(train, by="order")
    users = valid.interactions["user_id"].unique()
    results: dict = {"protocol": __doc__.split("\n\n")[1].replace("\n", " "), "python": platform.python_version()}
    with threadpool_limits(1, "blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        for name, model in (("buy again", RepeatRecommender()), ("TIFU-KNN", TIFUKNNRecommender())):
            recs = model.fit(fit).recommend(users, k=K, exclude_seen=False)
            results[name] = evaluate(recs, valid, k=K)["ndcg"]
        results["re-ranker"] = {}
        for rate in tqdm(args.rates, desc="learning rates"):
            start = time.perf_counter()
            model = LightGBMReranker(seed=0, n_rounds=max(ROUNDS), learning_rate=rate).fit(fit)
            seconds = time.perf_counter() - start
            by_rounds = {}
            for rounds in ROUNDS:
                model.best_iteration_ = rounds
                recs = model.recommend(users, k=K, exclude_seen=False)
                by_rounds[rounds] = evaluate(recs, valid, k=K)["ndcg"]
            results["re-ranker"][str(rate)] = {"validation_ndcg": by_rounds, "fit_s": seconds}
    write_result(args.out, "rerank_rounds_baskets.json", results)
    return results


if __name__ == "__main__":
    out = main()
    print({name: out[name] for name in ("buy again", "TIFU-KNN")})
    for rate, row in out["re-ranker"].items():
        print(rate, {r: round(v, 4) for r, v in row["validation_ndcg"].items()}, f"fit {row['fit_s']:.0f} s")
