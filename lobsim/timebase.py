"""Simulated time: integer nanoseconds in the core, seconds (floats) only at the edges."""

from __future__ import annotations

NS_PER_SECOND = 1_000_000_000

#: The last instant both engines can represent: int64 ns, about 292 years. A message or
#: timer due later never happens (every run ends before it: see ``lobsim.market``), so
#: the compiled engine saturates its times here where Python's ints would grow on.
HORIZON_NS = (1 << 63) - 1


def seconds_to_ns(seconds: float) -> int:
    """Seconds of simulated time -> integer nanoseconds (rounded to the nearest ns)."""
    return round(seconds * NS_PER_SECOND)


def ns_to_seconds(ns: int) -> float:
    return ns / NS_PER_SECOND


def ns_or_never(seconds: float) -> int | None:
    """Seconds of simulated time -> ns as :func:`seconds_to_ns`, or None when that is past
    :data:`HORIZON_NS` (or not a number): a time that never comes. The compiled twins
    apply the same test to the same double (``seconds * 1e9 < 2**63``)."""
    ns = seconds * NS_PER_SECOND
    return round(ns) if ns < HORIZON_NS else None
