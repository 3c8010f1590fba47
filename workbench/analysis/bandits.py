"""Multi-armed bandits choosing among recommenders, replayed on held-out interactions.

Each arm is a recommender; the reward of an arm for a user is that user's
per-user metric under it (e.g. ``hit_rate`` from
:func:`workbench.evaluation.evaluate_per_user`). Users arrive in a seeded
random order and each policy picks one arm per arriving user. Regret is the
pseudo-regret against the best arm in hindsight: the sum over steps of
(best arm's mean reward - the chosen arm's mean reward), so it never falls.

>>> rewards = rewards_table({"pop": per_user_pop, "als": per_user_als}, metric="hit_rate")  # doctest: +SKIP
>>> simulate_bandits(rewards, seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.errors import ConfigError, DataError
from workbench.guards import positive_int

POLICIES = ("epsilon_greedy", "ucb1", "thompson", "random")


def rewards_table(per_user: Mapping[str, pd.DataFrame], *, metric: str = "hit_rate") -> pd.DataFrame:
    """One column per arm (recommender name), indexed by user_id, from per-user metric tables.

    Only users present in every table are kept.

    >>> rewards_table({"a": pd.DataFrame({"user_id": [1], "hit_rate": [1.0]})}).to_dict("list")
    {'a': [1.0]}
    """
    columns = {}
    for name, frame in per_user.items():
        table = frame.set_index(C.USER) if C.USER in frame.columns else frame
        if metric not in table.columns:
            raise DataError(f"rewards_table: arm {name!r} has no column {metric!r}")
        columns[name] = table[metric]
    if not columns:
        raise DataError("rewards_table: no arms given")
    return pd.concat(columns, axis=1, join="inner").rename_axis(C.USER)


def _reward_matrix(rewards: pd.DataFrame) -> np.ndarray:
    if not isinstance(rewards, pd.DataFrame) or rewards.shape[1] < 2 or len(rewards) == 0:
        raise DataError("rewards: expected a DataFrame with one row per user and at least 2 arm columns")
    values = rewards.drop(columns=C.USER, errors="ignore")
    try:
        matrix = values.to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError("rewards: every arm column must be numeric") from None
    if np.isnan(matrix).any() or (matrix < 0).any() or (matrix > 1).any():
        raise DataError("rewards: values must lie in [0, 1] with no missing values (e.g. hit_rate or ndcg)")
    return matrix


def _run_policy(policy: str, rewards: np.ndarray, *, epsilon: float, rng: np.random.Generator) -> np.ndarray:
    """Arm chosen at each step (row of ``rewards`` in arrival order)."""
    n_steps, n_arms = rewards.shape
    if policy == "random":
        return rng.integers(0, n_arms, size=n_steps)
    chosen = np.empty(n_steps, dtype=np.int64)
    pulls = np.zeros(n_arms)
    totals = np.zeros(n_arms)
    # random draws made up front; tiny noise breaks ties between equal estimates at random
    noise = rng.random((n_steps, n_arms)) * 1e-9
    explore = rng.random(n_steps) < epsilon
    random_arm = rng.integers(0, n_arms, size=n_steps)
    coin = rng.random(n_steps)  # Thompson on [0, 1] rewards: a success with probability = reward
    for t in range(n_steps):
        if policy == "thompson":
            arm = int(np.argmax(rng.beta(1.0 + totals, 1.0 + pulls - totals)))
        elif t < n_arms:
            arm = t  # epsilon-greedy and UCB1 start by playing each arm once
        elif policy == "ucb1":
            arm = int(np.argmax(totals / pulls + np.sqrt(2.0 * np.log(t) / pulls) + noise[t]))
        else:
            arm = int(random_arm[t]) if explore[t] else int(np.argmax(totals / pulls + noise[t]))
        reward = rewards[t, arm]
        chosen[t] = arm
        pulls[arm] += 1.0
        totals[arm] += float(coin[t] < reward) if policy == "thompson" else reward
    return chosen


def simulate_bandits(
    rewards: pd.DataFrame,
    *,
    policies: Sequence[str] = ("epsilon_greedy", "ucb1", "thompson"),
    n_steps: int | None = None,
    epsilon: float = 0.1,
    seed: int = 0,
) -> pd.DataFrame:
    """Replay bandit policies on per-user rewards (rows: users, columns: arms, values in [0, 1]).

    Users arrive in a seeded random order (the same for every policy); with
    ``n_steps`` above the number of users, further shuffled passes follow.
    Policies: ``epsilon_greedy``, ``ucb1``, ``thompson`` (Beta-Bernoulli; a
    fractional reward r counts as a success with probability r) and
    ``random`` (uniform, a baseline). Returns a tidy frame ``step, policy,
    arm, reward, cumulative_reward, cumulative_regret`` (step 1..n_steps).

    >>> rewards = pd.DataFrame({"pop": [0.0, 1.0, 0.0], "als": [1.0, 1.0, 0.0]})
    >>> simulate_bandits(rewards, policies=["ucb1"], seed=0)["arm"].tolist()
    ['pop', 'als', 'als']
    """
    unknown = [p for p in policies if p not in POLICIES]
    if unknown or not policies:
        raise ConfigError(f"policies must be chosen from {POLICIES}, got {list(policies)!r}")
    if not 0.0 <= epsilon <= 1.0:
        raise ConfigError(f"epsilon must be between 0 and 1, got {epsilon!r}")
    matrix = _reward_matrix(rewards)
    arms = np.asarray(rewards.drop(columns=C.USER, errors="ignore").columns, dtype=object)
    n_users = len(matrix)
    n_steps = positive_int(n_users if n_steps is None else n_steps, "n_steps")
    seeds = np.random.SeedSequence(seed).spawn(len(policies) + 1)
    order_rng = np.random.default_rng(seeds[0])
    n_passes = -(-n_steps // n_users)
    order = np.concatenate([order_rng.permutation(n_users) for _ in range(n_passes)])[:n_steps]
    arrivals = matrix[order]
    arm_means = matrix.mean(axis=0)

    frames = []
    for policy, policy_seed in zip(policies, seeds[1:], strict=False):
        chosen = _run_policy(policy, arrivals, epsilon=epsilon, rng=np.random.default_rng(policy_seed))
        reward = arrivals[np.arange(n_steps), chosen]
        frames.append(
            pd.DataFrame(
                {
                    "step": np.arange(1, n_steps + 1),
                    "policy": policy,
                    "arm": arms[chosen],
                    "reward": reward,
                    "cumulative_reward": np.cumsum(reward),
                    "cumulative_regret": np.cumsum(arm_means.max() - arm_means[chosen]),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def policy_summary(result: pd.DataFrame, best_arm: str) -> pd.DataFrame:
    """A row per policy of :func:`simulate_bandits`: ``mean_reward``, final ``regret`` and
    ``share_best_arm`` (share of steps that served ``best_arm``).

    >>> result = simulate_bandits(pd.DataFrame({"pop": [0.0, 1.0], "als": [1.0, 1.0]}), policies=["ucb1"], seed=0)
    >>> policy_summary(result, "als").columns.tolist()
    ['mean_reward', 'regret', 'share_best_arm']
    """
    missing = [c for c in ("policy", "arm", "reward", "cumulative_regret") if c not in result.columns]
    if missing:
        raise DataError(f"policy_summary: column '{missing[0]}' is missing; pass the output of simulate_bandits")
    return (
        result.assign(served_best=result["arm"] == best_arm)
        .groupby("policy")
        .agg(
            mean_reward=("reward", "mean"), regret=("cumulative_regret", "max"), share_best_arm=("served_best", "mean")
        )
    )
