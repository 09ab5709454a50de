"""Reading ``policy.pt`` checkpoints of the ``lobsim.learners`` (torch and lobsim.errors only).

A checkpoint holds plain data only (state dicts, the config dict that built the
networks, progress) and is read back with ``torch.load(weights_only=True)``; a missing,
corrupt or mismatched file is one :class:`~lobsim.errors.CheckpointError` line naming
it. Shared by the learners (:mod:`agents.rl.common`) and ``lobsim evaluate``, which must
not import ``agents`` at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from lobsim.errors import CheckpointError

CHECKPOINT = "policy.pt"
FORMAT = 1  #: policy.pt layout version
#: state dicts every checkpoint of an algo must hold
STATE_KEYS = {"dqn": ("q", "target", "optimizer"), "ppo": ("net", "optimizer")}
#: what a malformed checkpoint raises while networks are rebuilt from it
BAD_PAYLOAD = (KeyError, IndexError, TypeError, ValueError, AttributeError, RuntimeError)


def load_checkpoint(path: str | Path, algo: str | None = None) -> dict:
    """The payload of ``path`` (a policy.pt or a directory holding one), checked."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT
    if not path.exists():
        raise CheckpointError(f"{path}: no such checkpoint")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a bad file
        raise CheckpointError(f"{path}: not a lobsim checkpoint ({short_error(exc)})") from None
    return check_payload(payload, algo, str(path))


def short_error(exc: BaseException) -> str:
    """The first line of an exception's message, without terminal escapes, at most 120 chars."""
    import re

    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:120]


def check_payload(payload: Any, algo: str | None, where: str = "policy.pt") -> dict:
    """``payload`` if it is a complete checkpoint (for ``algo``); else CheckpointError."""
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{where}: not a lobsim checkpoint (format {FORMAT} expected)")
    for key, kind in (("algo", str), ("config", dict), ("state_dicts", dict), ("agents", list),
                      ("obs_size", int), ("n_actions", list), ("progress", dict)):
        if not isinstance(payload.get(key), kind):
            raise CheckpointError(f"{where}: checkpoint lacks a valid {key!r}")
    if algo is not None and payload["algo"] != algo:
        raise CheckpointError(f"{where}: checkpoint is for {payload['algo']!r}, not {algo!r}")
    n_actions, agents = payload["n_actions"], payload["agents"]
    if not n_actions or not all(type(n) is int and n > 0 for n in n_actions):
        raise CheckpointError(f"{where}: checkpoint lacks a valid 'n_actions' (positive integers)")
    if not agents or not all(isinstance(a, str) for a in agents) or len(agents) != len(n_actions):
        raise CheckpointError(f"{where}: checkpoint lacks a valid 'agents' (one name per action space)")
    if payload["obs_size"] <= 0:
        raise CheckpointError(f"{where}: checkpoint lacks a valid 'obs_size'")
    sizes = payload.get("obs_sizes")  # per seat; absent in checkpoints of makers only
    if sizes is not None and not (isinstance(sizes, list) and len(sizes) == len(agents)
                                  and all(type(d) is int and 0 < d <= payload["obs_size"] for d in sizes)):
        raise CheckpointError(f"{where}: checkpoint lacks a valid 'obs_sizes' (one positive size per seat)")
    missing = [k for k in STATE_KEYS.get(payload["algo"], ()) if not isinstance(payload["state_dicts"].get(k), dict)]
    if missing:
        raise CheckpointError(f"{where}: checkpoint lacks the state dicts {missing}")
    progress = payload["progress"]
    if type(progress.get("step")) is not int or progress["step"] < 0 or not isinstance(progress.get("curve"), list):
        raise CheckpointError(f"{where}: checkpoint lacks a valid 'progress' (step, curve)")
    return payload


def seat_obs_sizes(payload: dict) -> list[int]:
    """Each seat's observation length in a checkpoint (older ones: all ``obs_size``)."""
    return list(payload.get("obs_sizes") or [payload["obs_size"]] * len(payload["agents"]))


def check_matches(payload: dict, vec_or_env: Any, where: str) -> None:
    """The checkpoint's seats, observation and action sizes must match the scenario's."""
    names = list(vec_or_env.names if hasattr(vec_or_env, "names") else vec_or_env.possible_agents)
    if list(payload["agents"]) != names:
        raise CheckpointError(f"{where}: checkpoint seats {list(payload['agents'])} do not match "
                              f"the scenario's learners {names}")
    n_actions = (vec_or_env.n_actions if hasattr(vec_or_env, "n_actions")
                 else [vec_or_env.action_space(n).n for n in names])
    obs_sizes = (vec_or_env.obs_sizes if hasattr(vec_or_env, "obs_sizes")
                 else [vec_or_env.observation_space(n).shape[0] for n in names])
    if list(payload["n_actions"]) != list(n_actions) or seat_obs_sizes(payload) != list(obs_sizes):
        raise CheckpointError(f"{where}: checkpoint spaces (obs {seat_obs_sizes(payload)}, actions "
                              f"{list(payload['n_actions'])}) do not match the scenario's "
                              f"(obs {list(obs_sizes)}, actions {list(n_actions)})")
