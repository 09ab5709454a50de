"""Stylized-fact verdicts rest on at least MIN_SAMPLE samples; below, ``too short (n=...)``."""

from __future__ import annotations

import numpy as np
import pytest

from lobsim.analysis import verdicts

RNG = np.random.default_rng(7)
N = verdicts.MIN_SAMPLE
IID = RNG.standard_normal(1000)


def assert_too_short(fact: verdicts.Fact, n: int) -> None:
    assert fact.holds is None
    assert fact.verdict == f"too short (n={n})"


def test_min_sample_is_thirty():
    assert N == 30


@pytest.mark.parametrize("build", [
    lambda x: verdicts.no_autocorrelation(x, 60),
    lambda x: verdicts.volatility_clustering(x, 60),
    lambda x: verdicts.heavy_tails({60.0: x}),
    lambda x: verdicts.trade_sign_memory(np.sign(x)),
], ids=["no_autocorrelation", "volatility_clustering", "heavy_tails", "trade_sign_memory"])
def test_series_facts_need_min_sample_points(build):
    for n in (0, 1, N - 1):
        assert_too_short(build(IID[:n]), n)
    fact = build(IID[:N])
    assert fact.holds is not None and fact.n == N
    assert fact.verdict in ("holds", "does not hold")


def test_heavy_tails_judges_at_the_shortest_horizon_with_enough_returns():
    fact = verdicts.heavy_tails({1.0: IID[:N - 1], 60.0: RNG.standard_t(3, 5000)})
    assert fact.holds is True and fact.n == 5000


def test_impact_needs_min_sample_market_orders():
    sizes, means = np.array([1.0, 2.0]), np.array([0.5, 0.8])
    assert_too_short(verdicts.impact_fact(sizes, means, np.array([20, N - 1 - 20])), N - 1)
    assert verdicts.impact_fact(sizes, means, np.array([20, N - 20])).verdict == "holds"


def test_imbalance_needs_min_sample_points_on_each_side():
    imbalance = np.r_[np.full(N, 0.8), np.full(N - 1, -0.8)]
    moves = np.r_[np.ones(N), -np.ones(N - 1)]
    assert_too_short(verdicts.imbalance_fact(imbalance, moves), N - 1)
    assert verdicts.imbalance_fact(np.r_[imbalance, -0.8], np.r_[moves, -1]).verdict == "holds"


def test_two_horizon_facts_ignore_horizons_with_too_few_returns():
    kurtosis = {1.0: 8.0, 100.0: 0.1}
    assert verdicts.aggregational_gaussianity(kurtosis, None, {1.0: 1000, 100.0: N}).verdict == "holds"
    assert_too_short(verdicts.aggregational_gaussianity(kurtosis, None, {1.0: 1000, 100.0: N - 1}), N - 1)
    rv = np.array([1.0, 1.1])
    assert verdicts.signature_fact([1.0, 100.0], rv, {1.0: 1000, 100.0: N}).verdict == "holds"
    assert_too_short(verdicts.signature_fact([1.0, 100.0], rv, {1.0: 1000, 100.0: 3}), 3)
