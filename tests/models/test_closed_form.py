"""The Cartea-Jaimungal closed form: matrix exponential, HJB equation, known limits."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lobsim.errors import InputError
from lobsim.models import closed_form as cf
from lobsim.models.vecenv import cj2015_config


def _taylor_reference(a: np.ndarray, tau: float) -> np.ndarray:
    """exp(a*tau) as exp(-c*tau) * sum_k (b*tau)^k / k! with b = a + c*I >= 0: no scaling,
    no squaring, every term non-negative, so every entry keeps its relative precision."""
    shift = -np.diag(a).min()
    b = (a + shift * np.eye(len(a))) * tau
    term, total, k = np.eye(len(a)), np.eye(len(a)), 0
    while k < len(a) or np.any(term > 1e-17 * total):  # until every entry has converged
        k += 1
        term = term @ b / k
        total = total + term
    return total * math.exp(-shift * tau)


def test_expm_metzler_keeps_every_entry_to_relative_precision() -> None:
    config = cj2015_config(q_max=8, phi=0.3)
    a = cf.generator_matrix(config)
    for tau in (0.0, 1e-3, 0.2, 1.0):
        ours = cf.expm_metzler(a, tau)
        # entries span ~1e-70..1: torch's Pade approximant is only accurate for the large ones
        np.testing.assert_allclose(ours, _taylor_reference(a, tau), rtol=1e-11, atol=0)
        ref = torch.linalg.matrix_exp(torch.from_numpy(a * tau)).numpy()
        np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12 * ref.max())


def test_solution_matches_eigendecomposition_on_a_small_grid() -> None:
    # small q_max and penalties: omega varies little, so the eigen route is accurate too
    config = cj2015_config(q_max=4, phi=0.5, alpha=0.2, n_steps=50)
    solution = cf.solve(config)
    w, v = np.linalg.eigh(cf.generator_matrix(config))
    z = np.exp(-config.alpha * config.kappa * solution.q**2)
    for n in (0, 17, 50):
        tau = config.T - solution.times[n]
        omega = v @ (np.exp(w * tau) * (v.T @ z))
        expected = np.log(omega) / config.kappa
        np.testing.assert_allclose(solution.h[n], expected, rtol=1e-11, atol=1e-12)


def test_terminal_condition_and_symmetry() -> None:
    config = cj2015_config(n_steps=100)
    solution = cf.solve(config)
    np.testing.assert_allclose(solution.h[-1], -config.alpha * solution.q**2, atol=1e-12)
    np.testing.assert_allclose(solution.h, solution.h[:, ::-1], rtol=1e-11)
    assert np.all(np.diff(solution.h[0], 2) < 0)  # concave in inventory


def test_hjb_equation_holds_at_interior_inventories() -> None:
    # d h/dt - phi q^2 + lam/(kappa e) (exp(kappa(h(q-1)-h(q))) + exp(kappa(h(q+1)-h(q)))) = 0
    config = cj2015_config(n_steps=2000)
    solution = cf.solve(config)
    h, q, k = solution.h, solution.q, config.kappa
    dh_dt = (h[2:] - h[:-2]) / (2 * config.dt)  # central difference: O(dt^2) error
    mid = h[1:-1]
    jumps = np.exp(k * (mid[:, :-2] - mid[:, 1:-1])) + np.exp(k * (mid[:, 2:] - mid[:, 1:-1]))
    residual = dh_dt[:, 1:-1] - config.phi * q[1:-1] ** 2 + config.lam / (k * math.e) * jumps
    scale = config.lam / (k * math.e)  # size of the individual terms near q = 0
    assert np.abs(residual[:, 40:-40]).max() < 1e-4 * scale


def test_risk_neutral_limit_is_the_published_formula() -> None:
    config = cj2015_config(phi=0.0, alpha=0.0, n_steps=200)
    solution = cf.solve(config)
    formula = cf.risk_neutral_value(config)
    assert formula == pytest.approx(2 * 140 / (math.e * 1.5))
    # the bound at q_max = 100 is never reached in practice: h(t, 0) = formula * (T - t)
    expected = formula * (1 - solution.times)
    np.testing.assert_allclose(solution.h[:, 100], expected, rtol=1e-9, atol=1e-9)
    bid, ask = solution.depths()
    np.testing.assert_allclose(bid[:, 90:110], 1 / config.kappa, rtol=1e-9)


def test_penalised_value_is_below_the_risk_neutral_one() -> None:
    config = cj2015_config()
    h00 = cf.solve(config).value(0, 0)
    assert 0.9 * cf.risk_neutral_value(config) < h00 < cf.risk_neutral_value(config)


def test_optimal_depths_skew_against_inventory_and_stop_at_the_bounds() -> None:
    config = cj2015_config(n_steps=100, q_max=20)
    bid, ask = cf.solve(config).depths()
    assert bid[0, 20] == pytest.approx(ask[0, 20])  # flat: symmetric quotes
    assert np.all(np.diff(bid[0, :-1]) > 0)  # longer -> bid further away
    assert np.all(np.diff(ask[0, 1:]) < 0)  # longer -> ask closer
    assert bid[0, -1] == math.inf and ask[0, 0] == math.inf


def test_solve_needs_a_bound_and_value_checks_inventory() -> None:
    with pytest.raises(InputError):
        cf.solve(cj2015_config(q_max=None))
    solution = cf.solve(cj2015_config(q_max=3, n_steps=5))
    with pytest.raises(InputError):
        solution.value(0, 4)
