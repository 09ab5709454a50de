"""Networks for learning seats whose spaces differ (makers and executors in one market).

:class:`SeatMLP` gives every group of seats with equal (observation, output) sizes an
:class:`~agents.rl.common.EnsembleMLP` of its own; :func:`seat_mlp` picks it, or a plain
ensemble when every seat has the same spaces (so checkpoints of makers only keep their
layout).
"""

from __future__ import annotations

import torch
from torch import nn

from agents.rl.common import EnsembleMLP
from lobsim.errors import InputError

#: the output of a padded action slot: never the argmax, probability 0 under a softmax
MASKED = -1e9


class SeatMLP(nn.Module):
    """Per-seat MLPs for seats whose spaces differ: seats of equal (observation, output)
    sizes form one :class:`EnsembleMLP` group each (in order of first appearance).

    Input (agents, batch, max obs size), each seat's observation zero-padded at the end
    (:func:`lobsim.rl.seat.pad_stack`); output (agents, batch, max output size), the slots
    past a seat's own outputs filled with ``fill``. One batched call per group.
    """

    def __init__(self, obs_sizes: list[int], out_sizes: list[int], hidden: int = 64,
                 out_std: float = 1.0, fill: float = MASKED) -> None:
        super().__init__()
        keys = list(dict.fromkeys(zip(obs_sizes, out_sizes)))
        self.seats = [[i for i, k in enumerate(zip(obs_sizes, out_sizes)) if k == key] for key in keys]
        self.sizes = keys
        self.groups = nn.ModuleList(EnsembleMLP(len(seats), d, n, hidden, out_std)
                                    for seats, (d, n) in zip(self.seats, keys))
        self.n_out, self.fill = max(out_sizes), fill

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.full((*x.shape[:2], self.n_out), self.fill, dtype=x.dtype)
        for seats, (d, n), net in zip(self.seats, self.sizes, self.groups):
            out[seats, :, :n] = net(x[seats, :, :d])
        return out


def seat_mlp(members: int, obs_sizes: list[int], out_sizes: list[int], hidden: int = 64,
             out_std: float = 1.0) -> nn.Module:
    """The networks of every seat: one :class:`EnsembleMLP` of ``members`` (1: shared by
    every seat) when all seats have the same spaces, else a :class:`SeatMLP` (per-seat
    networks sized to each seat's spaces; sharing one network is then refused)."""
    if len(set(obs_sizes)) == 1 and len(set(out_sizes)) == 1:
        return EnsembleMLP(members, obs_sizes[0], out_sizes[0], hidden, out_std)
    if members != len(obs_sizes):
        raise InputError("shared networks need every learning seat to have the same spaces "
                         f"(observation sizes {obs_sizes}, action counts {out_sizes}): use "
                         "independent networks")
    return SeatMLP(obs_sizes, out_sizes, hidden, out_std)
