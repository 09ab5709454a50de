"""Torch generators on lobsim's named random streams (see :mod:`lobsim.seeding`).

A run is a pure function of its seed: each component draws from its own named child of
``numpy.random.SeedSequence(seed)``; this module turns such a child into a seeded
``torch.Generator`` or a plain integer seed.
"""

from __future__ import annotations

import numpy as np
import torch

from lobsim.seeding import child, root

__all__ = ["child", "int_seed", "root", "torch_generator"]


def torch_generator(
    seq: np.random.SeedSequence, device: str | torch.device = "cpu"
) -> torch.Generator:
    """A torch generator seeded with 64 bits drawn from ``seq``."""
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seq.generate_state(1, np.uint64)[0]))
    return gen


def int_seed(seq: np.random.SeedSequence) -> int:
    """A 63-bit integer drawn from ``seq``, for APIs that take a plain integer seed."""
    return int(seq.generate_state(1, np.uint64)[0] >> np.uint64(1))
