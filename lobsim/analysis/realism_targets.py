"""Issue 16's targets for a market calibrated from a real file, read off the realism
comparison (:mod:`lobsim.analysis.realism`): every target is a fact of
:mod:`lobsim.analysis.realism_facts` and a test, so the targets, the facts and
``lobsim realism`` share one computation.

A target either asks the simulated value to be *close* to the real one (the fact's own
tolerance, which is the issue's: 30% for the mean spread and the size means, 40% for the
limit size CV, a factor 2 for cancels per market order) or to lie in fixed bounds whatever
the real value (inter-arrival CV >= 2, trade-sign ACF >= 0.3 at lag 1 and >= 0.05 at lag
10, 1 s excess kurtosis >= 5, volatility clustering above its 2/sqrt(n) band, lag-1 ACF
of 1 s returns within +-0.1, order-flow-imbalance R^2 at 10 s in [0.3, 0.8]). The last
target compares realism scores: the calibrated market's no more than half of each
baseline's (``santa_fe``, ``default``) against the same real file.

A verdict is ``met``, ``not met``, ``too short`` (too few samples on a side that counts)
or ``n/a`` (undefined there, or scores over different sets of distribution families).
Cost: that of :func:`lobsim.analysis.realism.compare`, plus the distances per baseline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from lobsim.analysis.realism import Comparison, compare, distances, score
from lobsim.analysis.realism_facts import FACTS, Statistic, agreement
from lobsim.data.rundata import RunData

#: the calibrated market's score must be at most this share of each baseline's
SCORE_SHARE = 0.5


@dataclass(frozen=True)
class Target:
    """A target on one fact: ``bounds`` (inclusive) on the simulated value, or ``None``
    for "close to the real value" by the fact's tolerance."""

    name: str
    fact: str
    bounds: tuple[float, float] | None = None


TARGETS: tuple[Target, ...] = (
    Target("mean spread within 30%", "mean spread (ticks)"),
    Target("limit order size mean within 30%", "limit order size mean (lots)"),
    Target("market order size mean within 30%", "market order size mean (lots)"),
    Target("limit order size CV within 40%", "limit order size CV"),
    Target("event inter-arrival CV >= 2", "event inter-arrival CV", (2.0, math.inf)),
    Target("trade-sign ACF lag 1 >= 0.3", "trade-sign ACF lag 1", (0.3, math.inf)),
    Target("trade-sign ACF lag 10 >= 0.05", "trade-sign ACF lag 10", (0.05, math.inf)),
    Target("excess kurtosis of 1 s returns >= 5", "excess kurtosis, 1s", (5.0, math.inf)),
    Target("volatility clustering above its 2/sqrt(n) band",
           "volatility clustering above its band 2/sqrt(n)", (0.0, math.inf)),
    Target("lag-1 ACF of 1 s returns within +-0.1", "return ACF lag 1, 1s", (-0.1, 0.1)),
    Target("cancels at the best per market order within a factor 2",
           "cancels at the best per market order"),
    Target("order-flow imbalance R^2 at 10 s in [0.3, 0.8]", "order-flow imbalance R^2, 10s",
           (0.3, 0.8)),
)
SCORE_TARGET = f"realism score <= {SCORE_SHARE:g} x each baseline's"


@dataclass(frozen=True)
class TargetRow:
    """A target's verdict, with the values it was read from (as text)."""

    name: str
    real: str
    simulated: str
    verdict: str  #: met, not met, too short, n/a


def verdict(target: Target, real: Statistic, simulated: Statistic) -> str:
    """The verdict of ``target`` on one fact's two sides (see the module docstring)."""
    fact = next(f for f in FACTS.facts if f.name == target.fact)
    if target.bounds is None:
        said = agreement(fact, real, simulated)
        return {"close": "met", "far": "not met"}.get(said, said)
    if simulated.n < simulated.min_n:
        return "too short"
    if not simulated.enough:
        return "n/a"
    low, high = target.bounds
    return "met" if low <= simulated.value <= high else "not met"


def score_verdict(own: tuple[float, int], baselines: Sequence[tuple[float, int]]) -> str:
    """``met`` when the score (value, families) is at most :data:`SCORE_SHARE` of every
    baseline's over the same number of families; ``too short`` when a score is missing."""
    if not baselines or any(not math.isfinite(s) for s, _ in (own, *baselines)):
        return "too short"
    if any(families != own[1] for _, families in baselines):
        return "n/a"
    return "met" if all(own[0] <= SCORE_SHARE * s for s, _ in baselines) else "not met"


def check(c: Comparison, baselines: dict[str, tuple[float, int]] | None = None) -> list[TargetRow]:
    """Every target of :data:`TARGETS` read off a comparison; with ``baselines`` (source ->
    (score, families) against the same real data), the score target too."""
    facts = {f.name: f for f in c.facts}
    rows = [TargetRow(t.name, facts[t.fact].real.text(), facts[t.fact].simulated.text(),
                      verdict(t, facts[t.fact].real, facts[t.fact].simulated)) for t in TARGETS]
    if baselines:
        shown = ", ".join(f"{name}: {s:.3g} ({k})" for name, (s, k) in baselines.items())
        rows.append(TargetRow(SCORE_TARGET, f"baselines {shown}", f"{c.score:.3g} ({c.families})",
                              score_verdict((c.score, c.families), list(baselines.values()))))
    return rows


def targets(real: RunData, simulated: RunData,
            baselines: Sequence[RunData] = ()) -> tuple[Comparison, list[TargetRow]]:
    """The comparison of ``simulated`` with ``real`` and the targets' verdicts; each
    baseline run is scored against ``real`` for the score target."""
    comparison = compare(simulated, real)
    scores = {b.source: score(distances(b, real)) for b in baselines}
    return comparison, check(comparison, scores)


def as_dicts(rows: list[TargetRow]) -> list[dict[str, str]]:
    """The rows as JSON-ready data."""
    return [{"target": r.name, "real": r.real, "simulated": r.simulated, "verdict": r.verdict}
            for r in rows]


def format_targets(rows: list[TargetRow]) -> str:
    """The rows as aligned text."""
    lines = [f"{'target (issue 16)':<58}{'verdict':<11}{'simulated':<22}real"]
    lines += [f"{r.name:<58}{r.verdict:<11}{r.simulated:<22}{r.real}" for r in rows]
    return "\n".join(lines)
