"""Trained policies against the baselines, on held-out market seeds.

:func:`evaluate` runs the trained makers of a policy directory in their seats, then the
same seats filled by the ``fixed_spread`` and the ``avellaneda_stoikov`` makers, on the
same held-out seeds, and gives per seat and controller the mean reward (the scenario's
reward definition, :class:`lobsim.rl.seat.RewardMeter`) with a 95% interval, and the
mean PnL, spread capture, |inventory| and fills, plus the market's mean spread and
volatility. Per seat and baseline it also gives the learner's reward minus the
baseline's, paired by seed (mean and 95% t-interval of the per-seed differences).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from lobsim.stats import ci95

BASELINES = ("fixed_spread", "avellaneda_stoikov")


def load_policy(directory: Path) -> tuple[Any, dict]:
    """The greedy policy of ``directory``/policy.pt, rebuilt by its learner (by ``algo``).

    The file is read with ``torch.load(weights_only=True)`` (:mod:`lobsim.rl.checkpoint`);
    anything wrong with it is one :class:`~lobsim.errors.CheckpointError` line naming it.
    Sets torch to one thread: the policy runs one small batched forward pass per step,
    where a second thread only spins (measured: docs/learning.md).
    """
    import torch

    from lobsim import registry
    from lobsim.rl.checkpoint import CHECKPOINT, load_checkpoint
    from lobsim.errors import CheckpointError

    torch.set_num_threads(1)
    path = directory / CHECKPOINT if directory.is_dir() else directory
    payload = load_checkpoint(path)
    learner = registry.load("lobsim.learners", payload["algo"])
    try:
        return learner.policy(payload), payload
    except CheckpointError as exc:  # the learner names the file policy.pt: name this one
        message = str(exc).removeprefix(f"{CHECKPOINT}: ")
        raise CheckpointError(f"{path}: {message}") from None


def held_out_seeds(seed: int, episodes: int, stream: str = "evaluate") -> list[int]:
    """``episodes`` market seeds from the named stream ``stream`` of ``seed``: ``evaluate``
    for this command, ``validate`` for a learner's model selection (never the same seeds)."""
    from lobsim import seeding

    state = seeding.child(seed, stream).generate_state(episodes)
    return [int(s) & 0x7FFFFFFF for s in state]


def evaluate(scenario: Any, policy: Any, payload: dict, episodes: int, seed: int,
             settings: dict[str, dict[str, Any]] | None = None, where: str = "policy",
             progress: Callable[[int, int], None] | None = None) -> dict:
    """Per seat and controller (learner, fixed_spread, avellaneda_stoikov) figures over
    the same held-out seeds; see the module docstring and :func:`baseline_params` for the
    baselines' parameters (``settings``: {kind: {key: value}} overrides). ``progress(done,
    total)`` is called after every episode, counting each controller's (a baseline that is
    not installed counts as done)."""
    from lobsim import registry
    from lobsim.rl.checkpoint import check_matches, check_payload
    from lobsim.rl.env import MarketEnv

    env = MarketEnv(scenario)
    names = env.possible_agents
    check_matches(check_payload(payload, None, where), env, where)
    seeds = held_out_seeds(seed, episodes)
    count = _EpisodeCounter(progress, episodes * (1 + len(BASELINES)))
    runs: dict[str, list[dict]] = {"learner": [count(_learner_episode(env, policy, s)) for s in seeds]}
    unavailable, used = {}, {}
    for kind in BASELINES:
        # only a baseline kind that is not installed is skipped; a bad --set key or an
        # invalid resulting scenario is the user's mistake (LobsimError: one line, exit 2)
        if kind not in registry.names("lobsim.agents"):
            unavailable[kind] = f"agent kind {kind!r} is not installed"
            count.skip(episodes)
            continue
        try:
            registry.load("lobsim.agents", kind)
        except ImportError as exc:
            unavailable[kind] = " ".join(str(exc).split())[:200] or type(exc).__name__
            count.skip(episodes)
            continue
        baseline, used[kind] = _baseline_scenario(env, kind, baseline_params(env, kind, runs, settings))
        runs[kind] = [count(_baseline_episode(env, baseline, s)) for s in seeds]
    report: dict[str, Any] = {"scenario": scenario.source, "episodes": episodes, "seeds": seeds,
                              "team": env.team, "baselines": used, "seats": {}, "market": {}}
    report["paired"] = {}
    for name in names:
        report["seats"][name] = {kind: _seat_stats([ep["seats"][name] for ep in eps])
                                 for kind, eps in runs.items()}
        # every controller ran on the same seeds: the per-seed difference removes the
        # market's own luck, a sharper comparison than two separate intervals
        mine = [ep["seats"][name]["reward"] for ep in runs["learner"]]
        report["paired"][name] = {}
        for kind in BASELINES:
            if kind in runs:
                diff = [a - ep["seats"][name]["reward"] for a, ep in zip(mine, runs[kind])]
                report["paired"][name][kind] = {"diff_mean": float(np.mean(diff)), "diff_ci95": ci95(diff)}
    for kind, eps in runs.items():
        report["market"][kind] = {
            "mean_spread_mean": _mean([ep["market"]["mean_spread"] for ep in eps]),
            "mid_volatility_mean": _mean([ep["market"]["mid_volatility"] for ep in eps]),
        }
    if unavailable:
        report["unavailable"] = unavailable
    return report


class _EpisodeCounter:
    """Counts finished episodes for a ``progress(done, total)`` callback (or none)."""

    def __init__(self, progress: Callable[[int, int], None] | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self, episode: dict) -> dict:
        """Count ``episode`` as finished; return it."""
        self.skip(1)
        return episode

    def skip(self, n: int) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(self.done, self.total)


def play(env: Any, policy: Any, seed: int) -> Iterator[tuple[dict, dict]]:
    """Run one episode of ``env`` on market seed ``seed`` with every seat's action from
    ``policy`` (all seats in one batched call per step); yield each step's rewards and
    infos. ``env.result`` holds the market's result once the episode is over."""
    obs, _ = env.reset(options={"market_seed": seed})
    names = env.possible_agents
    while env.agents:
        actions = policy.act(np.stack([obs[n] for n in names]))
        obs, rewards, _, _, infos = env.step({n: int(a) for n, a in zip(names, actions)})
        yield rewards, infos


def _learner_episode(env: Any, policy: Any, seed: int) -> dict:
    names = env.possible_agents
    rewards = dict.fromkeys(names, 0.0)
    inventory = dict.fromkeys(names, 0.0)
    steps = 0
    for rew, infos in play(env, policy, seed):
        steps += 1
        for n in names:
            rewards[n] += rew[n]
            inventory[n] += abs(infos[n]["inventory"])
    return _episode(env.result.summary, names, rewards, inventory, steps)


def baseline_params(env: Any, kind: str, runs: dict, settings: dict | None) -> dict[str, Any]:
    """Parameters of baseline ``kind`` in a learner's seat, before ``settings``.

    Both take the learner's ``quote_size`` and ``max_inventory``. ``fixed_spread``: its
    defaults otherwise (``half_spread`` 1 tick). ``avellaneda_stoikov``: ``sigma`` the
    mean mid volatility measured in the fixed_spread runs (or 0.01), ``horizon`` the
    episode length T (``cyclic``: flat at each episode's end), ``requote_interval`` the
    learners' decision interval, ``kappa`` 100 per price unit (its half spread
    ``ln(1 + gamma / kappa) / gamma`` is then at most one tick of 0.01), and ``gamma`` the
    risk aversion whose inventory term ``gamma * sigma**2 * T`` is half a tick at the start
    of an episode (:func:`as_gamma`).
    """
    first = next(iter(env.params.values()))
    params: dict[str, Any] = {"quote_size": first.quote_size, "max_inventory": first.max_inventory}
    if kind == "avellaneda_stoikov":
        vols = [ep["market"]["mid_volatility"] for ep in runs.get("fixed_spread", [])]
        sigma = _mean(vols)
        sigma = round(sigma, 6) if sigma else 0.01
        horizon = env.scenario.simulation.duration
        params.update(gamma=as_gamma(env.scenario.market.tick_size, sigma, horizon), kappa=100.0,
                      sigma=sigma, horizon=horizon, horizon_mode="cyclic", requote_interval=env.dt)
    params.update((settings or {}).get(kind, {}))
    return params


def as_gamma(tick: float, sigma: float, horizon: float) -> float:
    """Avellaneda-Stoikov risk aversion (per price unit x lot) whose inventory term
    ``gamma * sigma**2 * horizon`` is half a tick: ``tick / (2 sigma**2 horizon)``, to 4
    significant digits.

    Why half a tick: the term widens the quotes and skews them by inventory over the whole
    horizon, and flow in these games fills at one or two ticks from the mid; a fixed gamma
    does not carry across episode lengths (measured: docs/results.md).
    """
    return float(f"{tick / (2 * sigma * sigma * horizon):.4g}")


def _baseline_scenario(env: Any, kind: str, values: dict[str, Any]) -> tuple[Any, dict]:
    """The env's scenario with every learner seat filled by ``kind`` (same names, count,
    latency, rate limit; the kind's default feeds), and the parameters used."""
    from lobsim import registry
    from lobsim.scenario.loader import from_dict, resolved_dict

    cls = registry.load("lobsim.agents", kind)
    fields = {f.name for f in dataclasses.fields(cls.Params) if f.init}
    unknown = sorted(set(values) - fields)
    if unknown:
        from lobsim.errors import InputError
        raise InputError(f"{kind} has no parameters {unknown}")
    data = resolved_dict(env.scenario)
    for table, config in zip(data["agents"], env.scenario.agents):
        if config.kind == "learner":
            for key in [k for k in table if k not in ("name", "count", "rate_limit", "latency")]:
                del table[key]
            table.update(kind=kind, **values)
    scenario = from_dict(data, env.scenario.source)  # validated like a scenario file
    params = next(c.params for c in scenario.agents if c.kind == kind)
    return scenario, dataclasses.asdict(params)


def _baseline_episode(env: Any, scenario: Any, seed: int) -> dict:
    from lobsim.rl.seat import RewardMeter
    from lobsim.sim.market import Market
    from lobsim.sim.recorder import DiscardSink

    market = Market(scenario.with_seed(seed), sink=DiscardSink())  # only the summary is read
    market.start(prefer_compiled=True)  # reads only the ledger and the venue while stepping
    index = {s.name: s.index for s in market.sessions}
    names = env.possible_agents
    meters = {n: RewardMeter(env.params[n], index[n]) for n in names}
    for meter in meters.values():
        meter.reset(market)
    rewards = dict.fromkeys(names, 0.0)
    inventory = dict.fromkeys(names, 0.0)
    for step in range(1, env.max_steps + 1):
        t_start = market.now
        market.advance(t_start + env.dt_ns)
        last = step == env.max_steps or market.done
        dt = (market.now - t_start) / 1e9  # the last step may be shorter
        terms = {n: meters[n].terms(market, dt, last)["reward"] for n in names}
        team = sum(terms.values())
        for n in names:
            rewards[n] += team if env.team else terms[n]
            inventory[n] += abs(market.ledger.inventory[index[n]])
        if last:
            break
    return _episode(market.finish().summary, names, rewards, inventory, step)


def _episode(summary: dict, names: list[str], rewards: dict, inventory: dict, steps: int) -> dict:
    seats = {}
    for n in names:
        agent = summary["agents"][n]
        seats[n] = {"reward": rewards[n], "pnl": agent["pnl"], "spread_capture": agent["spread_capture"],
                    "abs_inventory": inventory[n] / max(steps, 1), "fills": agent["fills"]}
    return {"seats": seats, "market": summary["market"]}


def _mean(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def _seat_stats(episodes: list[dict]) -> dict:
    rewards = [e["reward"] for e in episodes]
    return {"reward_mean": float(np.mean(rewards)), "reward_ci95": ci95(rewards),
            "pnl_mean": _mean([e["pnl"] for e in episodes]),
            "spread_capture_mean": _mean([e["spread_capture"] for e in episodes]),
            "abs_inventory_mean": _mean([e["abs_inventory"] for e in episodes]),
            "fills_mean": _mean([e["fills"] for e in episodes])}
