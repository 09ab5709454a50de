"""Simulated time: integer nanoseconds in the core, seconds (floats) only at the edges."""

from __future__ import annotations

NS_PER_SECOND = 1_000_000_000


def seconds_to_ns(seconds: float) -> int:
    """Seconds of simulated time -> integer nanoseconds (rounded to the nearest ns)."""
    return round(seconds * NS_PER_SECOND)


def ns_to_seconds(ns: int) -> float:
    return ns / NS_PER_SECOND
