"""PPO with Gaussian continuous actions for lobsim's vectorized analytic models (CleanRL style).

One readable file: hyper-parameters, the actor-critic, rollout collection, GAE, the
clipped PPO update, and ``validate_ppo_cj`` (the ``lobsim validate ppo-cj`` reproduction,
registered through the ``lobsim.validations`` entry-point group).

Observations are the env's ``[q/q_max, (T-t)/T]``; actions are ``[bid_depth, ask_depth]``
in price units, sampled from a diagonal Gaussian and passed to the env unclipped (the env
treats depths below ``min_depth`` as ``min_depth``). Every episode starts at ``t=0`` and
all ``num_envs`` trajectories end together, so a rollout is exactly one episode each.
Training is a pure function of ``Args.seed`` (single-threaded, deterministic algorithms).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from lobsim.errors import InputError
from lobsim import seeding
from lobsim.models.baselines import CJOptimalPolicy, tabulate
from lobsim.models.closed_form import solve
from lobsim.models.vecenv import MarketMakingVecEnv, ModelConfig, cj2015_config
from lobsim.models.rollout import Episodes, paired_difference, run_episodes


@dataclass
class Args:
    seed: int = 1
    """root seed: network init, market, action noise and minibatch order all derive from it"""
    iterations: int = 100
    """PPO iterations; each collects one full episode from each of `num_envs` trajectories"""
    num_envs: int = 64
    """trajectories simulated in parallel per rollout"""
    learning_rate: float = 1e-3
    """Adam learning rate"""
    anneal_lr: bool = True
    """decay the learning rate linearly to 0 over the iterations"""
    gamma: float = 1.0
    """discount; 1: the finite-horizon criterion itself (time left is observed)"""
    gae_lambda: float = 0.95
    """GAE lambda: lower trades bias for less noise from later fills and price moves"""
    num_minibatches: int = 16
    """minibatches per epoch"""
    update_epochs: int = 4
    """passes over each rollout"""
    norm_adv: bool = True
    """normalize advantages within each minibatch"""
    clip_coef: float = 0.2
    """PPO ratio clip"""
    ent_coef: float = 0.0
    """entropy bonus coefficient"""
    vf_coef: float = 0.5
    """value-loss coefficient"""
    max_grad_norm: float = 0.5
    """global gradient-norm clip"""
    hidden: int = 64
    """width of the two ReLU hidden layers (tanh is 3x slower on CPU here) of actor and critic"""
    init_log_std: float = -0.5
    """initial log std of the action noise [log price units]"""
    inventory_feature_scale: float = 10.0
    """the network sees q/q_max times this: typical inventories are a few % of q_max"""
    reward_scale: float = 0.1
    """rewards are multiplied by this for learning, so returns (~70) stay O(1-10)"""
    drop_mid_pnl: bool = True
    """train without the zero-mean q*dS reward term (same objective, less variance)"""
    threads: int = 1
    """torch intra-op threads during training (1: deterministic and fastest at this size)"""
    model: ModelConfig = field(default_factory=cj2015_config)
    """the environment's model"""


def _layer(fan_in: int, fan_out: int, std: float = math.sqrt(2)) -> nn.Linear:
    layer = nn.Linear(fan_in, fan_out)
    nn.init.orthogonal_(layer.weight, std)
    nn.init.constant_(layer.bias, 0.0)
    return layer


class Agent(nn.Module):
    """Separate actor and critic MLPs on ``[scale*q/q_max, (T-t)/T]``."""

    def __init__(self, args: Args) -> None:
        super().__init__()
        h = args.hidden
        self.critic = nn.Sequential(
            _layer(2, h), nn.ReLU(), _layer(h, h), nn.ReLU(), _layer(h, 1, std=1.0)
        )
        self.actor_mean = nn.Sequential(
            _layer(2, h), nn.ReLU(), _layer(h, h), nn.ReLU(), _layer(h, 2, std=0.01)
        )
        self.actor_logstd = nn.Parameter(torch.full((1, 2), args.init_log_std))
        self.register_buffer("feature_scale", torch.tensor([args.inventory_feature_scale, 1.0]))

    def features(self, obs: torch.Tensor) -> torch.Tensor:
        return obs.float() * self.feature_scale

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(self.features(obs)).squeeze(-1)

    def act(self, obs: torch.Tensor) -> torch.Tensor:
        """Deterministic (mean) depths [price], for evaluation."""
        return self.actor_mean(self.features(obs)).double()

    def dist(self, obs: torch.Tensor) -> torch.distributions.Normal:
        mean = self.actor_mean(self.features(obs))
        std = self.actor_logstd.expand_as(mean).exp()
        return torch.distributions.Normal(mean, std, validate_args=False)  # checks cost ~10%


def train(
    args: Args, progress: Callable[[int, int, str], None] | None = None
) -> tuple[Agent, list[float]]:
    """Train PPO; returns the agent and each iteration's mean episode return [currency]."""
    # -- seeding first: everything below derives from args.seed
    root = seeding.root(args.seed)
    torch.manual_seed(seeding.int_seed(seeding.child(root, "init")))
    noise = seeding.torch_generator(seeding.child(root, "actions"))
    shuffle = np.random.default_rng(seeding.child(root, "minibatches"))
    with _torch_settings(args.threads, deterministic=True):
        return _train(args, root, noise, shuffle, progress)


@contextmanager
def _torch_settings(threads: int, deterministic: bool | None = None) -> Iterator[None]:
    """Set torch's thread count (and deterministic mode) for the block, then restore them."""
    saved = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    if deterministic is not None:
        torch.use_deterministic_algorithms(deterministic)
    try:
        yield
    finally:
        torch.set_num_threads(saved[0])
        torch.use_deterministic_algorithms(saved[1])


def _train(args, root, noise, shuffle, progress) -> tuple[Agent, list[float]]:
    model = args.model.with_(mid_pnl_in_reward=not args.drop_mid_pnl)
    market_seed = seeding.int_seed(seeding.child(root, "market"))
    env = MarketMakingVecEnv(model, args.num_envs, seed=market_seed)
    agent = Agent(args)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)
    steps, n = model.n_steps, args.num_envs
    obs_buf = torch.zeros(steps, n, 2)
    act_buf = torch.zeros(steps, n, 2)
    logp_buf = torch.zeros(steps, n)
    rew_buf = torch.zeros(steps, n)
    val_buf = torch.zeros(steps, n)
    history: list[float] = []
    batch = steps * n
    minibatch = batch // args.num_minibatches

    for iteration in range(args.iterations):
        if args.anneal_lr:
            fraction_left = 1.0 - iteration / args.iterations
            optimizer.param_groups[0]["lr"] = args.learning_rate * fraction_left

        # -- rollout: one full episode per trajectory
        obs, _ = env.reset()
        with torch.no_grad():
            for t in range(steps):
                obs_buf[t] = obs
                dist = agent.dist(obs)
                action = dist.mean + dist.stddev * torch.randn(dist.mean.shape, generator=noise)
                logp_buf[t] = dist.log_prob(action).sum(-1)
                val_buf[t] = agent.value(obs)
                act_buf[t] = action
                obs, reward, _, _, _ = env.step(action)
                rew_buf[t] = reward.float() * args.reward_scale
            history.append(float(rew_buf.sum(0).mean()) / args.reward_scale)

            # -- GAE; the episode ends after the last step, so the bootstrap value is 0
            adv = torch.zeros(steps, n)
            last = torch.zeros(n)
            next_value = torch.zeros(n)
            for t in range(steps - 1, -1, -1):
                delta = rew_buf[t] + args.gamma * next_value - val_buf[t]
                last = delta + args.gamma * args.gae_lambda * last
                adv[t] = last
                next_value = val_buf[t]
            returns = adv + val_buf

        # -- PPO update on the flattened rollout
        b_obs, b_act = obs_buf.reshape(-1, 2), act_buf.reshape(-1, 2)
        b_logp, b_adv, b_ret = logp_buf.reshape(-1), adv.reshape(-1), returns.reshape(-1)
        for _ in range(args.update_epochs):
            order = torch.from_numpy(shuffle.permutation(batch))
            for start in range(0, batch - minibatch + 1, minibatch):
                idx = order[start : start + minibatch]
                dist = agent.dist(b_obs[idx])
                logp = dist.log_prob(b_act[idx]).sum(-1)
                ratio = (logp - b_logp[idx]).exp()
                mb_adv = b_adv[idx]
                if args.norm_adv:
                    mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
                pg_loss = torch.max(
                    -mb_adv * ratio, -mb_adv * ratio.clamp(1 - args.clip_coef, 1 + args.clip_coef)
                ).mean()
                v_loss = 0.5 * (agent.value(b_obs[idx]) - b_ret[idx]).pow(2).mean()
                entropy = dist.entropy().sum(-1).mean()
                loss = pg_loss - args.ent_coef * entropy + args.vf_coef * v_loss
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()
        if progress is not None:
            progress(iteration + 1, args.iterations, "ppo-cj train")
    return agent, history


def evaluate(agent: Agent, model: ModelConfig, paths: int, seed: int) -> Episodes:
    """Monte Carlo returns of the agent's mean action (full reward, incl. q*dS).

    With an inventory bound the network is evaluated once per (step, inventory) grid
    point and looked up afterwards: the same actions, without a forward pass over every
    path at every step.
    """
    policy = tabulate(model, agent.act) if model.q_max is not None else agent.act
    return run_episodes(model, policy, paths, seed)


def validate_ppo_cj(
    seed: int = 0,
    iterations: int | None = None,
    num_envs: int | None = None,
    paths: int = 100_000,
    fill: str = "bernoulli",
    progress: Callable[[int, int, str], None] | None = None,
) -> dict:
    """Train PPO in the cj2015 model and compare it with the closed-form optimum.

    Evaluated on ``paths`` held-out trajectories (a seed stream training never uses);
    the closed-form policy runs on the same trajectories, so ``excess`` (PPO minus
    closed-form policy) has a small standard error: PPO should never beat the optimum
    beyond it.
    """
    if not (isinstance(paths, int) and paths >= 2):
        raise InputError(f"paths must be an integer >= 2, got {paths!r}")
    args = Args(seed=seed, model=cj2015_config(fill=fill))
    if iterations is not None:
        args.iterations = iterations
    if num_envs is not None:
        args.num_envs = num_envs
    optimum = solve(args.model)
    h00 = optimum.value(0, args.model.q0)
    eval_seed = seeding.int_seed(seeding.child(seeding.root(seed), "held-out evaluation"))
    with _torch_settings(args.threads):
        initial = evaluate(_untrained(args), args.model, paths, eval_seed)
        started = time.perf_counter()
        agent, _ = train(args, progress)
        seconds = time.perf_counter() - started
        ours = evaluate(agent, args.model, paths, eval_seed)
        reference = run_episodes(args.model, CJOptimalPolicy(args.model, optimum), paths, eval_seed)
    excess, excess_se = paired_difference(ours, reference)
    return {
        "rows": [
            {
                "name": "ppo",
                "ours": {
                    "value": ours.value,
                    "stderr": ours.value_stderr,
                    "fraction_of_optimum": ours.value / h00,
                    "initial_value": initial.value,
                    "excess": excess,
                    "excess_stderr": excess_se,
                    "beats_optimum": excess > 3 * excess_se,  # beyond 3 standard errors
                    "train_seconds": seconds,
                },
                "published": {"value": h00, "fraction_of_optimum": 0.97},
                "note": f"published: closed-form h(0,0) and the >=97% target; {paths} held-out "
                f"paths; excess = PPO minus closed-form policy on the same paths (beats_optimum: "
                f"excess > 3 stderr); "
                f"{args.iterations} iterations x {args.num_envs} episodes",
            },
            {
                "name": "closed_form_policy_mc",
                "ours": {"value": reference.value, "stderr": reference.value_stderr},
                "published": {"value": h00},
            },
        ]
    }


def _untrained(args: Args) -> Agent:
    """The agent exactly as :func:`train` initialises it (global torch RNG left untouched)."""
    with torch.random.fork_rng():
        torch.manual_seed(seeding.int_seed(seeding.child(seeding.root(args.seed), "init")))
        return Agent(args)
