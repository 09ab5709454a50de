"""Multi-agent market-making environment: PettingZoo ``ParallelEnv`` over a lobsim market.

``MarketEnv(scenario, seed=None)``: ``scenario`` is a path or a loaded
:class:`~lobsim.scenario.config.Scenario`. The learning agents are the scenario's agents of
a learning kind (a class with ``learning = True``): ``learner`` makers
(:class:`~lobsim.rl.seat.LearnerSeat`; ``count = 2`` gives ``maker_0``, ``maker_1``) and
``executor`` seats (:class:`~lobsim.rl.executor.ExecutorSeat`); every other agent runs
inside the simulation. Each agent has its own observation and action space (its kind's
``space_sizes(params)``), so makers and executors share one market; :func:`~lobsim.rl.seat.pad_stack`
stacks their observations for batched networks. One step is the learners'
``decision_interval`` of simulated time (all learners act at the same step times; their
requests still travel with their own latency); an episode is the scenario's duration,
after which every agent is terminated.

Reward (per learner, price units; each term also in ``infos[name]``): see
:mod:`lobsim.rl.seat`. With ``team = true`` every learner gets the sum of all learners'
rewards (``infos[name]["own_reward"]`` keeps its own).

Seeding: ``reset(seed=S)`` restarts a ``numpy.random.SeedSequence(S)``; every reset
(with or without a seed) draws the next episode's market seed from it, so a run of
episodes is a pure function of the first seed. ``reset(options={"market_seed": N})``
runs the scenario with seed ``N`` exactly (held-out evaluation seeds). The constructor's
``seed`` (default: the scenario's own seed) starts the sequence for a first ``reset()``
without a seed.

:class:`SingleMakerEnv` is a ``gymnasium.Env`` for one seat (the other learners, if
any, never quote).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from lobsim.scenario.config import Scenario
from lobsim.errors import InputError
from lobsim.sim.market import Market
from lobsim.rl.seat import OBS_CLIP, LearnerSeat, pad_stack, seat_classes  # noqa: F401 - the env's API
from lobsim.units import seconds_to_ns

try:  # optional extra: pip install 'lobsim[rl]'
    import gymnasium
    from gymnasium import spaces
    from pettingzoo import ParallelEnv
except ModuleNotFoundError as exc:  # pragma: no cover
    from lobsim.errors import MissingExtraError
    raise MissingExtraError(f"lobsim.rl.env needs {exc.name}: pip install 'lobsim[rl]'") from None

LEARNER = "learner"  #: the maker seats' kind


def load_scenario(scenario: str | Path | Scenario) -> Scenario:
    """A scenario object, or the scenario file at a path (``learner`` is a registered
    kind, :class:`LearnerSeat`)."""
    if isinstance(scenario, Scenario):
        return scenario
    from lobsim.scenario.loader import load

    return load(scenario)


def learner_params(scenario: Scenario) -> dict[str, Any]:
    """Learning seat instance name -> its params, in scenario order."""
    classes = seat_classes(scenario)
    return {name: config.params for config in scenario.agents
            for name in config.instance_names() if name in classes}


def require_learners(scenario: Scenario, purpose: str) -> dict[str, Any]:
    """:func:`learner_params`, or an InputError naming the scenario and ``purpose`` (what
    the seats were wanted for, e.g. "to train") when it has no learning seats."""
    params = learner_params(scenario)
    if not params:
        raise InputError(f"{scenario.source}: no agents of kind 'learner' or 'executor' {purpose}")
    return params


class MarketEnv(ParallelEnv):
    """PettingZoo parallel environment of a scenario's learners (module docstring)."""

    metadata = {"name": "lobsim_market_v0", "render_modes": [], "is_parallelizable": True}
    render_mode = None

    def __init__(self, scenario: str | Path | Scenario, seed: int | None = None,
                 engine: str = "auto") -> None:
        """``engine``: which build of the market engine steps the market (see
        :mod:`lobsim.sim.market`; the same results on each)."""
        self.scenario = load_scenario(scenario)
        self.engine = engine
        self.params = require_learners(self.scenario, "for the environment to drive")
        self.classes = seat_classes(self.scenario)
        first = next(iter(self.params.values()))
        for name, p in self.params.items():
            if p.decision_interval != first.decision_interval or p.team != first.team:
                raise InputError(f"{self.scenario.source}: learner {name!r}: all learners must "
                                 "share decision_interval and team")
        #: agent -> (observation length, number of actions)
        self.sizes = {name: self.classes[name].space_sizes(p) for name, p in self.params.items()}
        self.possible_agents = list(self.params)
        self.team = first.team
        self.dt = first.decision_interval
        self.dt_ns = seconds_to_ns(self.dt)
        self.duration_ns = seconds_to_ns(self.scenario.simulation.duration)
        self.max_steps = -(-self.duration_ns // self.dt_ns)
        self._root = np.random.SeedSequence(self.scenario.simulation.seed if seed is None else seed)
        self.agents: list[str] = []
        self.market: Market | None = None
        self.seats: dict[str, Any] = {}  #: LearnerSeat or ExecutorSeat per agent
        self.result = None  #: the finished episode's RunResult (summary, rows)
        self.steps = 0

    @functools.lru_cache(maxsize=None)
    def observation_space(self, agent: str) -> spaces.Box:
        return spaces.Box(-OBS_CLIP, OBS_CLIP, shape=(self.sizes[agent][0],), dtype=np.float32)

    @functools.lru_cache(maxsize=None)
    def action_space(self, agent: str) -> spaces.Discrete:
        return spaces.Discrete(self.sizes[agent][1])

    def next_market_seed(self) -> int:
        return int(self._root.spawn(1)[0].generate_state(1)[0] & 0x7FFFFFFF)

    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._root = np.random.SeedSequence(seed)
        market_seed = (options or {}).get("market_seed")
        if market_seed is None:
            market_seed = self.next_market_seed()
        self.market_seed = int(market_seed)
        self.market = Market(self.scenario.with_seed(self.market_seed), engine=self.engine)
        self.market.start()
        self.seats = {a.name: a for a in self.market.agents if a.name in self.params}
        for seat in self.seats.values():
            seat.reset_reward(self.market)
        self.agents = list(self.possible_agents)
        self.steps = 0
        self.result = None
        obs = {name: seat.observe(self.market, 1.0) for name, seat in self.seats.items()}
        infos = {name: {"market_seed": self.market_seed} for name in self.agents}
        return obs, infos

    def step(self, actions: dict[str, Any]):
        market = self.market
        if market is None or not self.agents:
            raise RuntimeError("step() called before reset() or after the episode ended")
        for name in self.agents:
            if name not in actions:
                raise InputError(f"step(): no action for learner {name!r}")
            self._check_action(name, actions[name])
        for name in self.agents:
            self.seats[name].act(actions[name])
        t_start = market.now
        market.advance(min(t_start + self.dt_ns, self.duration_ns))
        self.steps += 1
        last = market.done or self.steps >= self.max_steps
        # the last step is shorter when the duration is not a multiple of the interval
        dt = (market.now - t_start) / 1e9
        terms = {name: seat.reward_terms(market, dt, last) for name, seat in self.seats.items()}
        rewards = {name: t["reward"] for name, t in terms.items()}
        if self.team:
            total = sum(rewards.values())
            for name in rewards:
                terms[name]["own_reward"] = rewards[name]
                rewards[name] = total
        time_left = max(self.duration_ns - market.now, 0) / self.duration_ns
        obs = {name: seat.observe(market, time_left) for name, seat in self.seats.items()}
        infos = {name: {**t, "inventory": market.ledger.inventory[self.seats[name].session.index]}
                 for name, t in terms.items()}
        terminations = {name: last for name in self.agents}
        truncations = {name: False for name in self.agents}
        if last:
            self.agents = []
            self.result = market.finish()
        return obs, rewards, terminations, truncations, infos

    def _check_action(self, name: str, action: Any) -> None:
        n = self.sizes[name][1]
        if isinstance(action, np.ndarray) and action.shape == ():
            action = action[()]
        if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer)) \
                or not 0 <= action < n:
            raise InputError(f"step(): action of learner {name!r} must be an integer in "
                             f"[0, {n}), got {action!r}")

    def render(self) -> None:
        return None

    def close(self) -> None:
        self.market = None


class SingleMakerEnv(gymnasium.Env):
    """One seat of a :class:`MarketEnv` as a Gymnasium env (other learners never quote)."""

    metadata = {"render_modes": []}

    def __init__(self, scenario: str | Path | Scenario, agent: str | None = None,
                 seed: int | None = None) -> None:
        self.env = MarketEnv(scenario, seed=seed)
        self.agent = agent or self.env.possible_agents[0]
        if self.agent not in self.env.possible_agents:
            raise InputError(f"no learner named {self.agent!r} (learners: {self.env.possible_agents})")
        self.observation_space = self.env.observation_space(self.agent)
        self.action_space = self.env.action_space(self.agent)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        obs, infos = self.env.reset(seed=seed, options=options)
        return obs[self.agent], infos[self.agent]

    def step(self, action):
        actions = {name: 0 for name in self.env.agents}
        actions[self.agent] = int(action)
        obs, rewards, terms, truncs, infos = self.env.step(actions)
        return (obs[self.agent], float(rewards[self.agent]), bool(terms[self.agent]),
                bool(truncs[self.agent]), infos[self.agent])
