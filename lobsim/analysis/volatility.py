"""Volatility, jumps and volatility clustering of a file's 1 s mid changes (ticks).

Jumps are the changes beyond :data:`JUMP_SDS` standard deviations of the others (found by
repeated trimming); the volatility is the sd of the rest, per sqrt(second). Clustering:
the log of realized volatility over :data:`VOL_WINDOW` s windows, as an Ornstein-Uhlenbeck
process (the fundamental path of :mod:`agents.fundamental`).
"""

from __future__ import annotations

import math

import numpy as np

from lobsim.analysis.estimates import Calibration
from lobsim.analysis.flow import Flow
from lobsim.analysis.metrics import autocorrelation

#: standard deviations beyond which a 1 s change is a jump
JUMP_SDS = 4.0
#: seconds per window of the volatility-clustering estimate
VOL_WINDOW = 10
#: fewest 1 s changes (and windows) for an estimate
MIN_CHANGES = 20


def jump_mask(changes: np.ndarray, rounds: int = 10) -> np.ndarray:
    """Which changes are jumps: beyond :data:`JUMP_SDS` standard deviations of the
    others, found by repeated trimming (the sd is recomputed without the jumps found)."""
    jumps = np.zeros(len(changes), dtype=bool)
    for _ in range(rounds):
        rest = changes[~jumps]
        found = np.abs(changes - rest.mean()) > JUMP_SDS * rest.std()
        if np.array_equal(found, jumps) or found.all():
            break
        jumps = found
    return jumps


def estimate_volatility(flow: Flow, cal: Calibration) -> None:
    """Diffusive volatility and jumps of 1 s mid changes (ticks), reported only."""
    changes = flow.mid_changes()
    if len(changes) < MIN_CHANGES:
        for name in ("volatility", "jump_rate", "jump_size"):
            cal.missing[name] = f"{len(changes)} one-second mid changes: fewer than {MIN_CHANGES}"
        return
    jumps = jump_mask(changes)
    diffusive = changes[~jumps]
    n = len(diffusive)
    sigma = float(np.std(diffusive))
    cal.put("volatility", round(sigma, 6), sigma / math.sqrt(2 * max(n - 1, 1)),
            f"ticks per sqrt(s): sd of {n} 1 s mid changes without jumps")
    cal.put("jump_rate", round(float(jumps.sum()) / len(changes), 6),
            math.sqrt(jumps.sum()) / len(changes),
            f"per s: 1 s changes beyond {JUMP_SDS} sds of the others")
    if jumps.sum() >= 2:
        cal.put("jump_size", round(float(np.std(changes[jumps])), 6), how="ticks: sd of the jumps")
    else:
        cal.missing["jump_size"] = f"{int(jumps.sum())} jumps: too few for a size"
    _volatility_clustering(np.where(jumps, np.mean(diffusive), changes), cal)


def _volatility_clustering(changes: np.ndarray, cal: Calibration) -> None:
    """Log-volatility mean reversion (per s) and vol-of-vol (per sqrt(s)) from the log of
    realized volatility over :data:`VOL_WINDOW` s windows: its lag-1 autocorrelation is
    exp(-kappa W), its sd xi / sqrt(2 kappa) (an upper bound: sampling noise adds to it)."""
    windows = len(changes) // VOL_WINDOW
    if windows < MIN_CHANGES:
        cal.missing["vol_reversion"] = cal.missing["vol_of_vol"] = (
            f"{windows} windows of {VOL_WINDOW} s: fewer than {MIN_CHANGES}")
        return
    blocks = changes[:windows * VOL_WINDOW].reshape(windows, VOL_WINDOW)
    h = 0.5 * np.log(np.maximum(np.mean(blocks ** 2, axis=1), 1e-12))
    rho = float(autocorrelation(h, [1])[0])
    if not 0 < rho < 1:
        cal.missing["vol_reversion"] = cal.missing["vol_of_vol"] = (
            f"log-volatility lag-1 autocorrelation {rho:.3g} is not in (0, 1)")
        return
    kappa = -math.log(rho) / VOL_WINDOW
    cal.put("vol_reversion", round(kappa, 6), how=f"per s: -ln(rho) / {VOL_WINDOW} s, rho = "
            f"{rho:.3g} over {windows} windows")
    cal.put("vol_of_vol", round(float(np.std(h)) * math.sqrt(2 * kappa), 6),
            how="per sqrt(s): sd of log-volatility x sqrt(2 kappa)")
