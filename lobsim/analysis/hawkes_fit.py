"""Maximum-likelihood fit of a univariate Hawkes process with an exponential kernel.

The model: intensity ``lambda(t) = mu + sum over t_i < t of alpha exp(-beta (t - t_i))``,
branching ratio ``n = alpha / beta`` (mean events triggered per event; < 1 for a
stationary process), so that the long-run rate is ``mu / (1 - n)``. The log-likelihood of
event times ``t_1 <= ... <= t_N`` on ``[0, T]`` (Ozaki 1979)::

    sum_i log(mu + alpha A_i) - mu T - (alpha / beta) sum_i (1 - exp(-beta (T - t_i)))

with ``A_1 = 0``, ``A_i = exp(-beta (t_i - t_{i-1})) (1 + A_{i-1})``: O(N) per evaluation.
It is maximized over ``(log mu, logit n, log beta)``, which keeps every candidate
stationary, from a few starting decays (Nelder-Mead, scipy). Standard errors come from the
observed information: the inverse of the numerical Hessian of the negative
log-likelihood in the natural parameters ``(mu, n, beta)`` at the optimum (``nan`` when it
is not positive definite, e.g. at a boundary). Times in seconds, rates per second.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: fewest events for a fit
MIN_EVENTS = 50
#: per second: decays tried as starting points
START_DECAYS = (0.3, 3.0, 30.0, 300.0)


@dataclass(frozen=True)
class HawkesFit:
    """Fitted ``mu`` (per s), ``branching`` n, ``decay`` beta (per s), standard errors."""

    mu: float
    branching: float
    decay: float
    mu_se: float
    branching_se: float
    decay_se: float
    loglik: float
    events: int
    span_s: float

    @property
    def rate(self) -> float:
        """Long-run events per second, mu / (1 - n)."""
        return self.mu / (1.0 - self.branching)


def loglik(mu: float, branching: float, decay: float, times: np.ndarray, span: float) -> float:
    """The log-likelihood above, for ``times`` (s, sorted, from 0) observed on [0, span]."""
    alpha = branching * decay
    gaps = np.exp(-decay * np.diff(times)).tolist()
    a, total = 0.0, math.log(mu)
    for g in gaps:
        a = g * (1.0 + a)
        total += math.log(mu + alpha * a)
    compensator = mu * span + branching * float(np.sum(1.0 - np.exp(-decay * (span - times))))
    return total - compensator


def _natural(x: np.ndarray) -> tuple[float, float, float]:
    """(mu, n, beta) from the unconstrained (log mu, logit n, log beta)."""
    return math.exp(x[0]), 1.0 / (1.0 + math.exp(-x[1])), math.exp(x[2])


def _hessian(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """Central-difference Hessian of ``f`` at ``x`` (relative steps)."""
    k = len(x)
    h = 1e-4 * np.maximum(np.abs(x), 1e-3)
    out = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            def at(si: int, sj: int) -> float:
                y = x.copy()
                y[i] += si * h[i]
                y[j] += sj * h[j]
                return f(y)
            out[i, j] = out[j, i] = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * h[i] * h[j])
    return out


def _standard_errors(times: np.ndarray, span: float, mu: float, n: float, beta: float) -> np.ndarray:
    """Square roots of the diagonal of the inverse observed information in (mu, n, beta)."""
    def negative(p: np.ndarray) -> float:
        if p[0] <= 0 or not 0 <= p[1] < 1 or p[2] <= 0:
            return math.inf
        return -loglik(p[0], p[1], p[2], times, span)
    info = _hessian(negative, np.array([mu, n, beta]))
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return np.full(3, np.nan)
    diag = np.diag(cov)
    if not np.all(np.isfinite(info)) or np.any(diag <= 0):
        return np.full(3, np.nan)
    return np.sqrt(diag)


def fit(times_s: np.ndarray) -> HawkesFit | None:
    """The maximum-likelihood fit to event times (s, any origin, sorted), or None with
    fewer than :data:`MIN_EVENTS` events or no time span. O(N) per likelihood evaluation,
    a few hundred evaluations."""
    from scipy.optimize import minimize

    times = np.asarray(times_s, dtype=np.float64)
    if len(times) < MIN_EVENTS or times[-1] <= times[0]:
        return None
    times = times - times[0]
    span = float(times[-1])
    rate = len(times) / span

    def objective(x: np.ndarray) -> float:
        if np.any(np.abs(x) > 30):
            return math.inf
        value = -loglik(*_natural(x), times, span)
        return value if math.isfinite(value) else math.inf

    best = None
    for decay in START_DECAYS:
        start = np.array([math.log(rate / 2), 0.0, math.log(decay)])
        result = minimize(objective, start, method="Nelder-Mead",
                          options={"xatol": 1e-5, "fatol": 1e-6, "maxiter": 4000})
        if best is None or result.fun < best.fun:
            best = result
    mu, n, beta = _natural(best.x)
    se = _standard_errors(times, span, mu, n, beta)
    return HawkesFit(mu, n, beta, *map(float, se), -float(best.fun), len(times), span)
