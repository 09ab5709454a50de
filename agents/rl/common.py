"""What the DQN and PPO learners share: parallel simulations, per-agent networks in one
batched call, checkpoints, and the learner record registered under ``lobsim.learners``.

* :class:`VecMarket`: ``n_envs`` copies of :class:`lobsim.rl.env.MarketEnv` spread over
  ``workers`` processes (spawned; one torch/numpy thread each), stepped in lockstep with
  auto-reset. Env ``i`` draws its episodes from ``SeedSequence(seed).spawn(n_envs)[i]``,
  so results do not depend on the number of workers.
* :class:`EnsembleMLP`: ``m`` independent MLPs evaluated with ``torch.baddbmm`` in one
  call: input ``(m, batch, in)``, output ``(m, batch, out)``. Independent learners use
  one member per agent; shared parameters use one member broadcast to every agent.
* :func:`save_checkpoint` / :func:`load_checkpoint`: ``policy.pt`` holds plain data only
  (state dicts, the config dict that built the networks, progress) and is read back with
  ``torch.load(weights_only=True)``; a corrupt or mismatched file is one
  :class:`~lobsim.errors.CheckpointError` line.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import multiprocessing as mp
import pickle
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lobsim.rl.checkpoint import (BAD_PAYLOAD, CHECKPOINT, FORMAT, STATE_KEYS, check_matches,  # noqa: F401
                               check_payload, checksum, load_checkpoint, short_error,
                               seat_obs_sizes as payload_obs_sizes)
from lobsim import registry
from lobsim.rl.seat import pad_stack
from lobsim.errors import CheckpointError, InputError, LobsimError

CURVE_CSV = "learning_curve.csv"
CURVE_PNG = "learning_curve.png"


@dataclass(frozen=True)
class Learner:
    """What ``lobsim train`` / ``lobsim evaluate`` find under the ``lobsim.learners`` group.

    ``train(scenario, steps, seed, out, resume, progress, **overrides) -> dict`` trains and
    writes ``out``; ``policy(payload) -> Policy`` rebuilds a greedy policy from a loaded
    checkpoint payload.
    """

    name: str
    train: Callable[..., dict]
    policy: Callable[[dict], Policy]

    def _module(self) -> Any:
        """The module that defines ``train``: one file per algorithm (docs/contributing.md),
        holding its ``Args`` and, optionally, ``check_args``."""
        import sys

        return sys.modules.get(self.train.__module__)

    def _args_class(self) -> type:
        """The ``Args`` dataclass of the learner's module."""
        args = getattr(self._module(), "Args", None)
        if not dataclasses.is_dataclass(args):
            raise InputError(f"learner {self.name!r} has no Args dataclass of settings")
        return args

    def settings(self) -> dict[str, Any]:
        """The learner's hyper-parameters and their defaults (the fields of its ``Args``)."""
        return dataclasses.asdict(self._args_class()())

    def check_settings(self, values: dict[str, Any], where: str) -> None:
        """:class:`InputError` naming ``where`` unless every key of ``values`` is one of the
        learner's settings with a value of its default's type (as a checkpoint's config is
        checked), and, if the learner's module has a ``check_args(args, where, error)``,
        the ranges it checks (the other settings at their defaults). Otherwise ranges and
        choices are the learner's to check when it trains."""
        args = make_args(self._args_class(), values, where, self.name, InputError)
        check = getattr(self._module(), "check_args", None)
        if check is not None:
            check(args, where, InputError)


class StopOnInterrupt:
    """Ctrl-C during training as a request to stop at the next step boundary, so that the
    learner saves a resumable checkpoint of what it has learned (``"interrupted": True``
    in its summary) instead of losing the run. A second Ctrl-C stops at once
    (KeyboardInterrupt). :meth:`install` before the loop, check :attr:`requested` in it,
    :meth:`restore` in a ``finally``. Outside the main thread (no signal handlers there)
    it never requests."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def install(self) -> None:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def restore(self) -> None:
        """The SIGINT handler from before :meth:`install` (idempotent)."""
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


class Policy:
    """Greedy decisions of every learner seat: ``act(obs (agents, obs_size)) -> (agents,)``."""

    def act(self, obs: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError


# --------------------------------------------------------------------------- networks


class EnsembleLinear(nn.Module):
    """``m`` independent linear layers applied in one ``baddbmm``: (m, B, in) -> (m, B, out)."""

    def __init__(self, m: int, fan_in: int, fan_out: int, std: float = math.sqrt(2)) -> None:
        super().__init__()
        weight = torch.empty(m, fan_out, fan_in)
        for i in range(m):
            nn.init.orthogonal_(weight[i], std)
        self.weight = nn.Parameter(weight.transpose(1, 2).contiguous())
        self.bias = nn.Parameter(torch.zeros(m, 1, fan_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, x, self.weight)


class EnsembleMLP(nn.Module):
    """``m`` independent ReLU MLPs (two hidden layers), one batched call for all of them."""

    def __init__(self, m: int, fan_in: int, fan_out: int, hidden: int = 64, out_std: float = 1.0) -> None:
        super().__init__()
        self.m = m
        self.net = nn.Sequential(EnsembleLinear(m, fan_in, hidden), nn.ReLU(),
                                 EnsembleLinear(m, hidden, hidden), nn.ReLU(),
                                 EnsembleLinear(m, hidden, fan_out, std=out_std))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] != self.m:  # one shared member for every agent
            a, b = x.shape[:2]
            return self._layers(x.reshape(1, a * b, -1)).reshape(a, b, -1)
        return self._layers(x)

    def _layers(self, x: torch.Tensor) -> torch.Tensor:
        # self.net's layers without nn.Module.__call__, whose overhead is a visible share
        # of a layer this small (the same operations, the same bits; docs/learning.md,
        # "Round two: the learner's side")
        first, _, second, _, last = self.net
        x = torch.relu(first.forward(x))
        x = torch.relu(second.forward(x))
        return last.forward(x)


def seed_everything(seed: int, threads: int = 1) -> None:
    """Seed torch and fix its threads (1: deterministic, and fastest at this size)."""
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


# --------------------------------------------------------------------------- parallel envs


def worker_scenario(agent_files: tuple, scenario_blob: bytes) -> Any:
    """In a spawned worker: one torch thread, the user's ``--agents`` files loaded, then
    the scenario unpickled (its parameters may be of their classes)."""
    torch.set_num_threads(1)
    for path in agent_files:
        registry.load_agent_file(path)
    return pickle.loads(scenario_blob)


def spawn_worker(target: Callable[..., None], *args: Any) -> tuple[Any, Any]:
    """A spawned daemon process running ``target(conn, *args)``; (this end of the pipe,
    the process). It starts with SIGINT ignored (inherited), so that Ctrl-C is one clean
    stop of the training process, which tells its workers when to end."""
    ctx = mp.get_context("spawn")
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=target, daemon=True, args=(child, *args))
        proc.start()
        child.close()
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)
    return parent, proc



@contextmanager
def worker_loop(conn: Any) -> Iterator[None]:
    """The ending every worker process shares: the training process gone (its pipe closed)
    ends the loop quietly, any other error goes back over ``conn`` as ``("error", one
    line)``, and the pipe is closed either way."""
    try:
        yield
    except (EOFError, BrokenPipeError):  # the training process is gone
        pass
    except Exception as exc:  # noqa: BLE001 - reported to the training process as one line
        try:
            conn.send(("error", f"{type(exc).__name__}: {short_error(exc)}"))
        except (BrokenPipeError, OSError):
            pass
    finally:
        conn.close()


def _worker(conn, agent_files: tuple, scenario_blob: bytes, seeds: list[int]) -> None:
    """Simulate ``seeds``' envs on command. Replies ("ok", data) or ("error", one line).

    A spawned process knows only the installed kinds: it loads the user's ``--agents``
    files first, then unpickles the scenario, whose parameters may be of their classes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the training process's to handle
    with worker_loop(conn):
        from lobsim.rl.env import MarketEnv

        scenario = worker_scenario(agent_files, scenario_blob)
        envs = [MarketEnv(scenario, seed=s) for s in seeds]
        names = envs[0].possible_agents
        size = max(d for d, _ in envs[0].sizes.values())
        while True:
            cmd, data = conn.recv()
            if cmd == "reset":
                conn.send(("ok", [pad_stack(env.reset()[0], names, size) for env in envs]))
            elif cmd == "step":
                out = []
                for env, actions in zip(envs, data):
                    obs, rew, term, trunc, infos = env.step(dict(zip(names, actions.tolist())))
                    done = not env.agents
                    episode = None
                    if done:
                        summary = env.result.summary
                        episode = {"market_seed": env.market_seed, "summary": summary}
                        obs = env.reset()[0]
                    out.append((pad_stack(obs, names, size), np.array([rew[n] for n in names]), done,
                                np.array([infos[n]["inventory"] for n in names]), episode))
                conn.send(("ok", out))
            elif cmd == "close":
                break


def receive(conn) -> Any:
    """A worker's reply; its failure is one :class:`LobsimError` line."""
    try:
        tag, data = conn.recv()
    except (EOFError, OSError):
        raise LobsimError("a simulation worker process exited unexpectedly") from None
    if tag == "error":
        raise LobsimError(f"a simulation worker failed: {data}")
    return data


class VecMarket:
    """``n_envs`` market envs over ``workers`` processes (0: in this process), lockstep."""

    def __init__(self, scenario: Any, n_envs: int, seed: int, workers: int = 2) -> None:
        from lobsim.rl.env import MarketEnv

        probe = MarketEnv(scenario)
        self.scenario = probe.scenario
        self.names = probe.possible_agents
        self.n_agents = len(self.names)
        self.obs_sizes = [probe.sizes[n][0] for n in self.names]
        self.obs_size = max(self.obs_sizes)  #: observations are zero-padded to this
        self.n_actions = [probe.action_space(n).n for n in self.names]
        self.roles = [probe.classes[n].role for n in self.names]  #: "maker", "executor", ...
        self.steps_per_episode = probe.max_steps
        self.team = probe.team
        self.n_envs = n_envs
        seeds = [int(s.generate_state(1)[0] & 0x7FFFFFFF)
                 for s in np.random.SeedSequence(seed).spawn(n_envs)]
        workers = min(workers, n_envs)
        self.local = workers == 0
        if self.local:
            self.envs = [MarketEnv(self.scenario, seed=s) for s in seeds]
        else:
            chunks = np.array_split(np.arange(n_envs), workers)
            self.chunks = [c.tolist() for c in chunks]
            self.conns, self.procs = [], []
            for chunk in self.chunks:
                conn, proc = spawn_worker(_worker, registry.agent_files(), pickle.dumps(self.scenario),
                                          [seeds[i] for i in chunk])
                self.conns.append(conn)
                self.procs.append(proc)
        self._pending: list | None = None

    def reset(self) -> np.ndarray:
        """Observations (n_envs, n_agents, obs_size)."""
        if self.local:
            return np.stack([pad_stack(env.reset()[0], self.names, self.obs_size) for env in self.envs])
        for conn in self.conns:
            self._send(conn, ("reset", None))
        return np.stack([o for conn in self.conns for o in receive(conn)])

    def step_async(self, actions: np.ndarray) -> None:
        """Send actions (n_envs, n_agents); collect with :meth:`step_wait`."""
        if self.local:
            self._pending = actions
            return
        for conn, chunk in zip(self.conns, self.chunks):
            self._send(conn, ("step", [actions[i] for i in chunk]))

    def step_wait(self):
        """(obs, rewards (E, A), dones (E,), inventory (E, A), finished episodes list)."""
        if self.local:
            out = []
            for env, actions in zip(self.envs, self._pending):
                obs, rew, _, _, infos = env.step(dict(zip(self.names, actions.tolist())))
                done = not env.agents
                episode = None
                if done:
                    episode = {"market_seed": env.market_seed, "summary": env.result.summary}
                    obs = env.reset()[0]
                out.append((pad_stack(obs, self.names, self.obs_size), np.array([rew[n] for n in self.names]), done,
                            np.array([infos[n]["inventory"] for n in self.names]), episode))
        else:
            out = [item for conn in self.conns for item in receive(conn)]
        obs = np.stack([o[0] for o in out])
        rewards = np.stack([o[1] for o in out]).astype(np.float32)
        dones = np.array([o[2] for o in out])
        inventory = np.stack([o[3] for o in out])
        episodes = [o[4] for o in out if o[4] is not None]
        return obs, rewards, dones, inventory, episodes

    @staticmethod
    def _send(conn, message: tuple) -> None:
        try:
            conn.send(message)
        except (BrokenPipeError, OSError):  # the worker died; its reply (if any) says why
            receive(conn)
            raise LobsimError("a simulation worker process exited unexpectedly") from None

    def step(self, actions: np.ndarray):
        self.step_async(actions)
        return self.step_wait()

    def close(self) -> None:
        if not self.local:
            for conn in self.conns:
                try:
                    conn.send(("close", None))
                except (BrokenPipeError, OSError):
                    pass
            for proc in self.procs:
                proc.join(timeout=5)
                if proc.is_alive():
                    proc.terminate()


class EpisodeTracker:
    """Running per-episode return and mean |inventory| per env, for the learning curve."""

    def __init__(self, n_envs: int, n_agents: int) -> None:
        self.ret = np.zeros((n_envs, n_agents))
        self.inv = np.zeros((n_envs, n_agents))
        self.len = np.zeros(n_envs)
        self.rows: list[dict] = []

    def update(self, step: int, rewards: np.ndarray, inventory: np.ndarray, dones: np.ndarray) -> None:
        self.ret += rewards
        self.inv += np.abs(inventory)
        self.len += 1
        for e in np.flatnonzero(dones):
            self.rows.append({"step": step, "episode": len(self.rows) + 1,
                              "reward": float(self.ret[e].mean()),
                              "abs_inventory": float(self.inv[e].mean() / self.len[e]),
                              **{f"reward_{i}": float(r) for i, r in enumerate(self.ret[e])}})
            self.ret[e] = 0
            self.inv[e] = 0
            self.len[e] = 0

    def running(self, last: int = 20) -> float | None:
        if not self.rows:
            return None
        return float(np.mean([r["reward"] for r in self.rows[-last:]]))


# --------------------------------------------------------------------------- files


def write_curve(out: Path, rows: list[dict], title: str, validation: list[dict] | None = None) -> None:
    """``learning_curve.csv`` (one row per finished episode) and ``learning_curve.png``,
    with the validation scores (``{"step", "score"}`` rows, :class:`Validation`) as dots."""
    out.mkdir(parents=True, exist_ok=True)
    fields = sorted({k for r in rows for k in r}, key=lambda k: (k not in ("step", "episode"), k))
    with open(out / CURVE_CSV, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields or ["step", "episode", "reward"])
        writer.writeheader()
        writer.writerows(rows)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ModuleNotFoundError:  # pragma: no cover - the plots extra
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    if rows:
        # the parallel envs step together, so episodes of one length end at the same step:
        # one point per step (their mean), not a vertical stroke through all of them
        steps, at = np.unique([r["step"] for r in rows], return_inverse=True)
        rewards = np.bincount(at, weights=[r["reward"] for r in rows]) / np.bincount(at)
        few = len(steps) < 100  # then the points themselves, with no running mean
        ax.plot(steps, rewards, ".-" if few else "-", alpha=1.0 if few else 0.3, lw=0.8,
                label="episode reward (mean over seats and episodes ending at the step)")
        if not few:
            k = len(steps) // 50
            smooth = np.convolve(rewards, np.ones(k) / k, mode="valid")
            ax.plot(steps[k - 1:], smooth, lw=1.5, label=f"running mean of {k} points")
    if validation:
        ax.plot([v["step"] for v in validation], [v["score"] for v in validation], "o", ms=4,
                label="validation, greedy (mean over seats)")
        best = max(validation, key=lambda v: v["score"])  # the first best, as Validation keeps
        ax.plot([best["step"]], [best["score"]], "o", ms=10, mfc="none", color="black",
                label="saved policy")
    if rows or validation:
        ax.legend()
    ax.set_xlabel("env steps")
    ax.set_ylabel("episode reward (price units)")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(out / CURVE_PNG, dpi=100)
    plt.close(fig)


def save_checkpoint(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    sealed = plain({"format": FORMAT, **payload})
    sealed["checksum"] = checksum(sealed)  # checked on load (lobsim.rl.checkpoint)
    torch.save(sealed, tmp)
    tmp.replace(path)


def plain(obj: Any) -> Any:
    """numpy scalars -> Python numbers, recursively (``weights_only`` loads plain data only)."""
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(plain(v) for v in obj)
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def load_optimizer(optimizer: torch.optim.Optimizer, state: Any, where: str) -> None:
    """Load an optimizer state; a state that does not fit the parameters is CheckpointError."""
    try:
        optimizer.load_state_dict(state)
        params = [p for group in optimizer.param_groups for p in group["params"]]
        for param in params:
            for value in optimizer.state.get(param, {}).values():
                if isinstance(value, torch.Tensor) and value.dim() and value.shape != param.shape:
                    raise ValueError(f"state of shape {tuple(value.shape)} for a parameter of "
                                     f"shape {tuple(param.shape)}")
    except BAD_PAYLOAD as exc:
        raise CheckpointError(f"{where}: optimizer state does not match the network "
                              f"({' '.join(str(exc).split())[:160]})") from None


def make_args(cls: type, config: dict, where: str, what: str, error: type[Exception]) -> Any:
    """``cls(**config)`` with every setting known and of its default's type, else ``error``."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(config) - set(fields))
    if unknown:
        raise error(f"{where}: unknown {what} settings {unknown}")
    for key, value in config.items():
        default = fields[key].default
        kind = type(default)
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool)) if kind is float else \
            (type(value) is kind)
        if not ok:
            raise error(f"{where}: {what} setting {key!r} must be {kind.__name__}, got {value!r}")
    return cls(**config)


def check_resume_mode(overrides: dict, args: Any, resume: Path) -> None:
    """A resumed run keeps its checkpoint's ``mode`` (the networks' shape depends on it)."""
    mode = overrides.get("mode")
    if mode is not None and mode != args.mode:
        raise InputError(f"--mode {mode}: {resume} was trained with mode {args.mode}")


def load_state(module: nn.Module, state: Any, where: str) -> None:
    try:
        module.load_state_dict(state)
    except (RuntimeError, KeyError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{where}: network does not match its config "
                              f"({' '.join(str(exc).split())[:160]})") from None
