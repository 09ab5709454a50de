"""One agent's latency: a floor plus a seeded jitter, per leg, in integer nanoseconds.

Deliveries on one leg never overtake each other (a gateway session is an ordered
stream, like TCP): a draw that would arrive before the previous message on the same
leg is held back to arrive right after it.
"""

from __future__ import annotations

import numpy as np

from lobsim.config import LatencyConfig


class Leg:
    """One direction of one agent's connection."""

    __slots__ = ("floor_ns", "_draw", "_last_ns")

    def __init__(self, floor_ns: int, jitter: str, jitter_ns: int, rng: np.random.Generator) -> None:
        self.floor_ns = floor_ns
        self._last_ns = 0  # arrival time of the previous message on this leg
        if jitter == "none" or jitter_ns == 0:
            self._draw = None
        elif jitter == "exponential":
            self._draw = lambda: int(rng.exponential(jitter_ns))
        elif jitter == "uniform":
            self._draw = lambda: int(rng.integers(0, jitter_ns + 1))
        else:
            raise ValueError(f"unknown jitter {jitter!r}")

    def arrival(self, now_ns: int) -> int:
        """When a message sent at ``now_ns`` arrives, ns; never before the previous one."""
        arrival = now_ns + self.floor_ns
        if self._draw is not None:
            arrival += self._draw()
        if arrival < self._last_ns:
            arrival = self._last_ns
        self._last_ns = arrival
        return arrival


def legs(config: LatencyConfig, rng: np.random.Generator) -> tuple[Leg, Leg]:
    """(inbound, outbound) legs for ``config``, both drawing from ``rng``."""
    return (Leg(config.inbound_ns, config.jitter, config.jitter_ns, rng),
            Leg(config.outbound_ns, config.jitter, config.jitter_ns, rng))
