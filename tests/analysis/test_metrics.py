"""Stylized-fact measures (lobsim.analysis.metrics) and verdicts (lobsim.analysis.verdicts) on
series whose answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lobsim.analysis import metrics, verdicts


def rng(seed: int = 12345) -> np.random.Generator:
    """A fresh stream per test: a test's draws never depend on which tests ran before."""
    return np.random.default_rng(seed)


def garch(n: int, omega=1e-6, alpha=0.15, beta=0.8, seed=1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    r, var = np.empty(n), omega / (1 - alpha - beta)
    for i in range(n):
        r[i] = math.sqrt(var) * rng.standard_normal()
        var = omega + alpha * r[i] ** 2 + beta * var
    return r


def ar1(n: int, phi: float, seed=2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.empty(n)
    x[0] = 0
    for i in range(1, n):
        x[i] = phi * x[i - 1] + rng.standard_normal()
    return x


def test_excess_kurtosis_known_distributions():
    RNG = rng()
    n = 400_000
    assert metrics.excess_kurtosis(RNG.standard_normal(n)) == pytest.approx(0, abs=0.05)
    assert metrics.excess_kurtosis(RNG.uniform(size=n)) == pytest.approx(-1.2, abs=0.02)
    assert metrics.excess_kurtosis(RNG.laplace(size=n)) == pytest.approx(3.0, abs=0.2)
    assert math.isnan(metrics.excess_kurtosis(np.ones(100)))
    assert math.isnan(metrics.excess_kurtosis(np.arange(metrics.MIN_RETURNS - 1)))


def test_autocorrelation_exact_and_ar1():
    alternating = np.array([1.0, -1.0] * 50)
    acf = metrics.autocorrelation(alternating, [0, 1, 2])
    assert acf == pytest.approx([1.0, -0.99, 0.98])
    acf = metrics.autocorrelation(ar1(100_000, 0.5), [1, 2, 3])
    assert acf == pytest.approx([0.5, 0.25, 0.125], abs=0.02)
    assert np.isnan(metrics.autocorrelation(np.ones(10), [1])).all()
    assert np.isnan(metrics.autocorrelation(np.arange(5.0), [7])).all()


def test_sampling_and_returns():
    t = np.array([10, 20, 30])
    assert metrics.sample_last(t, np.array([1.0, 2.0, 3.0]), np.array([5, 10, 25, 99])) == pytest.approx(
        [np.nan, 1.0, 2.0, 3.0], nan_ok=True)
    assert metrics.forward_fill(np.array([np.nan, 1, np.nan, 2])) == pytest.approx([np.nan, 1, 1, 2], nan_ok=True)
    # log price rising 0.01 per second, sampled every 2 s: every return is 0.02
    times = np.arange(0, 101) * metrics.NS_PER_SECOND
    r = metrics.horizon_returns(times, np.exp(0.01 * np.arange(101)), 2.0, 0, 100 * metrics.NS_PER_SECOND)
    assert len(r) == 50 and r == pytest.approx(np.full(50, 0.02))


def test_volatility_signature_flat_for_a_random_walk_and_not_with_noise():
    RNG = rng()
    n, sigma = 20_000, 1e-3
    times = np.arange(n) * metrics.NS_PER_SECOND
    walk = np.exp(np.cumsum(sigma * RNG.standard_normal(n)))
    intervals = [1, 5, 25]
    rv = metrics.volatility_signature(times, walk, intervals, 0, times[-1])
    assert rv == pytest.approx(np.full(3, sigma ** 2), rel=0.15)
    assert verdicts.signature_fact(intervals, rv).holds is True
    noisy = walk * np.exp(3 * sigma * RNG.standard_normal(n))  # microstructure noise
    rv = metrics.volatility_signature(times, noisy, intervals, 0, times[-1])
    fact = verdicts.signature_fact(intervals, rv)
    assert fact.holds is False and rv[0] > 5 * rv[-1]


def test_heavy_tails_and_aggregational_gaussianity():
    RNG = rng()
    assert verdicts.heavy_tails({60.0: RNG.standard_t(3, 5000)}).holds is True
    assert verdicts.heavy_tails({60.0: RNG.standard_normal(5000)}).holds is False
    fact = verdicts.heavy_tails({60.0: np.zeros(3), 300.0: RNG.standard_normal(10)})
    assert fact.holds is None and "n/a" in fact.value
    assert verdicts.aggregational_gaussianity({1.0: 8.0, 10.0: 2.0, 100.0: 0.1}).holds is True
    assert verdicts.aggregational_gaussianity({1.0: 0.1, 100.0: 3.0}).holds is False
    assert verdicts.aggregational_gaussianity({1.0: 3.0, 100.0: math.nan}).holds is None


def test_autocorrelation_facts():
    RNG = rng()
    iid = RNG.standard_normal(5000)
    assert verdicts.no_autocorrelation(iid, 60).holds is True
    assert verdicts.no_autocorrelation(ar1(5000, 0.5), 60).holds is False
    assert verdicts.no_autocorrelation(iid[:5], 60).holds is None
    assert verdicts.volatility_clustering(garch(5000), 60).holds is True
    assert verdicts.volatility_clustering(iid, 60).holds is False


def test_trade_sign_memory():
    RNG = rng()
    iid = RNG.choice([-1.0, 1.0], 5000)
    assert verdicts.trade_sign_memory(iid).holds is False
    # metaorders: runs of one sign with heavy-tailed lengths give long memory
    lengths = np.minimum(RNG.pareto(1.5, 800).astype(int) + 1, 200)
    runs = np.repeat(RNG.choice([-1.0, 1.0], len(lengths)), lengths)
    assert verdicts.trade_sign_memory(runs).holds is True


def test_queue_imbalance_and_next_move():
    RNG = rng()
    assert metrics.queue_imbalance(np.array([3, 0, 1, 0]), np.array([1, 2, 1, 0])) == pytest.approx(
        [0.5, -1.0, 0.0, np.nan], nan_ok=True)
    assert metrics.next_move(np.array([1, 1, 2, 2, 1, 1, 1.0])).tolist() == [1, 1, -1, -1, 0, 0, 0]
    imbalance = RNG.uniform(-1, 1, 20_000)
    moves = np.where(RNG.uniform(size=20_000) < (1 + imbalance) / 2, 1.0, -1.0)  # P(up) = (1 + I) / 2
    binned = metrics.imbalance_next_move(imbalance, moves, bins=4)
    assert binned.means == pytest.approx([0.125, 0.375, 0.625, 0.875], abs=0.03)
    assert verdicts.imbalance_fact(imbalance, moves).holds is True
    assert verdicts.imbalance_fact(imbalance, RNG.choice([-1.0, 1.0], 20_000)).holds is False
    assert verdicts.imbalance_fact(imbalance[:10], moves[:10]).holds is None


def test_price_impact_exact_and_shape():
    sizes, means, counts = metrics.price_impact(
        np.array([1, 2, 1, 2]), np.array([1, -1, -1, 1]),
        np.array([100.0, 100.0, 100.0, np.nan]), np.array([101.0, 98.0, 100.0, 5.0]))
    assert sizes.tolist() == [1, 2] and means.tolist() == [0.5, 2.0] and counts.tolist() == [2, 1]
    size_grid = np.array([1, 4, 9, 16])
    counts = np.full(4, 10)
    assert verdicts.impact_fact(size_grid, np.sqrt(size_grid), counts).holds is True  # square-root law
    assert metrics.loglog_slope(size_grid, np.sqrt(size_grid)) == pytest.approx(0.5)
    assert verdicts.impact_fact(size_grid, size_grid ** 1.5, counts).holds is False  # convex
    assert verdicts.impact_fact(size_grid, -np.ones(4), counts).holds is False
    assert verdicts.impact_fact(np.array([1]), np.array([0.3]), np.array([50])).holds is True
    assert verdicts.impact_fact(np.array([1]), np.array([0.3]), np.array([2])).holds is None


def test_binned_mean_and_slope():
    binned = metrics.binned_mean(np.array([0.1, 0.2, 0.9, 1.0]), np.array([1.0, 3.0, 5.0, 7.0]),
                                 np.array([0.0, 0.5, 1.0]))
    assert binned.means.tolist() == [2.0, 6.0] and binned.counts.tolist() == [2, 2]
    assert metrics.slope(np.array([0.0, 1, 2]), np.array([1.0, 3, 5])) == pytest.approx(2.0)
    assert math.isnan(metrics.slope(np.array([1.0, 1.0]), np.array([1.0, 2.0])))


def test_heavy_tails_discounts_the_kurtosis_of_memoryless_tick_jumps():
    """A mid that moves by one tick at Poisson times has excess kurtosis ~1/lambda per
    horizon: heavy-looking, but it is discreteness, not heavy tails."""
    rng = np.random.default_rng(7)
    end = 20_000 * 10**9
    times = np.sort(rng.integers(0, end, 40_000))  # 2 changes per second on average
    mid = 100.0 * np.exp(np.cumsum(rng.choice([-1e-4, 1e-4], len(times))))
    returns = metrics.horizon_returns(times, mid, 1.0, 0, end)
    null = metrics.jump_kurtosis(times, mid, 1.0, 0, end)
    assert null == pytest.approx(0.5, rel=0.01)  # 1 / (2 changes per 1 s horizon)
    assert metrics.excess_kurtosis(returns) == pytest.approx(0.5, abs=0.15)
    assert verdicts.heavy_tails({1.0: returns}).holds is True  # fooled without the null
    assert verdicts.heavy_tails({1.0: returns}, {1.0: null}).holds is False
    # the same for aggregational gaussianity: kurtosis 1/lambda falls with the horizon
    by_scale = {h: metrics.excess_kurtosis(metrics.horizon_returns(times, mid, h, 0, end)) for h in (1.0, 20.0)}
    assert by_scale[20.0] < by_scale[1.0]
    assert verdicts.aggregational_gaussianity(by_scale).holds is True  # fooled without the null
    assert verdicts.aggregational_gaussianity(by_scale, {1.0: null}).holds is False


def test_wasserstein1_known_answers():
    x = rng().normal(size=2000)
    assert metrics.wasserstein1(x, x) == 0
    assert metrics.wasserstein1(x, x + 0.75) == pytest.approx(0.75)  # a shift moves all mass by it
    assert metrics.wasserstein1([0.0], [3.0]) == 3.0
    assert metrics.wasserstein1([0, 0, 1, 1], [0, 1]) == 0  # same distribution, other sample size
    assert metrics.wasserstein1([0, 1], [0, 3]) == pytest.approx(1.0)  # half the mass moves by 2
    assert metrics.wasserstein1([0, 1], [1, 0]) == metrics.wasserstein1([1, 0], [0, 1])
    assert math.isnan(metrics.wasserstein1([], [1.0]))


def test_coefficient_of_variation_poisson_and_bursty():
    r = rng()
    assert metrics.coefficient_of_variation(r.exponential(2.0, 100_000)) == pytest.approx(1.0, abs=0.02)
    bursty = np.where(r.random(100_000) < 0.9, r.exponential(0.01, 100_000), r.exponential(10.0, 100_000))
    assert metrics.coefficient_of_variation(bursty) > 2.5
    assert math.isnan(metrics.coefficient_of_variation([1.0]))


def test_r_squared_exact_and_noise():
    x = np.arange(100.0)
    assert metrics.r_squared(x, 3 * x - 2) == pytest.approx(1.0)
    noisy = 0.5 * x + rng().normal(scale=29.0, size=100)  # var(0.5 x) ~ var(noise) / 2
    assert 0.1 < metrics.r_squared(x, noisy) < 0.6
    assert math.isnan(metrics.r_squared(x, np.ones(100)))


def test_order_flow_imbalance_by_hand():
    # bid queue 5 -> 7 (+2); ask queue 4 -> 1 (3 ask lots gone: +3); the ask moves up to 12
    # (its last lot at 11 gone: +1); the bid drops to 9 (the 7 lots at 10 gone: -7).
    bid, bq = [10, 10, 10, 10, 9], [5, 7, 7, 7, 3]
    ask, aq = [11, 11, 11, 12, 12], [4, 4, 1, 6, 6]
    e = metrics.order_flow_imbalance(bid, bq, ask, aq)
    assert list(e) == [0, 2, 3, 1, -7]
    assert list(metrics.order_flow_imbalance([np.nan, 10], [0, 5], [11, 11], [1, 1])) == [0, 0]
