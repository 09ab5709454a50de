"""Warm starts: ``lobsim train --init-from POLICY_DIR`` loads a policy's networks into a
new run on another scenario (docs/learning.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from agents.rl.common import VecMarket, load_checkpoint, load_state, payload_obs_sizes
from lobsim.errors import CheckpointError

def warm_start(init_from: Path, algo: str, envs: VecMarket, args: Any,
               networks: dict[str, nn.Module], shape_keys: tuple[str, ...] = ("mode", "hidden")) -> dict:
    """Load the networks of a policy trained on another scenario (``--init-from DIR``).

    ``networks``: state-dict key in the checkpoint -> the module to fill. The checkpoint is
    read with ``torch.load(weights_only=True)``; it must be ``algo``'s, with the same
    settings ``shape_keys`` as ``args`` and, seat by seat, the same observation and action
    sizes as ``envs`` (seat names may differ); otherwise one :class:`CheckpointError`
    line. Only the weights carry over: optimizer, step count and curve start afresh.
    Returns what the training summary records of the source."""
    where = f"--init-from {init_from}"
    payload = load_checkpoint(init_from, algo)
    config = payload["config"]
    for key in shape_keys:
        if config.get(key) != getattr(args, key):
            raise CheckpointError(f"{where}: trained with {key} {config.get(key)!r}, this run "
                                  f"uses {getattr(args, key)!r}")
    theirs = list(zip(payload_obs_sizes(payload), payload["n_actions"]))
    ours = list(zip(envs.obs_sizes, envs.n_actions))
    if theirs != ours:
        raise CheckpointError(f"{where}: seat spaces (obs, actions) {theirs} do not match this "
                              f"scenario's {ours}")
    for key, module in networks.items():
        load_state(module, payload["state_dicts"][key], where)
    return {"init_from": str(init_from), "init_from_step": payload["progress"]["step"]}
