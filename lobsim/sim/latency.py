"""One agent's latency: a floor plus a seeded jitter, per leg, in integer nanoseconds.

Deliveries on one leg never overtake each other (a gateway session is an ordered
stream, like TCP): a draw that would arrive before the previous message on the same
leg is held back to arrive right after it.
"""

from __future__ import annotations

import numpy as np

from lobsim.scenario.config import LatencyConfig
from lobsim.units import HORIZON_NS, later


class Leg:
    """One direction of one agent's connection."""

    #: jitter values drawn per numpy call: one vectorized draw instead of one call per
    #: message (a scalar numpy draw costs about a microsecond). The stream of values is
    #: the same whatever the batch size, so runs stay reproducible.
    BATCH = 4096
    #: ns: where an exponential draw is cut (292 years: past every run's end), as a float
    #: past int64 would turn negative in the cast.
    MAX_DRAW = 9.2e18

    def __init__(self, floor_ns: int, jitter: str, jitter_ns: int, rng: np.random.Generator) -> None:
        # a floor at or past the horizon never arrives either way: held at it, it fits int64
        self.floor_ns = min(floor_ns, HORIZON_NS)
        self._last_ns = 0  # arrival time of the previous message on this leg
        self._draws: list[int] = []
        self._next = 0
        if jitter == "none" or jitter_ns == 0:
            self._jitter = None
        elif jitter == "exponential":
            self._jitter = lambda: rng.exponential(jitter_ns, self.BATCH).clip(
                max=self.MAX_DRAW).astype(np.int64).tolist()
        elif jitter == "uniform":
            self._jitter = lambda: rng.integers(0, jitter_ns + 1, self.BATCH).tolist()
        else:
            raise ValueError(f"unknown jitter {jitter!r}")

    @property
    def has_jitter(self) -> bool:
        return self._jitter is not None

    def next_batch(self) -> list[int]:
        """The next ``BATCH`` jitter values of this leg's stream, ns (it must have jitter).
        ``arrival`` reads them in order; so does the compiled engine, which takes them
        from here so that both engines see the very same draws."""
        return self._jitter()  # type: ignore[misc]

    def arrival(self, now_ns: int) -> int:
        """When a message sent at ``now_ns`` arrives, ns; never before the previous one, and
        :data:`~lobsim.units.HORIZON_NS` (never) if that is when or after it would."""
        arrival = later(now_ns, self.floor_ns)
        if self._jitter is not None:
            if self._next == len(self._draws):
                self._draws = self.next_batch()
                self._next = 0
            arrival = later(arrival, self._draws[self._next])
            self._next += 1
        if arrival < self._last_ns:
            arrival = self._last_ns
        self._last_ns = arrival
        return arrival


def legs(config: LatencyConfig, inbound_rng: np.random.Generator,
         outbound_rng: np.random.Generator) -> tuple[Leg, Leg]:
    """(inbound, outbound) legs for ``config``; each leg has its own stream, so the
    draws of one never depend on how many messages went the other way."""
    return (Leg(config.inbound_ns, config.jitter, config.jitter_ns, inbound_rng),
            Leg(config.outbound_ns, config.jitter, config.jitter_ns, outbound_rng))
