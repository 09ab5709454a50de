"""Reading ``policy.pt`` checkpoints of the ``lobsim.learners`` (torch and lobsim.errors only).

A checkpoint holds plain data only (state dicts, the config dict that built the
networks, progress) and is read back with ``torch.load(weights_only=True)``; a missing,
corrupt or mismatched file is one :class:`~lobsim.errors.CheckpointError` line naming
it. Format 2 adds ``checksum``: the sha256 of everything else in the payload (tensors
by dtype, shape and bytes; other values by ``repr``), so that a flipped byte which still
unpickles is refused too; weights must be finite and ``progress`` within its bounds. Shared by the learners (:mod:`agents.rl.common`) and ``lobsim evaluate``, which must
not import ``agents`` at import time.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import torch

from lobsim.scenario.config import MAX_TRAIN_STEPS
from lobsim.errors import CheckpointError

CHECKPOINT = "policy.pt"
FORMAT = 2  #: policy.pt layout version (2: with ``checksum``)
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
    if payload.get("checksum") != checksum(payload):
        raise CheckpointError(f"{where}: checkpoint is damaged (its checksum does not match)")
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
    _check_finite(payload["state_dicts"], where, "state_dicts")
    _check_progress(payload["progress"], where)
    return payload


def checksum(payload: dict) -> str:
    """sha256 (hex) of ``payload`` without its ``checksum`` key. O(bytes of the tensors)."""
    digest = hashlib.sha256()
    _digest({k: v for k, v in payload.items() if k != "checksum"}, digest)
    return digest.hexdigest()


def _digest(obj: Any, digest: Any) -> None:
    """Feed ``obj`` to ``digest`` in a canonical order (dict keys sorted by repr)."""
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous()
        digest.update(f"T{t.dtype}{tuple(t.shape)}".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(obj, dict):
        digest.update(b"{")
        for key in sorted(obj, key=repr):
            _digest(key, digest)
            _digest(obj[key], digest)
        digest.update(b"}")
    elif isinstance(obj, (list, tuple)):
        digest.update(b"[" if isinstance(obj, list) else b"(")
        for item in obj:
            _digest(item, digest)
        digest.update(b"]")
    else:
        digest.update(f"{type(obj).__name__}:{obj!r};".encode())


def _check_finite(obj: Any, where: str, path: str) -> None:
    """Every floating tensor (and float) under ``obj`` finite; else CheckpointError naming it."""
    if isinstance(obj, torch.Tensor):
        if obj.is_floating_point() and not bool(torch.isfinite(obj).all()):
            raise CheckpointError(f"{where}: checkpoint holds non-finite weights in {path}")
    elif isinstance(obj, float) and not math.isfinite(obj):
        raise CheckpointError(f"{where}: checkpoint holds a non-finite value in {path}")
    elif isinstance(obj, dict):
        for key, value in obj.items():
            _check_finite(value, where, f"{path}.{key}")
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            _check_finite(value, where, f"{path}[{i}]")


def _check_progress(progress: dict, where: str) -> None:
    """``step`` an int in [0, MAX_TRAIN_STEPS]; ``curve`` rows of finite numbers with an int
    ``step`` (at most ``step``) and ``episode`` and a ``reward``, so a resumed run never
    trains first and fails writing its curve."""
    step, curve = progress.get("step"), progress.get("curve")
    if type(step) is not int or not 0 <= step <= MAX_TRAIN_STEPS or not isinstance(curve, list):
        raise CheckpointError(f"{where}: checkpoint lacks a valid 'progress' (step from 0 to "
                              f"{MAX_TRAIN_STEPS:,}, curve)")
    for i, row in enumerate(curve):
        ok = (isinstance(row, dict) and all(isinstance(k, str) for k in row)
              and all(type(v) in (int, float) and math.isfinite(v) for v in row.values())
              and type(row.get("step")) is int and 0 <= row["step"] <= step
              and type(row.get("episode")) is int and "reward" in row)
        if not ok:
            raise CheckpointError(f"{where}: checkpoint has a damaged 'progress.curve' (row {i}: "
                                  "expected finite step, episode and reward, step <= progress.step)")


def seat_obs_sizes(payload: dict) -> list[int]:
    """Each seat's observation length in a checkpoint (older ones: all ``obs_size``)."""
    return list(payload.get("obs_sizes") or [payload["obs_size"]] * len(payload["agents"]))


def check_matches(payload: dict, vec_or_env: Any, where: str) -> None:
    """The checkpoint's seats, observation and action sizes must match the scenario's."""
    names = list(vec_or_env.names if hasattr(vec_or_env, "names") else vec_or_env.possible_agents)
    if list(payload["agents"]) != names:
        raise CheckpointError(f"{where}: checkpoint seats {list(payload['agents'])} do not match "
                              f"the scenario's learners {names}")
    # int(): gymnasium's sizes are numpy integers, which print as np.int64(3)
    n_actions = [int(n) for n in (vec_or_env.n_actions if hasattr(vec_or_env, "n_actions")
                                  else [vec_or_env.action_space(n).n for n in names])]
    obs_sizes = [int(n) for n in (vec_or_env.obs_sizes if hasattr(vec_or_env, "obs_sizes")
                                  else [vec_or_env.observation_space(n).shape[0] for n in names])]
    if list(payload["n_actions"]) != list(n_actions) or seat_obs_sizes(payload) != list(obs_sizes):
        raise CheckpointError(f"{where}: checkpoint spaces (obs {seat_obs_sizes(payload)}, actions "
                              f"{list(payload['n_actions'])}) do not match the scenario's "
                              f"(obs {list(obs_sizes)}, actions {list(n_actions)})")
