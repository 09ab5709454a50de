"""Realism: the same statistics on a simulated market and on a real one, and their distance.

Both sides are :class:`~lobsim.data.rundata.RunData` (a run directory or LOBSTER files,
loaded by :func:`lobsim.data.rundata.load`), so every number below comes from one code path.

* **Distributions** (:data:`DISTRIBUTIONS`): spread, event inter-arrival times, limit and
  market order sizes, limit placement and cancel distance from the best, order lifetime
  to cancel, depth at levels 1-5. Each pair is compared by the Wasserstein-1 distance, as
  LOB-Bench (Nagy et al. 2025) scores generated LOBSTER data by distances between 1-D
  distributions, in *normalised units* (our choice, stated here): both samples are put on
  the comparison scale (log10 for positive, heavy-tailed quantities: times, sizes, depth;
  linear for ticks) and the distance is divided by the real sample's standard deviation
  there. So 0 is the same distribution and 1 is "one real standard deviation apart".
* **Realism score**: the mean distance over the distribution families (the depth levels
  count as one family, their mean), over the families with enough samples on both sides.
* **Stylized facts** (:mod:`lobsim.analysis.realism_facts`): one number per side, and
  whether the simulated one is within the fact's tolerance of the real one.

Anything measured on fewer than :data:`MIN_SAMPLES` values says ``too short (n=...)``.
Cost: O(n log n) in the number of messages.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from lobsim.analysis import metrics
from lobsim.analysis.metrics import too_short
from lobsim.analysis.realism_facts import FACTS, Statistic, agreement
from lobsim.analysis.samples import (depth_at, distance_from_best, inter_arrival, lifetimes, limit_sizes,
                                     market_sizes, spread)
from lobsim.data.rundata import RunData
from lobsim.data.tape import DELETE, NEW, PARTIAL_CANCEL

#: Fewest samples for a distribution to enter the comparison.
MIN_SAMPLES = 20
#: Depth is compared level by level, best first, down to this level.
DEPTH_LEVELS = 5


@dataclass(frozen=True)
class Distribution:
    """One compared distribution: how to draw its samples from run data, and its scale."""

    name: str
    family: str  #: distributions of one family share one term of the score
    unit: str
    log: bool  #: compared (and plotted) as log10 of values >= ``floor``
    samples: Callable[[RunData], np.ndarray]
    floor: float = 1.0


DISTRIBUTIONS: tuple[Distribution, ...] = (
    Distribution("spread", "spread", "ticks", False, spread),
    Distribution("inter-arrival time", "inter-arrival time", "s", True, inter_arrival, floor=1e-9),
    Distribution("limit order size", "limit order size", "lots", True, limit_sizes),
    Distribution("market order size", "market order size", "lots", True, market_sizes),
    Distribution("limit placement from best", "limit placement from best", "ticks", False,
                 lambda d: distance_from_best(d, (NEW,))),
    Distribution("cancel distance from best", "cancel distance from best", "ticks", False,
                 lambda d: distance_from_best(d, (PARTIAL_CANCEL, DELETE))),
    Distribution("lifetime to cancel", "lifetime to cancel", "s", True, lifetimes, floor=1e-9),
    *(Distribution(f"depth at level {k}", "depth by level", "lots", True, depth_at(k))
      for k in range(1, DEPTH_LEVELS + 1)),
)


@dataclass
class DistanceRow:
    """One distribution on both sides, and the normalised Wasserstein-1 distance (``nan``:
    too few samples on a side)."""

    spec: Distribution
    real: np.ndarray
    simulated: np.ndarray
    w1: float


@dataclass
class FactRow:
    """One stylized fact on both sides and whether they agree (``close``, ``far``,
    ``too short``, ``n/a``)."""

    name: str
    real: Statistic
    simulated: Statistic
    agreement: str
    tolerance: str


@dataclass
class Comparison:
    """Real against simulated: distances, facts and the overall score."""

    real_source: str
    simulated_source: str
    distances: list[DistanceRow]
    facts: list[FactRow]
    score: float  #: mean normalised W1 over the families with enough samples (``nan``: none)
    families: int  #: how many families the score averages
    notes: list[str] = field(default_factory=list)  #: what either side could not provide


def scaled(spec: Distribution, values: np.ndarray) -> np.ndarray:
    """Values on the distribution's comparison scale (log10 above ``floor``, or as they are)."""
    values = np.asarray(values, dtype=np.float64)
    return np.log10(np.maximum(values, spec.floor)) if spec.log else values


def normalised_w1(spec: Distribution, real: np.ndarray, simulated: np.ndarray) -> float:
    """Wasserstein-1 between the two samples on the comparison scale, in units of the real
    sample's standard deviation there (the pooled one if the real sample is constant)."""
    if len(real) < MIN_SAMPLES or len(simulated) < MIN_SAMPLES:
        return math.nan
    r, s = scaled(spec, real), scaled(spec, simulated)
    unit = float(r.std()) or float(np.concatenate([r, s]).std()) or 1.0
    return metrics.wasserstein1(r, s) / unit


def score(rows: list[DistanceRow]) -> tuple[float, int]:
    """Mean over families of each family's mean distance, skipping ``nan``; and how many."""
    families: dict[str, list[float]] = {}
    for row in rows:
        if np.isfinite(row.w1):
            families.setdefault(row.spec.family, []).append(row.w1)
    if not families:
        return math.nan, 0
    return float(np.mean([np.mean(v) for v in families.values()])), len(families)


def distances(simulated: RunData, real: RunData) -> list[DistanceRow]:
    """Every distribution on both sides with its normalised distance (what the score reads)."""
    rows = []
    for spec in DISTRIBUTIONS:
        r, s = spec.samples(real), spec.samples(simulated)
        rows.append(DistanceRow(spec, r, s, normalised_w1(spec, r, s)))
    return rows


def compare(simulated: RunData, real: RunData) -> Comparison:
    """Every distribution and fact on both sides, with distances and the overall score."""
    rows = distances(simulated, real)
    facts = []
    real_values, sim_values = FACTS.compute(real), FACTS.compute(simulated)
    for fact in FACTS.facts:
        r, s = real_values[fact.name], sim_values[fact.name]
        facts.append(FactRow(fact.name, r, s, agreement(fact, r, s), fact.tolerance_text()))
    total, families = score(rows)
    notes = [f"real: {n}" for n in real.notes] + [f"simulated: {n}" for n in simulated.notes]
    return Comparison(real.source, simulated.source, rows, facts, total, families, notes)


# ----------------------------------------------------------------------- output


def _num(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _side(values: np.ndarray) -> dict[str, float | int | None]:
    n = len(values)
    return {"n": n, "mean": _num(float(np.mean(values))) if n else None,
            "median": _num(float(np.median(values))) if n else None}


def as_dict(c: Comparison) -> dict:
    """The comparison as JSON-ready data (``None`` where a value is undefined)."""
    return {
        "real": c.real_source, "simulated": c.simulated_source,
        "score": _num(c.score), "score_families": c.families, "notes": c.notes,
        "distributions": [{"name": r.spec.name, "family": r.spec.family, "unit": r.spec.unit,
                           "scale": "log10" if r.spec.log else "linear", "real": _side(r.real),
                           "simulated": _side(r.simulated), "w1": _num(r.w1)} for r in c.distances],
        "facts": [{"name": f.name, "real": f.real.as_dict(), "simulated": f.simulated.as_dict(),
                   "agreement": f.agreement, "tolerance": f.tolerance} for f in c.facts],
    }


def _cell(values: np.ndarray) -> str:
    return f"{len(values):>7} / {float(np.median(values)):<9.4g}" if len(values) else f"{0:>7} / {'-':<9}"


def format_table(c: Comparison) -> str:
    """The comparison as aligned text: distributions, the score, then the facts."""
    lines = [f"real:      {c.real_source}", f"simulated: {c.simulated_source}",
             *(f"note: {n}" for n in c.notes), "",
             f"{'distribution':<28}{'unit':<7}{'real n / median':<21}{'sim n / median':<21}W1 (normalised)"]
    for r in c.distances:
        shortest = min(len(r.real), len(r.simulated))
        w1 = f"{r.w1:.3g}" if np.isfinite(r.w1) else too_short(shortest)
        lines.append(f"{r.spec.name:<28}{r.spec.unit:<7}{_cell(r.real):<21}{_cell(r.simulated):<21}{w1}")
    shown = f"{c.score:.3g}" if np.isfinite(c.score) else "n/a (no distribution with enough samples)"
    lines += ["", f"realism score: {shown} (mean normalised W1 over {c.families} families; 0 = identical)", "",
              f"{'stylized fact':<48}{'real':<22}{'simulated':<22}{'agreement':<11}tolerance"]
    for f in c.facts:
        lines.append(f"{f.name:<48}{f.real.text():<22}{f.simulated.text():<22}{f.agreement:<11}{f.tolerance}")
    return "\n".join(lines)
