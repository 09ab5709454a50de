"""Fast scalar random draws for agents: a numpy ``Generator`` read in batches.

A scalar call on a numpy ``Generator`` costs about a microsecond of call overhead; an
agent that draws a few numbers per order spends more time there than the matching
engine does. :class:`BatchedRandom` draws 4096 uniforms at a time and serves scalar
``random``, ``exponential``, ``integers`` and ``geometric`` from them by inversion, with
the same signatures as ``numpy.random.Generator``. The sequence is a pure function of
the generator's seed. Any other method is passed to the underlying generator.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


class BatchedRandom:
    """Scalar draws from ``generator``, 4096 uniforms at a time. O(1) amortized per draw."""

    BATCH = 4096

    def __init__(self, generator: np.random.Generator) -> None:
        self.generator = generator
        self._buffer: list[float] = []
        self._next = 0

    def random(self) -> float:
        """Uniform on [0, 1)."""
        i = self._next
        if i == len(self._buffer):
            self._buffer = self.generator.random(self.BATCH).tolist()
            i = 0
        self._next = i + 1
        return self._buffer[i]

    def exponential(self, scale: float = 1.0) -> float:
        """Exponential with mean ``scale``."""
        return -scale * math.log1p(-self.random())

    def integers(self, low: int, high: int | None = None) -> int:
        """Uniform integer on [low, high), or [0, low) with one argument."""
        if high is None:
            low, high = 0, low
        return low + min(int(self.random() * (high - low)), high - low - 1)

    def geometric(self, p: float) -> int:
        """Number of trials to the first success (support 1, 2, ...), success chance ``p``."""
        if p >= 1.0:
            return 1
        return 1 + int(math.log1p(-self.random()) / math.log1p(-p))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.generator, name)
