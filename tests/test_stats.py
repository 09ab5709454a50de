"""lobsim.stats: the Student-t interval, its quantiles beyond the table, and no interval on
fewer than two values; the power calculation; the winner's-curse shrinkage."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lobsim.stats import (_T95, ci95, episodes_to_separate, mean_ci95, separation_power,
                          shrink_to_pool, t95)


def test_ci95_is_the_student_t_interval():
    lo, hi = ci95([1.0, 2.0, 3.0, 4.0])  # df 3: t = 3.182, s = sqrt(5/3)
    half = 3.182 * math.sqrt(5 / 3) / 2
    assert lo == pytest.approx(2.5 - half) and hi == pytest.approx(2.5 + half)
    x = np.arange(23.0) ** 1.5  # df 22: 2.074, not a neighbour's value
    lo, hi = ci95(list(x))
    assert (hi - lo) / 2 == pytest.approx(2.074 * x.std(ddof=1) / math.sqrt(23))


def test_one_value_has_no_interval_and_non_finite_values_are_dropped():
    assert ci95([2.0]) is None and ci95([]) is None
    assert mean_ci95([2.0]) == (2.0, None)
    mean, half = mean_ci95([])
    assert math.isnan(mean) and half is None
    assert mean_ci95([1.0, math.nan, 3.0, math.inf]) == mean_ci95([1.0, 3.0])


def test_quantiles_continue_the_table_beyond_30_degrees_of_freedom():
    assert all(_T95[k] > _T95[k + 1] for k in range(len(_T95) - 1))
    assert t95(30) == _T95[-1] > t95(31) > t95(100) > t95(10_000) > 1.96
    # exact values (scipy.stats.t.ppf(0.975, df)) to 3 decimals
    for df, exact in ((31, 2.0395), (40, 2.0211), (60, 2.0003), (120, 1.9799), (1000, 1.9623)):
        assert t95(df) == pytest.approx(exact, abs=5e-4)
    with pytest.raises(ValueError):
        t95(0)


def test_episodes_to_separate_is_the_smallest_n_that_meets_the_condition():
    n = episodes_to_separate(0.25, 0.55, 0.6, 0.6)
    z = 0.8416212335729143  # the normal quantile of 0.8
    def ok(k):
        return 0.25 * math.sqrt(k) >= t95(k - 1) * 1.15 + z * 0.6
    assert ok(n) and not ok(n - 1)
    assert 100 < n < 200  # (1.97 x 1.15 + 0.84 x 0.6) / 0.25 = 11.1: about 123
    # a larger edge, smaller spreads or a lower power need fewer episodes
    assert episodes_to_separate(0.5, 0.55, 0.6, 0.6) < n
    assert episodes_to_separate(0.25, 0.3, 0.3, 0.6) < n
    assert episodes_to_separate(0.25, 0.55, 0.6, 0.6, power=0.5) < n


def test_simulated_pairs_separate_about_as_often_as_the_power_says():
    rng = np.random.default_rng(5)
    n = episodes_to_separate(0.3, 0.6, 0.6, 0.6, power=0.8)
    cov = [[0.36, 0.18], [0.18, 0.36]]  # sd 0.6 each, correlation 0.5: sd of the difference 0.6
    hits = 0
    for _ in range(400):
        x = rng.multivariate_normal([0.3, 0.0], cov, size=n)
        hits += ci95(x[:, 0])[0] > ci95(x[:, 1])[1]
    assert 0.7 < hits / 400 < 0.9


@pytest.mark.parametrize("args", [(0.0, 1, 1, 1), (-0.1, 1, 1, 1), (0.1, -1, 1, 1), (0.1, 1, 1, 1, 1.0)])
def test_episodes_to_separate_refuses_what_has_no_answer(args):
    with pytest.raises(ValueError):
        episodes_to_separate(*args)
    with pytest.raises(ValueError, match="more than 10"):
        episodes_to_separate(0.01, 1, 1, 1, max_n=10)


def test_shrink_to_pool_is_the_average_when_the_spread_is_noise():
    means, errors = [0.10, 0.05, -0.02, 0.13], [0.2, 0.2, 0.2, 0.2]  # var 0.0045 < 0.04
    assert shrink_to_pool(means, errors, 3) == pytest.approx(np.mean(means))
    assert shrink_to_pool([0.3, 0.3], [0.0, 0.0], 0) == pytest.approx(0.3)


def test_shrink_to_pool_keeps_most_of_a_lead_far_above_the_noise():
    means, errors = [0.0, 1.0, 2.0, 3.0], [0.1] * 4  # var 5/3, noise 0.01
    tau2 = 5 / 3 - 0.01
    expected = 1.5 + tau2 / (tau2 + 0.01) * 1.5
    assert shrink_to_pool(means, errors, 3) == pytest.approx(expected)
    assert 1.5 < expected < 3.0
    # a noisier winner keeps less of its lead
    assert shrink_to_pool(means, [0.1, 0.1, 0.1, 1.0], 3) < shrink_to_pool(means, errors, 3)


def test_selected_best_of_a_pool_is_shrunk_toward_its_true_mean():
    rng = np.random.default_rng(11)
    raw, shrunk = [], []
    for _ in range(2000):  # nine runs, true means 0.07 +/- 0.02, each measured with se 0.06
        true = 0.07 + 0.02 * rng.standard_normal(9)
        seen = true + 0.06 * rng.standard_normal(9)
        best = int(np.argmax(seen))
        raw.append(seen[best] - true[best])
        shrunk.append(shrink_to_pool(seen, [0.06] * 9, best) - true[best])
    assert np.mean(raw) > 0.08  # the winner's curse
    assert abs(np.mean(shrunk)) < abs(np.mean(raw)) / 3


@pytest.mark.parametrize("args", [([1.0], [0.1], 0), ([1.0, 2.0], [0.1], 0), ([1.0, 2.0], [0.1, 0.1], 2),
                                  ([1.0, 2.0], [0.1, -0.1], 0)])
def test_shrink_to_pool_refuses_what_has_no_answer(args):
    with pytest.raises(ValueError):
        shrink_to_pool(*args)


def test_separation_power_is_the_inverse_of_episodes_to_separate():
    for power in (0.5, 0.8, 0.9):
        n = episodes_to_separate(0.08, 0.48, 0.55, 0.6, power)
        assert separation_power(0.08, 0.48, 0.55, 0.6, n) >= power > separation_power(0.08, 0.48, 0.55, 0.6, n - 1)
    assert separation_power(0.5, 0.1, 0.1, 0.0, 50) == 1.0 and separation_power(0.01, 1, 1, 0.0, 50) == 0.0
    assert separation_power(-0.1, 0.5, 0.5, 0.5, 1000) < 0.01
    with pytest.raises(ValueError):
        separation_power(0.1, 1, 1, 1, 1)
