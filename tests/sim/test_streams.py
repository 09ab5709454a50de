"""BatchedRandom: numpy-compatible scalar draws, deterministic, right distributions."""

from __future__ import annotations

import numpy as np

from lobsim.sim.streams import BatchedRandom


def draws(seed, method, *args, n=20_000):
    rng = BatchedRandom(np.random.default_rng(seed))
    return np.array([getattr(rng, method)(*args) for _ in range(n)])


def test_same_seed_same_sequence_across_batches():
    assert (draws(1, "random", n=10_000) == draws(1, "random", n=10_000)).all()
    assert not (draws(1, "random", n=100) == draws(2, "random", n=100)).all()


def test_uniform_and_exponential_moments():
    u = draws(3, "random")
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 4 * np.sqrt(1 / 12 / len(u))
    e = draws(4, "exponential", 2.5)
    assert e.min() >= 0 and abs(e.mean() - 2.5) < 4 * 2.5 / np.sqrt(len(e))


def test_integers_cover_their_range_uniformly():
    k = draws(5, "integers", 1, 7)
    assert set(k) == {1, 2, 3, 4, 5, 6}
    counts = np.bincount(k)[1:]
    expected = len(k) / 6
    assert ((counts - expected) ** 2 / expected).sum() < 25  # chi-square, 5 dof, p ~ 1e-4
    assert set(draws(6, "integers", 3, n=2_000)) == {0, 1, 2}


def test_geometric_support_and_mean():
    g = draws(7, "geometric", 0.25)
    assert g.min() == 1 and abs(g.mean() - 4.0) < 4 * np.sqrt(0.75) / 0.25 / np.sqrt(len(g))
    assert set(draws(8, "geometric", 1.0, n=50)) == {1}


def test_other_methods_reach_the_generator():
    rng = BatchedRandom(np.random.default_rng(9))
    assert rng.normal(size=3).shape == (3,)
