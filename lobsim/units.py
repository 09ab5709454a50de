"""Units at the edge: the core is integer nanoseconds, ticks and lots; floats appear only
where a scenario, a summary or a figure meets a person.

One rounding rule each way: :func:`seconds_to_ns` and :func:`price_to_ticks` round to the
nearest integer (Python's ``round``: ties to even), and nothing else in lobsim converts.
"""

from __future__ import annotations

NS_PER_SECOND = 1_000_000_000

#: The last instant both engines can represent: int64 ns, about 292 years. A message or
#: timer due later never happens (every run ends before it: see ``lobsim.sim.market``), so
#: the compiled engine saturates its times here where Python's ints would grow on.
HORIZON_NS = (1 << 63) - 1


def later(time_ns: int, delay_ns: int) -> int:
    """``time_ns + delay_ns`` ns (``time_ns`` <= :data:`HORIZON_NS`), or ``HORIZON_NS`` where
    that would pass it: a time that never comes, as the scheduler drops what is due there.
    Saturating keeps every time within int64 on both builds."""
    horizon = HORIZON_NS
    return horizon if delay_ns > horizon - time_ns else time_ns + delay_ns


def seconds_to_ns(seconds: float) -> int:
    """Seconds of simulated time -> integer nanoseconds (rounded to the nearest ns)."""
    return round(seconds * NS_PER_SECOND)


def ns_to_seconds(ns: int) -> float:
    """Integer nanoseconds -> seconds of simulated time."""
    return ns / NS_PER_SECOND


def ns_or_never(seconds: float) -> int | None:
    """Seconds of simulated time -> ns as :func:`seconds_to_ns`, or None when that is past
    :data:`HORIZON_NS` (or not a number): a time that never comes. The compiled twins
    apply the same test to the same double (``seconds * 1e9 < 2**63``)."""
    ns = seconds * NS_PER_SECOND
    return round(ns) if ns < HORIZON_NS else None


def price_to_ticks(price: float, tick_size: float) -> int:
    """Price units -> the nearest whole tick."""
    return round(price / tick_size)


def ticks_to_price(ticks: int, tick_size: float, halves: bool = False) -> float:
    """Integer ticks (or half-ticks with ``halves``) x lots -> price units x lots, without
    float dust (rounded to 10 decimals, far below any tick size)."""
    return round(ticks * tick_size / (2 if halves else 1), 10)
