"""PPO market makers for :class:`lobsim.rl.env.MarketEnv`: IPPO, shared parameters, MAPPO.

One readable file in CleanRL style: hyper-parameters, networks, rollout collection, GAE,
the clipped PPO update. ``Args.mode``:

* ``"ippo"``: independent PPO; every seat has its own actor and critic (one member each
  of an :class:`~agents.rl.common.EnsembleMLP`, so every seat decides in one call);
* ``"shared"``: one actor and one critic for every seat (parameter sharing); the
  observation gets a one-hot seat id appended so seats can still differ;
* ``"mappo"``: independent actors and a centralized critic that sees every seat's
  observation (the concatenation) and outputs one value per seat; meant for team mode
  (``team = true`` in the scenario), where every seat's reward is the team's.

Rollouts of ``num_steps`` decisions run in ``num_envs`` simulations over ``workers``
processes; advantages are GAE(lambda), normalized per minibatch; the loss is the clipped
surrogate, minus the entropy bonus, plus the value loss. Options (``Args``; which are on
by default, and why, measured: docs/learning.md): a factored policy for grid makers (one
categorical per side, the joint action their product), rewards over the running std of
the discounted return, observations standardized by their running statistics (kept in
the network's state dict), the clipped value loss, the entropy bonus annealed to 0
with the learning rate, and potential-based shaping on the makers' inventory
(:class:`~agents.rl.ppo_signals.InventoryPotential`). Optionally (``validate_every``),
from half the run on, the greedy policy is scored on validation episodes at the end of
each rollout that crosses a multiple of ``validate_every`` env steps, and the best network
scored is the policy saved (DQN's model selection, :mod:`agents.rl.validation`); the last
network is kept too (``net_last``), to resume from. The saved policy takes the most
likely joint action. Training is a pure function of ``Args.seed`` (one torch thread,
deterministic algorithms, per-env seed streams).

Registered as ``ppo`` in the ``lobsim.learners`` group (``LEARNER``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.distributions import Categorical

from agents.rl.common import (BAD_PAYLOAD, CHECKPOINT, EnsembleMLP, EpisodeTracker, Learner, Policy,
                              StopOnInterrupt, payload_obs_sizes,
                              VecMarket, check_matches, check_payload, check_resume_mode,
                              load_checkpoint, load_optimizer, load_state, make_args,
                              save_checkpoint, seed_everything, write_curve)
from agents.rl.ppo_signals import InventoryPotential, RewardNormalizer, RunningMeanStd
from agents.rl.seat_networks import MASKED, seat_mlp
from agents.rl import validation as selection
from agents.rl.transfer import warm_start
from lobsim import seeding
from lobsim.errors import CheckpointError, InputError
from lobsim.rl.env import learner_params
from lobsim.rl.seat import side_choices


@dataclass
class Args:
    seed: int = 1
    """root seed: networks, action sampling, minibatch order and every market episode derive from it"""
    total_steps: int = 400_000
    """env steps over all parallel envs (one step = one decision of every seat)"""
    mode: str = "ippo"
    """ippo (independent), shared (one network for all seats) or mappo (centralized critic)"""
    num_envs: int = 16
    """market simulations stepped in lockstep (split over `workers` processes)"""
    workers: int = 2
    """simulation processes (0: simulate in the training process)"""
    num_steps: int = 128
    """decisions per env per rollout"""
    learning_rate: float = 3e-4
    """Adam learning rate"""
    anneal_lr: bool = True
    """decay the learning rate linearly to 0"""
    gamma: float = 0.99
    """discount per decision step"""
    gae_lambda: float = 0.8
    """GAE lambda (0.8: less noise from later fills; measured, docs/learning.md)"""
    num_minibatches: int = 8
    """minibatches per epoch"""
    update_epochs: int = 10
    """passes over each rollout (10 with GAE lambda 0.8: measured, docs/learning.md)"""
    norm_adv: bool = True
    """normalize advantages within each minibatch"""
    clip_coef: float = 0.2
    """PPO ratio clip"""
    ent_coef: float = 0.01
    """entropy bonus coefficient"""
    vf_coef: float = 0.5
    """value-loss coefficient"""
    max_grad_norm: float = 0.5
    """global gradient-norm clip"""
    hidden: int = 64
    """width of the two ReLU hidden layers of actor and critic"""
    reward_scale: float = 10.0
    """rewards (price units) are multiplied by this for learning"""
    norm_reward: bool = True
    """divide each seat's rewards by the running standard deviation of its discounted return"""
    clip_vloss: bool = True
    """clip the value update to `clip_coef` around the rollout's values (CleanRL's clip_vloss)"""
    anneal_ent: bool = True
    """decay the entropy coefficient linearly to 0 with the learning rate"""
    factored: bool = True
    """grid makers: one categorical per side (bid, ask), their product the joint action"""
    norm_obs: bool = False
    """standardize observations by their running mean and std (per feature, over seats),
    clipped to +-10; the statistics are kept with the networks and fixed after training"""
    inv_potential: float = 0.0
    """seconds; maker seats: potential-based shaping (Ng, Harada & Russell 1999) with the
    potential -penalty(q) x this, the inventory penalty of a position held that long: a fill
    is charged at once for what it will cost; the optimal policy is unchanged (0: off)"""
    threads: int = 1
    """torch threads in the training process"""
    validate_every: int = 0
    """env steps between scorings of the greedy policy on validation episodes, at rollout
    ends; the best network scored is the policy saved (0, the default: the last network;
    selection did not help, measured: docs/learning.md)"""
    validate_from: float = 0.5
    """fraction of `total_steps` before the first validation"""
    validate_seconds: float = 1200.0
    """simulated seconds of validation episodes per scoring, rounded up to whole episodes
    (2 of 600 s; market seeds of the seed's `validate` stream)"""


class ActorCritic(nn.Module):
    """Actors and critics of every seat for one ``mode`` (module docstring)."""

    def __init__(self, args: Args, obs_sizes: list[int], n_actions: list[int],
                 sides: list[int | None] | None = None) -> None:
        """Seats of different spaces get actors (and critics) of their own sizes; their
        observations come zero-padded to the largest, padded actions get probability 0.
        ``sides``: per seat, its choices per side when its policy is factored (a grid
        maker with ``args.factored``: :func:`lobsim.rl.seat.side_choices`), else None."""
        super().__init__()
        n_agents = len(obs_sizes)
        self.mode, self.n_agents, self.n_out = args.mode, n_agents, max(n_actions)
        self.sides = sides if sides is not None and any(sides) else None
        shared = args.mode == "shared"
        members = 1 if shared else n_agents
        actor_in = [d + (n_agents if shared else 0) for d in obs_sizes]
        actor_out = [2 * k if k else n for k, n in zip(self.sides or [None] * n_agents, n_actions)]
        self.obs_stats = RunningMeanStd((max(obs_sizes),)) if args.norm_obs else None
        self.actor = seat_mlp(members, actor_in, actor_out, args.hidden, out_std=0.01)
        if args.mode == "mappo":
            self.critic = EnsembleMLP(1, max(obs_sizes) * n_agents, n_agents, args.hidden)
        else:
            self.critic = seat_mlp(members, actor_in, [1] * n_agents, args.hidden)

    def _actor_input(self, obs: torch.Tensor) -> torch.Tensor:
        """obs (agents, batch, obs) -> the actor's input (with seat one-hot if shared)."""
        if self.mode != "shared":
            return obs
        a, b = obs.shape[:2]
        eye = torch.eye(a)[:, None, :].expand(a, b, a)
        return torch.cat([obs, eye], -1)

    def normalize(self, obs: torch.Tensor, update: bool = False) -> torch.Tensor:
        """obs (agents, batch, obs) as the networks take them (``norm_obs``: standardized;
        ``update``: the statistics first take these observations in)."""
        if self.obs_stats is None:
            return obs
        if update:
            self.obs_stats.update(obs.reshape(-1, obs.shape[-1]).double())
        z = (obs - self.obs_stats.mean) / torch.sqrt(self.obs_stats.var + 1e-8)
        return z.clamp(-10.0, 10.0).float()

    def logits(self, obs: torch.Tensor) -> torch.Tensor:
        """obs (agents, batch, obs) -> logits of the joint actions (agents, batch, actions)."""
        raw = self.actor(self._actor_input(obs))
        if self.sides is None:
            return raw
        # a factored seat's joint logit b * k + s is bid logit b + ask logit s: a product
        # of two categoricals, so what one side learns holds whatever the other side does
        out = torch.full((*raw.shape[:2], self.n_out), MASKED, dtype=raw.dtype)
        for i, k in enumerate(self.sides):
            if k is None:
                out[i, :, :raw.shape[2]] = raw[i]
            else:
                out[i, :, :k * k] = (raw[i, :, :k, None] + raw[i, :, None, k:2 * k]).flatten(1)
        return out

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """obs (agents, batch, obs) -> values (agents, batch)."""
        if self.mode == "mappo":
            joint = obs.transpose(0, 1).reshape(1, obs.shape[1], -1)  # (1, batch, agents*obs)
            return self.critic(joint)[0].T
        return self.critic(self._actor_input(obs)).squeeze(-1)


class PPOPolicy(Policy):
    """Greedy (most likely) actions of the trained actors, every seat in one call."""

    def __init__(self, net: ActorCritic) -> None:
        self.net = net.eval()

    @torch.no_grad()
    def act(self, obs: np.ndarray) -> np.ndarray:
        x = torch.as_tensor(obs, dtype=torch.float32)[:, None, :]
        return self.net.logits(self.net.normalize(x))[:, 0].argmax(-1).numpy()


#: what a checkpoint written before these settings existed was trained with
BEFORE_OPTIONS = {"factored": False, "norm_reward": False, "clip_vloss": False, "anneal_ent": False,
                  "norm_obs": False, "inv_potential": 0.0}


def _saved_args(payload: dict, where: str) -> Args:
    """The settings a checkpoint was trained with (older ones lack the later options)."""
    return _checked_args({**BEFORE_OPTIONS, **payload["config"]}, where, CheckpointError)


def _args(config: dict, where: str) -> Args:
    return _checked_args(config, where, InputError)


def _checked_args(config: dict, where: str, error: type[Exception]) -> Args:
    args = make_args(Args, config, where, "ppo", error)
    if args.mode not in ("ippo", "shared", "mappo"):
        raise error(f"{where}: mode must be ippo, shared or mappo, got {args.mode!r}")
    if not 0.0 <= args.inv_potential <= 1e6:  # seconds; a negative one would reward holding
        raise error(f"{where}: inv_potential must be seconds in [0, 1e6], got {args.inv_potential!r}")
    selection.check_settings(args, where, error)
    return args


def policy(payload: dict) -> PPOPolicy:
    """Rebuild the greedy policy from a loaded checkpoint payload."""
    check_payload(payload, "ppo")
    args = _saved_args(payload, "policy.pt")
    try:
        net = ActorCritic(args, payload_obs_sizes(payload), payload["n_actions"], payload.get("sides"))
    except BAD_PAYLOAD as exc:
        raise CheckpointError(f"policy.pt: cannot rebuild the networks ({str(exc)[:120]})") from None
    load_state(net, payload["state_dicts"]["net"], "policy.pt")
    return PPOPolicy(net)


def train(scenario: Any, steps: int | None = None, seed: int | None = None, out: Path | None = None,
          resume: Path | None = None, progress: Callable[[int, int, float | None], None] | None = None,
          init_from: Path | None = None, **overrides: Any) -> dict:
    """Train PPO seats on ``scenario``; write ``out``/policy.pt and the learning curve.
    ``init_from``: start from the actors and critics of that policy directory
    (:func:`~agents.rl.common.warm_start`)."""
    payload = None
    if resume is not None:
        payload = load_checkpoint(resume, "ppo")
        args = _saved_args(payload, str(resume))
        check_resume_mode(overrides, args, resume)
    else:
        args = _args({}, "ppo")
    for key, value in overrides.items():
        if value is not None:
            setattr(args, key, value)
    args = _args(dataclasses.asdict(args), "ppo")
    if seed is not None:
        args.seed = seed
    if steps is not None:
        args.total_steps = steps
    rollout = args.num_steps * args.num_envs
    if args.total_steps < rollout:  # PPO learns from whole rollouts only
        raise InputError(f"--steps {args.total_steps:,}: below one PPO rollout ({args.num_steps} "
                         f"decisions x {args.num_envs} envs = {rollout:,} env steps); give at "
                         f"least {rollout:,}, or fewer --envs")
    out = Path(out or resume or "runs/ppo")
    seed_everything(args.seed, args.threads)
    # a named stream for action sampling and minibatch order: not torch's init stream
    # (torch.manual_seed(seed)) nor the market seeds' SeedSequence(seed).spawn(...)
    sample_seed = int(seeding.child(args.seed, "ppo/sample").generate_state(1, np.uint64)[0] & (2**63 - 1))
    generator = torch.Generator().manual_seed(sample_seed)

    start_step = int(payload["progress"]["step"]) if payload is not None else 0
    envs = VecMarket(scenario, args.num_envs, args.seed + start_step, args.workers)
    stop = StopOnInterrupt()
    validation = None
    try:
        A, D, N, E, T = envs.n_agents, envs.obs_size, max(envs.n_actions), args.num_envs, args.num_steps
        seats = learner_params(envs.scenario).values()
        sides = [side_choices(p) for p in seats] if args.factored else None
        try:
            net = ActorCritic(args, envs.obs_sizes, envs.n_actions, sides)
        except BAD_PAYLOAD as exc:
            if payload is None:
                raise
            raise CheckpointError(f"{resume}: cannot rebuild the networks ({str(exc)[:120]})") from None
        optimizer = torch.optim.Adam(net.parameters(), lr=args.learning_rate, eps=1e-5)
        reward_norm = RewardNormalizer(A, E, args.gamma)
        shaping = (InventoryPotential(list(seats), args.gamma, args.inv_potential, E, envs.team)
                   if args.inv_potential else None)
        rows: list[dict] = []
        source = warm_start(init_from, "ppo", envs, args, {"net": net}) if init_from is not None else {}
        validation = selection.start(scenario, args)  # off the learner's path with workers
        if payload is not None:
            check_matches(payload, envs, str(resume))
            states = payload["state_dicts"]  # "net" is the selected network; go on from the last
            load_state(net, states.get("net_last", states["net"]), str(resume))
            if validation is not None:
                validation.restore(payload["progress"].get("validation"), states["net"])
            load_optimizer(optimizer, payload["state_dicts"]["optimizer"], str(resume))
            if "reward_norm" in payload["state_dicts"]:
                reward_norm.load(payload["state_dicts"]["reward_norm"], str(resume))
            rows = list(payload["progress"]["curve"])
        tracker = EpisodeTracker(E, A)
        tracker.rows = rows

        # rollout storage, seat-major: (agents, steps, envs, ...)
        obs_buf = torch.zeros(A, T, E, D)
        act_buf = torch.zeros(A, T, E, dtype=torch.long)
        logp_buf = torch.zeros(A, T, E)
        rew_buf = torch.zeros(A, T, E)
        done_buf = torch.zeros(T, E)
        val_buf = torch.zeros(A, T, E)

        iterations = args.total_steps // (T * E)  # whole rollouts: the steps rounded down
        step = start_step
        next_obs = torch.as_tensor(envs.reset()).transpose(0, 1)  # (A, E, D)
        next_done = torch.zeros(E)
        t0 = time.perf_counter()
        learned = step  # env steps the networks have learned from (whole rollouts)
        validate_from = start_step + args.validate_from * args.total_steps
        stop.install()  # Ctrl-C: drop the unfinished rollout, save a resumable checkpoint
        for iteration in range(iterations):
            left = 1 - iteration / iterations
            if args.anneal_lr:
                optimizer.param_groups[0]["lr"] = args.learning_rate * left
            ent_coef = args.ent_coef * (left if args.anneal_ent else 1.0)
            for t in range(T):
                done_buf[t] = next_done
                with torch.no_grad():  # every seat of every env: one batched call
                    x = net.normalize(next_obs, update=True)  # stored as the networks saw it
                    obs_buf[:, t] = x
                    logits = net.logits(x)
                    probs = torch.softmax(logits, -1).reshape(-1, N)
                    action = torch.multinomial(probs, 1, generator=generator).reshape(A, E)
                    logp_buf[:, t] = Categorical(logits=logits).log_prob(action)
                    val_buf[:, t] = net.value(x)
                act_buf[:, t] = action
                obs, rewards, dones, inventory, _ = envs.step(action.T.numpy())
                step += E
                tracker.update(step, rewards, inventory, dones)
                if shaping is not None:  # after the tracker: the curve shows the game's reward
                    rewards = rewards + shaping(inventory, dones).astype(np.float32)
                rew_buf[:, t] = torch.as_tensor(rewards.T) * args.reward_scale
                if args.norm_reward:
                    rew_buf[:, t] = reward_norm(rew_buf[:, t], torch.as_tensor(dones))
                next_obs = torch.as_tensor(obs).transpose(0, 1)
                next_done = torch.as_tensor(dones, dtype=torch.float32)
                if progress is not None:
                    progress(step - start_step, iterations * T * E, tracker.running())
                if stop.requested:
                    break
            if stop.requested:
                step = learned
                tracker.rows = [row for row in tracker.rows if row["step"] <= step]
                break

            # GAE: an episode's end is terminal (time left is observed); no bootstrap across it
            with torch.no_grad():
                next_value = net.value(net.normalize(next_obs))
                adv = torch.zeros(A, T, E)
                last = torch.zeros(A, E)
                for t in reversed(range(T)):
                    if t == T - 1:
                        nonterminal, nv = 1.0 - next_done, next_value
                    else:
                        nonterminal, nv = 1.0 - done_buf[t + 1], val_buf[:, t + 1]
                    delta = rew_buf[:, t] + args.gamma * nv * nonterminal - val_buf[:, t]
                    last = delta + args.gamma * args.gae_lambda * nonterminal * last
                    adv[:, t] = last
                returns = adv + val_buf

            # PPO update over minibatches of (step, env) samples, all seats together
            b_obs = obs_buf.reshape(A, T * E, D)
            b_act, b_logp = act_buf.reshape(A, -1), logp_buf.reshape(A, -1)
            b_adv, b_ret, b_val = adv.reshape(A, -1), returns.reshape(A, -1), val_buf.reshape(A, -1)
            batch = T * E
            mb = batch // args.num_minibatches
            for _epoch in range(args.update_epochs):
                order = torch.randperm(batch, generator=generator)
                for start in range(0, batch, mb):
                    idx = order[start:start + mb]
                    logits = net.logits(b_obs[:, idx])
                    dist = Categorical(logits=logits)
                    logp = dist.log_prob(b_act[:, idx])
                    ratio = (logp - b_logp[:, idx]).exp()
                    a = b_adv[:, idx]
                    if args.norm_adv:
                        a = (a - a.mean(1, keepdim=True)) / (a.std(1, keepdim=True) + 1e-8)
                    pg_loss = torch.max(-a * ratio,
                                        -a * ratio.clamp(1 - args.clip_coef, 1 + args.clip_coef)).mean()
                    value, ret = net.value(b_obs[:, idx]), b_ret[:, idx]
                    v_loss = (value - ret) ** 2
                    if args.clip_vloss:
                        old = b_val[:, idx]
                        clipped = old + (value - old).clamp(-args.clip_coef, args.clip_coef)
                        v_loss = torch.max(v_loss, (clipped - ret) ** 2)
                    v_loss = 0.5 * v_loss.mean()
                    entropy = dist.entropy().mean()
                    loss = pg_loss - ent_coef * entropy + args.vf_coef * v_loss
                    optimizer.zero_grad()
                    loss.backward()
                    nn.utils.clip_grad_norm_(net.parameters(), args.max_grad_norm)
                    optimizer.step()
            learned = step
            if validation is not None and selection.due(step, T * E, args.validate_every, validate_from):
                validation.offer(step, net, PPOPolicy(net))
        stop.restore()
        selected, record = selection.conclude(validation, step, net, PPOPolicy(net), stop.requested)
        elapsed = time.perf_counter() - t0
        progress_record = {"step": step, "curve": tracker.rows, "seconds": elapsed}
        if record is not None:
            progress_record["validation"] = record
        save_checkpoint(out / CHECKPOINT, {
            "algo": "ppo", "config": dataclasses.asdict(args), "agents": envs.names, "obs_size": D,
            "obs_sizes": envs.obs_sizes, "n_actions": envs.n_actions,
            "sides": sides,
            "state_dicts": {"net": selected, "net_last": net.state_dict(), "optimizer": optimizer.state_dict(),
                            "reward_norm": reward_norm.state()},
            "progress": progress_record,
        })
        write_curve(out, tracker.rows, f"PPO ({args.mode}) on {Path(envs.scenario.source).name}",
                    record["history"] if record is not None else None)
        done_steps = step - start_step
        return {"algo": "ppo", "steps": done_steps, "total_steps": step, "interrupted": stop.requested,
                "steps_left": (start_step + iterations * T * E) - step, "seconds": elapsed,
                "steps_per_second": done_steps / elapsed if elapsed else None,
                "episodes": len(tracker.rows), "running_reward": tracker.running(), "out": str(out),
                **source, **({"validation": record} if record is not None else {})}
    finally:
        stop.restore()
        envs.close()
        if validation is not None:
            validation.close()


LEARNER = Learner("ppo", train, policy)
