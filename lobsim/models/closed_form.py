"""Cartea-Jaimungal closed-form optimal market making (Cartea, Jaimungal & Penalva 2015, ch. 10).

With fill intensity ``lam*exp(-kappa*delta)`` per side, running penalty ``phi*q^2`` and
terminal penalty ``alpha*q_T^2``, the value is ``X + q*S + h(t, q)`` with
``h(t, q) = log(omega(t, q)) / kappa`` and

    omega(t) = expm(A * (T - t)) @ z,   z_q = exp(-alpha * kappa * q^2),
    A[q, q] = -phi * kappa * q^2,   A[q, q+-1] = lam / e   (q in [-q_max, q_max]).

The optimal depths [price] are ``delta_ask = 1/kappa - (h(t, q-1) - h(t, q))`` and
``delta_bid = 1/kappa - (h(t, q+1) - h(t, q))``; at ``q = q_max`` no bid is posted and at
``q = -q_max`` no ask (depth ``+inf``).

``omega`` spans hundreds of orders of magnitude across ``q``, so an eigen-decomposition
(absolute error ~1e-16 of the largest entry) loses the far inventories entirely. Here
``A + c*I`` is entrywise non-negative, so its exponential is a sum of non-negative terms
and products of non-negative matrices, which keeps every entry to relative precision;
the solution is then stepped back on the time grid with ``omega_n = E @ omega_{n+1}``,
``E = expm(A*dt)``, renormalising each step to avoid overflow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lobsim.errors import InputError
from lobsim.models.vecenv import ModelConfig


@dataclass(frozen=True)
class CJSolution:
    """``h`` on the grid ``times[n] = n*dt`` [time] x ``q`` in ``[-q_max, q_max]`` [shares]."""

    config: ModelConfig
    times: np.ndarray  #: (n_steps + 1,) [time]
    q: np.ndarray  #: (2*q_max + 1,) inventories [shares]
    h: np.ndarray  #: (n_steps + 1, 2*q_max + 1) value beyond X + q*S [currency]

    def value(self, step: int = 0, q: int = 0) -> float:
        """``h(times[step], q)`` [currency]."""
        q_max = self.config.q_max
        if abs(q) > q_max:
            raise InputError(f"q={q} is outside [-{q_max}, {q_max}]")
        return float(self.h[step, q + q_max])

    def depths(self) -> tuple[np.ndarray, np.ndarray]:
        """Optimal ``(bid, ask)`` depths [price] on the grid, shape of ``h``; +inf: no quote."""
        h, inv_kappa = self.h, 1.0 / self.config.kappa
        bid = np.full_like(h, np.inf)
        ask = np.full_like(h, np.inf)
        bid[:, :-1] = inv_kappa - (h[:, 1:] - h[:, :-1])
        ask[:, 1:] = inv_kappa - (h[:, :-1] - h[:, 1:])
        return bid, ask


def generator_matrix(config: ModelConfig) -> np.ndarray:
    """The matrix ``A`` [1/time] of the linear ODE ``d omega/dt = -A omega``."""
    q = _inventories(config)
    a = np.diag(-config.phi * config.kappa * q**2)
    off = config.lam / math.e
    idx = np.arange(len(q) - 1)
    a[idx, idx + 1] = off
    a[idx + 1, idx] = off
    return a


def expm_metzler(a: np.ndarray, tau: float) -> np.ndarray:
    """``expm(a*tau)`` for ``a`` with non-negative off-diagonal entries, entrywise accurate.

    Scaling and squaring on ``a + c*I >= 0``: a Taylor series of a non-negative matrix
    with norm <= 1/2, then repeated squaring; no subtraction anywhere.
    """
    if tau < 0:
        raise InputError(f"tau must be >= 0, got {tau}")
    n = a.shape[0]
    shift = max(0.0, -float(np.min(np.diag(a))))
    b = a + shift * np.eye(n)
    if np.any(b < 0):
        raise InputError("expm_metzler needs non-negative off-diagonal entries")
    norm = float(np.abs(b).sum(axis=0).max()) * tau
    squarings = max(0, math.ceil(math.log2(norm / 0.5))) if norm > 0.5 else 0
    sub = tau / 2**squarings
    m = b * sub
    result = np.eye(n)
    term = np.eye(n)
    for k in range(1, 30):  # norm(m) <= 1/2: 30 terms reach far below 1e-16
        term = term @ m / k
        result = result + term
    result *= math.exp(-shift * sub)
    for _ in range(squarings):
        result = result @ result
    return result


def solve(config: ModelConfig) -> CJSolution:
    """``h(t, q)`` on the config's time grid (requires ``q_max``)."""
    if config.q_max is None:
        raise InputError("the Cartea-Jaimungal solution needs a finite q_max")
    q = _inventories(config)
    step = expm_metzler(generator_matrix(config), config.dt)
    n = config.n_steps
    log_omega = np.empty((n + 1, len(q)))
    omega = np.exp(-config.alpha * config.kappa * q**2)
    log_scale = 0.0
    log_omega[n] = np.log(omega)
    for i in range(n - 1, -1, -1):
        omega = step @ omega
        top = float(omega.max())
        omega /= top
        log_scale += math.log(top)
        with np.errstate(divide="ignore"):  # an underflowed far inventory -> -inf
            log_omega[i] = np.log(omega) + log_scale
    times = np.linspace(0.0, config.T, n + 1)
    return CJSolution(config=config, times=times, q=q, h=log_omega / config.kappa)


def risk_neutral_value(config: ModelConfig) -> float:
    """``2*lam*T/(e*kappa)`` [currency]: the value with phi = alpha = 0 and no bound,
    earned by quoting at ``1/kappa`` on both sides."""
    return 2.0 * config.lam * config.T / (math.e * config.kappa)


def _inventories(config: ModelConfig) -> np.ndarray:
    return np.arange(-config.q_max, config.q_max + 1, dtype=np.float64)
