"""Independent DQN market makers for :class:`lobsim.rl.env.MarketEnv` (CleanRL style).

The original prototype's design done right: every learner seat has its own Q-network and
target network (one member each of an :class:`~agents.rl.common.EnsembleMLP`, so all
seats decide in one batched call; ``Args.mode = "shared"`` gives all seats one
Q-network, trained on every seat's transitions, so that symmetric seats learn one policy
instead of drifting apart), its own replay samples (uniform, or proportional prioritized
replay with importance weights), an epsilon-greedy schedule decayed linearly, n-step
Double-DQN targets (online argmax, target evaluation), Huber loss, Adam and
gradient-norm clipping. The learning rate decays linearly to 0 over the second half of
the run (``anneal_lr_from``) and batches hold 256 transitions per seat (why, measured:
docs/learning.md). From half the run on, the greedy policy is scored every ``validate_every`` env steps on
validation episodes, and the best network scored is the policy saved
(:class:`~agents.rl.validation.Validation`: a DQN's greedy policy swings from one snapshot
to the next); the last network is kept too, to resume from. The simulations run in
``workers`` processes while the main process learns: actions are sent, the gradient
updates run, then the next observations are collected. Training is a pure function of
``Args.seed`` (per-env seed streams, one torch thread, deterministic algorithms),
whatever the number of workers.

Registered as ``dqn`` in the ``lobsim.learners`` group (``LEARNER``).
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from agents.rl.common import (BAD_PAYLOAD, CHECKPOINT, EpisodeTracker, Learner, Policy,
                              StopOnInterrupt, payload_obs_sizes,
                              VecMarket, check_matches, check_payload, check_resume_mode,
                              load_checkpoint, load_optimizer, load_state, make_args,
                              save_checkpoint, seed_everything, write_curve)
from agents.rl.seat_networks import seat_mlp
from agents.rl.transfer import warm_start
from agents.rl import validation as selection
from lobsim import seeding
from lobsim.errors import CheckpointError, InputError


@dataclass
class Args:
    seed: int = 1
    """root seed: networks, exploration, replay sampling and every market episode derive from it"""
    total_steps: int = 360_000
    """env steps over all parallel envs (one step = one decision of every seat)"""
    num_envs: int = 8
    """market simulations stepped in lockstep (split over `workers` processes)"""
    workers: int = 1
    """simulation processes (0: simulate in the training process; 1 used less CPU and wall
    time than 2 for the README command: docs/learning.md)"""
    learning_rate: float = 5e-4
    """Adam learning rate"""
    anneal_lr_from: float = 0.5
    """fraction of `total_steps` after which the learning rate decays linearly to 0 (1: constant)"""
    buffer_size: int = 200_000
    """replay capacity, transitions (each holds every seat's transition of one env step)"""
    batch_size: int = 256
    """transitions per gradient step, per seat"""
    gamma: float = 0.99
    """discount per decision step (0.99 at 0.1 s: a ~10 s horizon)"""
    executor_gamma: float = 0.0
    """discount per decision step of the executor seats (0: `gamma`). The executor's task is
    an undiscounted sum over a finite horizon, which 1.0 learns as it is; its shaping needs
    the same value as `shaping_discount`"""
    n_step: int = 3
    """n-step returns: targets sum n rewards (cut at an episode's end), then bootstrap"""
    tau: float = 1.0
    """target-network update rate (1: hard copy)"""
    target_interval: int = 2_000
    """env steps between target-network updates"""
    learning_starts: int = 10_000
    """env steps of play before learning (epsilon-greedy as scheduled: random play at
    `start_epsilon` 1.0, mostly the network's own at a warm start's lower one)"""
    train_interval: int = 8
    """env steps per gradient step (8 = one gradient step per lockstep of 8 envs)"""
    start_epsilon: float = 1.0
    """exploration rate at the start"""
    end_epsilon: float = 0.02
    """exploration rate after the decay"""
    exploration_fraction: float = 0.4
    """fraction of `total_steps` over which epsilon decays linearly"""
    max_grad_norm: float = 10.0
    """global gradient-norm clip"""
    fused_adam: bool = True
    """Adam's fused kernel: the same update up to rounding, in one pass over the parameters
    (False: the per-parameter loop of checkpoints before issue 19's round three)"""
    hidden: int = 64
    """width of the two ReLU hidden layers"""
    reward_scale: float = 100.0
    """rewards (price units) are multiplied by this for learning (100: ticks at tick 0.01)"""
    prioritized: bool = False
    """proportional prioritized replay (Schaul et al. 2016) instead of uniform"""
    per_alpha: float = 0.6
    """prioritization exponent"""
    per_beta: float = 0.4
    """initial importance-sampling exponent, annealed to 1"""
    threads: int = 1
    """torch threads in the training process"""
    mode: str = "independent"
    """independent: a Q-network per seat; shared: one Q-network for every seat"""
    validate_every: int = 20_000
    """env steps between scorings of the greedy policy on validation episodes; the best
    network scored is the policy saved (0: save the last network, no validation)"""
    validate_from: float = 0.5
    """fraction of `total_steps` before the first validation (earlier policies still explore)"""
    validate_seconds: float = 1200.0
    """simulated seconds of validation episodes per scoring, rounded up to whole episodes
    (20 of 60 s, 2 of 600 s; market seeds of the seed's `validate` stream)"""


#: The values of ``Args.mode``.
MODES = ("independent", "shared")


class QPolicy(Policy):
    """Greedy actions of the trained Q-networks, every seat in one batched call."""

    def __init__(self, q: torch.nn.Module) -> None:
        self.q = q.eval()

    @torch.inference_mode()
    def act(self, obs: np.ndarray) -> np.ndarray:
        x = torch.as_tensor(obs, dtype=torch.float32)[:, None, :]  # (agents, 1, obs)
        return self.q(x)[:, 0].argmax(-1).numpy()


def _networks(args: Args, obs_sizes: list[int], n_actions: list[int]) -> torch.nn.Module:
    # A one-member ensemble runs every seat's batch through the same network; seats of
    # different spaces get networks of their own sizes (padded actions are never chosen).
    return seat_mlp(1 if args.mode == "shared" else len(obs_sizes), obs_sizes, n_actions, args.hidden)


def policy(payload: dict) -> QPolicy:
    """Rebuild the greedy policy from a loaded checkpoint payload."""
    check_payload(payload, "dqn")
    args = _args(payload["config"], "policy.pt", CheckpointError)
    try:
        q = _networks(args, payload_obs_sizes(payload), payload["n_actions"])
    except BAD_PAYLOAD as exc:
        raise CheckpointError(f"policy.pt: cannot rebuild the networks ({str(exc)[:120]})") from None
    load_state(q, payload["state_dicts"]["q"], "policy.pt")
    return QPolicy(q)


def seat_discounts(args: Args, roles: list[str]) -> np.ndarray:
    """The discount per decision of each seat (float64, in seat order): ``executor_gamma``
    for executor seats when it is set (> 0), ``gamma`` for every other seat. Its powers are
    rounded to float32 where they meet the float32 rewards, as a Python float's were: runs
    without ``executor_gamma`` learn the same bits as before it existed."""
    own = args.executor_gamma if args.executor_gamma > 0 else args.gamma
    return np.array([own if role == "executor" else args.gamma for role in roles])


def gather(buf: np.ndarray, idx: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out[a, b] = buf[idx[a, b], a]``: seat ``a``'s sampled rows of a replay array
    ``buf`` (capacity, seats, ...) for sampled transitions ``idx`` (seats, batch), written
    into ``out`` (seats, batch, ...) with no allocation. O(seats x batch x row size)."""
    seats, row = buf.shape[1], buf.shape[2:]
    rows = (idx * seats + np.arange(seats)[:, None]).ravel()  # buf's (i, a) is flat row i * seats + a
    # mode="clip" only because "raise" would copy through a temporary: the rows are in range
    np.take(buf.reshape(-1, *row), rows, axis=0, out=out.reshape(-1, *row), mode="clip")
    return out


#: settings that earlier checkpoints carry and this version ignores (validation by episodes
#: became ``validate_seconds``: a resumed run validates for the default time instead)
RETIRED = ("validate_episodes",)


def _args(config: dict, where: str, error: type[Exception] = InputError) -> Args:
    config = {k: v for k, v in config.items() if k not in RETIRED}
    args = make_args(Args, config, where, "dqn", error)
    check_args(args, where, error)
    return args


#: settings in [0, 1]: fractions of the run, probabilities (epsilon), the executor's discount
FRACTIONS = ("anneal_lr_from", "start_epsilon", "end_epsilon", "exploration_fraction",
             "executor_gamma")


def check_args(args: Args, where: str, error: type[Exception] = InputError) -> None:
    """``error`` naming ``where`` unless the settings' ranges hold: ``mode`` one of
    :data:`MODES`, every :data:`FRACTIONS` setting in [0, 1], ``learning_starts`` >= 0 env
    steps, and the validation's (:func:`agents.rl.validation.check_settings`). Also run by
    ``Learner.check_settings`` on ``lobsim train --set`` and ``lobsim train-sweep --set``."""
    if args.mode not in MODES:
        raise error(f"{where}: mode must be {' or '.join(MODES)}, got {args.mode!r}")
    for key in FRACTIONS:
        value = getattr(args, key)
        if not 0 <= value <= 1:  # False for NaN too
            raise error(f"{where}: {key} must be between 0 and 1, got {value}")
    if args.learning_starts < 0:
        raise error(f"{where}: learning_starts must be >= 0 env steps, got {args.learning_starts}")
    selection.check_settings(args, where, error)


def epsilon(args: Args, step: int) -> float:
    """The exploration rate at env step ``step``: ``start_epsilon`` decayed linearly to
    ``end_epsilon`` over the first ``exploration_fraction`` of ``total_steps``, then flat."""
    frac = min(step / max(args.exploration_fraction * args.total_steps, 1), 1.0)
    return args.start_epsilon + frac * (args.end_epsilon - args.start_epsilon)


def train(scenario: Any, steps: int | None = None, seed: int | None = None, out: Path | None = None,
          resume: Path | None = None, progress: Callable[[int, int, float | None], None] | None = None,
          init_from: Path | None = None, **overrides: Any) -> dict:
    """Train independent DQN seats on ``scenario``; write ``out``/policy.pt and the curve.
    ``init_from``: start from the (selected) Q-networks of that policy directory
    (:func:`~agents.rl.common.warm_start`)."""
    payload = None
    if resume is not None:
        payload = load_checkpoint(resume, "dqn")
        # a checkpoint without the setting was trained with Adam's loop, and goes on with it
        args = _args({"fused_adam": False, **payload["config"]}, str(resume), CheckpointError)
    else:
        args = _args({}, "dqn")
    if resume is not None:
        check_resume_mode(overrides, args, resume)
    for key, value in overrides.items():
        if value is not None:
            setattr(args, key, value)
    if seed is not None:
        args.seed = seed
    if steps is not None:
        args.total_steps = steps
    args = _args(dataclasses.asdict(args), "dqn")  # overrides checked like a config
    out = Path(out or resume or "runs/dqn")
    # the simulation processes first: they start up (imports, markets) while this process
    # seeds torch, whose deterministic mode imports torch's compiler stack (seconds)
    envs = VecMarket(scenario, args.num_envs, args.seed if payload is None else
                     args.seed + int(payload["progress"]["step"]), args.workers)
    seed_everything(args.seed, args.threads)
    # a named stream: never the market seeds' SeedSequence(seed).spawn(...) nor torch's init
    rng = seeding.generator(args.seed, "dqn/explore")
    stop = StopOnInterrupt()
    validation = None
    try:
        A, D, E = envs.n_agents, envs.obs_size, args.num_envs
        N = np.array(envs.n_actions)  # per seat
        try:
            q = _networks(args, envs.obs_sizes, envs.n_actions)
            target = _networks(args, envs.obs_sizes, envs.n_actions)
        except BAD_PAYLOAD as exc:
            if payload is None:
                raise
            raise CheckpointError(f"{resume}: cannot rebuild the networks ({str(exc)[:120]})") from None
        optimizer = torch.optim.Adam(q.parameters(), lr=args.learning_rate, fused=args.fused_adam)
        start_step, rows, source = 0, [], {}
        if init_from is not None:
            source = warm_start(init_from, "dqn", envs, args, {"q": q})
        # with simulation processes, the validation scores in one more, off the learner's path
        validation = selection.start(scenario, args)
        if payload is not None:
            check_matches(payload, envs, str(resume))
            states = payload["state_dicts"]
            # "q" is the selected network; training goes on from the last one
            load_state(q, states.get("q_last", states["q"]), str(resume))
            if validation is not None:
                validation.restore(payload["progress"].get("validation"), states["q"])
            load_optimizer(optimizer, payload["state_dicts"]["optimizer"], str(resume))
            start_step = int(payload["progress"]["step"])
            rows = list(payload["progress"]["curve"])
        target.load_state_dict(q.state_dict())
        gammas = seat_discounts(args, envs.roles)  # (A,): per seat
        bootstrap = torch.as_tensor(gammas ** args.n_step, dtype=torch.float32)[:, None]

        cap = args.buffer_size
        buf_obs = np.zeros((cap, A, D), np.float32)
        buf_next = np.zeros((cap, A, D), np.float32)
        buf_act = np.zeros((cap, A), np.int64)
        buf_rew = np.zeros((cap, A), np.float32)
        buf_done = np.zeros(cap, np.float32)
        prio = np.zeros((A, cap), np.float64)
        size = pos = 0
        # a batch is gathered into the same arrays every gradient step, which the tensors
        # share: no allocation, no copy into torch
        batch = [np.empty((A, args.batch_size, *b.shape[2:]), b.dtype)
                 for b in (buf_obs, buf_next, buf_act, buf_rew)]
        batch_t = [torch.from_numpy(b) for b in batch]
        tracker = EpisodeTracker(E, A)
        tracker.rows = rows

        def annealed(step: int) -> float:
            """The learning rate's factor: 1 until `anneal_lr_from` of the run, then down to 0."""
            start = start_step + args.anneal_lr_from * args.total_steps
            return min(max((end - step) / max(end - start, 1), 0.0), 1.0)

        def learn(step: int) -> None:
            if args.anneal_lr_from < 1:
                optimizer.param_groups[0]["lr"] = args.learning_rate * annealed(step)
            if args.prioritized:
                p = prio[:, :size] ** args.per_alpha
                p /= p.sum(axis=1, keepdims=True)
                idx = np.stack([rng.choice(size, args.batch_size, p=p[a]) for a in range(A)])
                beta = args.per_beta + (1 - args.per_beta) * min(step / args.total_steps, 1.0)
                w = (size * p[np.arange(A)[:, None], idx]) ** -beta
                weights = torch.as_tensor(w / w.max(axis=1, keepdims=True), dtype=torch.float32)
            else:
                idx = rng.integers(size, size=(A, args.batch_size))
                weights = None
            a_ix = np.arange(A)[:, None]
            for buf, dest in zip((buf_obs, buf_next, buf_act, buf_rew), batch):
                gather(buf, idx, dest)
            obs, nxt, act, rew = batch_t  # (A, B, D), (A, B, D), (A, B), (A, B)
            rew = rew * args.reward_scale
            done = torch.from_numpy(buf_done[idx])
            with torch.no_grad():
                best = q(nxt).argmax(-1, keepdim=True)  # Double DQN: online argmax ...
                next_q = target(nxt).gather(-1, best).squeeze(-1)  # ... target evaluation
                y = rew + bootstrap * (1 - done) * next_q
            pred = q(obs).gather(-1, act[..., None]).squeeze(-1)
            loss = F.smooth_l1_loss(pred, y, reduction="none")
            if weights is not None:
                loss = loss * weights
                prio[a_ix, idx] = (pred - y).abs().detach().numpy() + 1e-3
            optimizer.zero_grad()
            loss.mean().backward()
            torch.nn.utils.clip_grad_norm_(q.parameters(), args.max_grad_norm)
            optimizer.step()

        obs = envs.reset()
        window: deque = deque()  # the last n_step (obs, actions, rewards, dones)
        step = start_step
        end = start_step + args.total_steps if payload is not None else args.total_steps
        validate_from = start_step + args.validate_from * args.total_steps
        t0 = time.perf_counter()
        since_train = since_target = updates = 0
        stop.install()  # Ctrl-C: stop after this step, save a resumable checkpoint
        while step < end and not stop.requested:
            eps = epsilon(args, step)
            with torch.inference_mode():  # every seat of every env: one batched forward
                greedy = q(torch.as_tensor(obs).transpose(0, 1)).argmax(-1).T.numpy()  # (E, A)
            explore = rng.random((E, A)) < eps
            actions = np.where(explore, rng.integers(N, size=(E, A)), greedy)
            envs.step_async(actions)
            # learn while the simulations run
            if step >= start_step + args.learning_starts and size >= args.batch_size:
                while since_train >= args.train_interval:
                    learn(step)
                    updates += 1
                    since_train -= args.train_interval
                if since_target >= args.target_interval:
                    with torch.no_grad():
                        for tp, p in zip(target.parameters(), q.parameters()):
                            tp.mul_(1 - args.tau).add_(args.tau * p)
                    since_target = 0
            else:  # random play: no backlog of gradient steps builds up
                since_train = since_target = 0
            next_obs, rewards, dones, inventory, _ = envs.step_wait()
            window.append((obs, actions, rewards, dones.astype(np.float32)))
            if len(window) == args.n_step:  # store the oldest step with its n-step return
                first_obs, first_act = window[0][0], window[0][1]
                ret = np.zeros((E, A), np.float32)
                alive = np.ones(E, np.float32)
                for k, (_, _, r, d) in enumerate(window):
                    ret += (gammas ** k).astype(np.float32) * alive[:, None] * r
                    alive = alive * (1 - d)
                slots = (pos + np.arange(E)) % cap
                buf_obs[slots], buf_next[slots], buf_act[slots] = first_obs, next_obs, first_act
                buf_rew[slots], buf_done[slots] = ret, 1 - alive
                if args.prioritized:  # a scan of the whole buffer: only when it is used
                    prio[:, slots] = prio[:, :size].max() if size else 1.0
                pos, size = (pos + E) % cap, min(size + E, cap)
                window.popleft()
            n = len(obs)
            step += n
            since_train += n
            since_target += n
            tracker.update(step, rewards, inventory, dones)
            obs = next_obs
            if validation is not None and selection.due(step, n, args.validate_every, validate_from):
                validation.offer(step, q, QPolicy(q))
            if progress is not None:
                progress(step - start_step, end - start_step, tracker.running())
        stop.restore()
        selected, record = selection.conclude(validation, step, q, QPolicy(q), stop.requested)
        elapsed = time.perf_counter() - t0
        config = dataclasses.asdict(args)
        progress_record = {"step": step, "curve": tracker.rows, "seconds": elapsed}
        if record is not None:
            progress_record["validation"] = record
        save_checkpoint(out / CHECKPOINT, {
            "algo": "dqn", "config": config, "agents": envs.names, "obs_size": D,
            "obs_sizes": envs.obs_sizes, "n_actions": envs.n_actions,
            "state_dicts": {"q": selected, "q_last": q.state_dict(), "target": target.state_dict(),
                            "optimizer": optimizer.state_dict()},
            "progress": progress_record,
        })
        write_curve(out, tracker.rows, f"DQN on {Path(envs.scenario.source).name}",
                    validation.history if validation is not None else None)
        summary = {"algo": "dqn", "steps": step - start_step, "total_steps": step,
                   "interrupted": stop.requested, "steps_left": max(end - step, 0), "seconds": elapsed,
                   "steps_per_second": (step - start_step) / elapsed if elapsed else None,
                   "episodes": len(tracker.rows), "running_reward": tracker.running(),
                   "gradient_steps": updates, "out": str(out), **source}
        if record is not None:
            summary["validation"] = record
        return summary
    finally:
        stop.restore()
        envs.close()
        if validation is not None:
            validation.close()


LEARNER = Learner("dqn", train, policy)
