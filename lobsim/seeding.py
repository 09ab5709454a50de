"""Named random streams derived from one integer seed.

A run is a pure function of its seed: every component draws from its own child of
``numpy.random.SeedSequence(seed)``, keyed by a stable hash of the component's name, so
adding an agent never shifts another agent's numbers. No stream is ever seeded from the
clock.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from lobsim.errors import InputError


def root(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    """The root sequence for a non-negative integer ``seed``."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    return np.random.SeedSequence(seed)


def child(parent: np.random.SeedSequence | int, name: str) -> np.random.SeedSequence:
    """The child stream of ``parent`` named ``name``.

    ``zlib.crc32`` (not ``hash``) keys the child, because Python's string hash changes
    from one process to the next.
    """
    parent = root(parent)
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.SeedSequence(parent.entropy, spawn_key=(*parent.spawn_key, key))


def generator(parent: np.random.SeedSequence | int, name: str) -> np.random.Generator:
    """A numpy ``Generator`` on the child stream ``name`` of ``parent``."""
    return np.random.Generator(np.random.PCG64(child(parent, name)))


def int_seed(seq: np.random.SeedSequence) -> int:
    """A 63-bit integer drawn from ``seq``, for APIs that take a plain integer seed."""
    return int(seq.generate_state(1, np.uint64)[0] >> np.uint64(1))


def torch_generator(seq: np.random.SeedSequence, device: str = "cpu") -> Any:
    """A ``torch.Generator`` seeded with 64 bits drawn from ``seq``.

    torch is imported here, not at module level: markets without learners run without it."""
    import torch

    gen = torch.Generator(device=device)
    gen.manual_seed(int(seq.generate_state(1, np.uint64)[0]))
    return gen
