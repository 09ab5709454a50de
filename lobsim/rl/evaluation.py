"""Trained policies against the baselines, on held-out market seeds.

:func:`evaluate` runs the trained makers of a policy directory in their seats, then the
same seats filled by the ``fixed_spread`` and the ``avellaneda_stoikov`` makers, on the
same held-out seeds, and gives per seat and controller the mean reward (the scenario's
reward definition, :class:`lobsim.rl.seat.RewardMeter`) with a 95% interval, and the
mean PnL, spread capture, |inventory| and fills, plus the market's mean spread and
volatility. Per seat and baseline it also gives the learner's reward minus the
baseline's, paired by seed (mean and 95% t-interval of the per-seed differences).

With ``executor`` seats, their controllers are compared in the same way: the trained
executors, then the ``twap`` and ``almgren_chriss`` agents in their seats (the makers'
seats still driven by the policy), each with its implementation shortfall (mean and 95%
interval); and ``idle``, the executors waiting throughout, which shows what the
executors' presence does to the makers (paired by seed, per maker seat). Executors
trained with reward shaping are scored without it
(:func:`lobsim.rl.executor.without_shaping`). The maker
baselines run with the trained executors in their seats. One thing changes per
comparison.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from lobsim.rl.episodes import play, run_episode  # noqa: F401 - play is part of this API
from lobsim.stats import ci95

BASELINES = ("fixed_spread", "avellaneda_stoikov")  #: in the makers' seats
EXEC_BASELINES = ("twap", "almgren_chriss")  #: in the executors' seats
IDLE = "idle"  #: the executors wait: the market without them


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
    """Per seat and controller (learner; fixed_spread, avellaneda_stoikov in the makers'
    seats; twap, almgren_chriss and idle in the executors') figures over the same held-out
    seeds; see the module docstring and :func:`baseline_params` for the baselines'
    parameters (``settings``: {kind: {key: value}} overrides). ``progress(done, total)`` is
    called after every episode, counting each controller's (a baseline that is not
    installed counts as done)."""
    from lobsim.rl.checkpoint import check_matches, check_payload
    from lobsim.rl.env import MarketEnv
    from lobsim.rl.executor import without_shaping

    env = MarketEnv(without_shaping(scenario))  # the task as defined: no training-only shaping
    names = env.possible_agents
    check_matches(check_payload(payload, None, where), env, where)
    seeds = held_out_seeds(seed, episodes)
    plan = _plan({env.classes[n].role for n in names})
    count = _EpisodeCounter(progress, episodes * len(plan))
    runs: dict[str, list[dict]] = {}
    unavailable, used = {}, {}
    for controller, role in plan:
        run_scenario, forced = env.scenario, None
        if controller == IDLE:
            forced = {n: 0 for n in names if env.classes[n].role == role}
        elif controller != "learner":
            # only a baseline kind that is not installed is skipped; a bad --set key or an
            # invalid resulting scenario is the user's mistake (LobsimError: one line, exit 2)
            why = _unavailable(controller)
            if why is not None:
                unavailable[controller] = why
                count.skip(episodes)
                continue
            run_scenario, used[controller] = baseline_scenario(
                env, controller, baseline_params(env, controller, runs, settings), role)
        runs[controller] = [count(run_episode(env, run_scenario, policy, s, forced)) for s in seeds]
    report: dict[str, Any] = {"scenario": scenario.source, "episodes": episodes, "seeds": seeds,
                              "team": env.team, "baselines": used, "seats": {}, "market": {},
                              "paired": {n: _paired(runs, n) for n in names}}
    for name in names:
        report["seats"][name] = {kind: _seat_stats([ep["seats"][name] for ep in eps])
                                 for kind, eps in runs.items()}
    for kind, eps in runs.items():
        report["market"][kind] = {
            "mean_spread_mean": _mean([ep["market"]["mean_spread"] for ep in eps]),
            "mid_volatility_mean": _mean([ep["market"]["mid_volatility"] for ep in eps]),
        }
    if unavailable:
        report["unavailable"] = unavailable
    return report


def _plan(roles: set[str]) -> list[tuple[str, str | None]]:
    """(controller, the seats' role it fills) in the order they run: the learners first,
    then the makers' baselines (avellaneda_stoikov after fixed_spread, whose volatility it
    takes), then the executors'."""
    plan: list[tuple[str, str | None]] = [("learner", None)]
    if "maker" in roles:
        plan += [(kind, "maker") for kind in BASELINES]
    if "executor" in roles:
        plan += [(kind, "executor") for kind in EXEC_BASELINES]
        if "maker" in roles:
            plan.append((IDLE, "executor"))
    return plan


def _unavailable(kind: str) -> str | None:
    """Why baseline ``kind`` cannot run here, or None."""
    from lobsim import registry

    if kind not in registry.names("lobsim.agents"):
        return f"agent kind {kind!r} is not installed"
    try:
        registry.load("lobsim.agents", kind)
    except ImportError as exc:
        return " ".join(str(exc).split())[:200] or type(exc).__name__
    return None


def _paired(runs: dict[str, list[dict]], name: str) -> dict[str, dict]:
    """The learner's run minus every other controller's on seat ``name``, paired by seed:
    every controller ran on the same seeds, so the per-seed difference removes the
    market's own luck, a sharper comparison than two separate intervals."""
    out = {}
    mine = [ep["seats"][name] for ep in runs.get("learner", [])]
    for kind, eps in runs.items():
        if kind == "learner":
            continue
        diff = [a["reward"] - ep["seats"][name]["reward"] for a, ep in zip(mine, eps)]
        out[kind] = {"diff_mean": float(np.mean(diff)), "diff_ci95": ci95(diff)}
        if "shortfall" in eps[0]["seats"][name]:
            diff = [a["shortfall"] - ep["seats"][name]["shortfall"] for a, ep in zip(mine, eps)]
            out[kind].update(shortfall_diff_mean=float(np.mean(diff)), shortfall_diff_ci95=ci95(diff))
    return out


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

    ``twap`` and ``almgren_chriss`` take the executor's ``side``, ``parent_qty``, ``start``
    and ``horizon``, and one slice per lot (at most one per decision interval: market
    orders of one lot walk the book least); Almgren-Chriss's ``sigma`` is the mean
    mid volatility of the learner's runs (or 0.01), its impact ``eta`` one tick per lot
    traded per slice interval (``tick x tau``), and its risk aversion the one that makes
    the schedule's urgency ``kappa x horizon`` equal to 1 (:func:`ac_risk_aversion`).
    """
    if kind in EXEC_BASELINES:
        return _exec_params(env, kind, runs, settings)
    first = next(p for n, p in env.params.items() if env.classes[n].role == "maker")
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


def _exec_params(env: Any, kind: str, runs: dict, settings: dict | None) -> dict[str, Any]:
    first = next(p for n, p in env.params.items() if env.classes[n].role == "executor")
    # one lot per slice where the decision grid allows: the cheapest way for market orders
    slices = max(min(first.parent_qty, int(round(first.horizon / env.dt, 9))), 1)
    params: dict[str, Any] = {"side": first.side, "parent_qty": first.parent_qty,
                              "start": first.start, "horizon": first.horizon, "slices": slices}
    values = (settings or {}).get(kind, {})
    if kind == "almgren_chriss":
        sigma = _mean([ep["market"]["mid_volatility"] for ep in runs.get("learner", [])])
        sigma = round(sigma, 6) if sigma else 0.01
        slices = values.get("slices", slices)
        tick = env.scenario.market.tick_size
        eta = tick * first.horizon / slices
        params.update(sigma=sigma, eta=float(f"{eta:.4g}"),
                      risk_aversion=ac_risk_aversion(sigma, eta, first.horizon, slices, 1.0))
    params.update(values)
    return params


def ac_risk_aversion(sigma: float, eta: float, horizon: float, slices: int, urgency: float) -> float:
    """The Almgren-Chriss risk aversion ``lambda`` whose discrete schedule has
    ``kappa x horizon = urgency``: ``2 (cosh(kappa tau) - 1) / tau**2 x eta / sigma**2``
    with ``tau = horizon / slices``, to 4 significant digits (see :mod:`agents.almgren_chriss`).

    Why a rule on urgency: lambda is in units of the market (price, lots, seconds), urgency
    is not; 1 front-loads the schedule visibly (the first slice holds about 1.3 times
    TWAP's at 10 slices) without dumping the parent at the start."""
    import math

    tau = horizon / slices
    kappa = urgency / horizon
    return float(f"{2 * (math.cosh(kappa * tau) - 1) / tau ** 2 * eta / sigma ** 2:.4g}")


def as_gamma(tick: float, sigma: float, horizon: float) -> float:
    """Avellaneda-Stoikov risk aversion (per price unit x lot) whose inventory term
    ``gamma * sigma**2 * horizon`` is half a tick: ``tick / (2 sigma**2 horizon)``, to 4
    significant digits.

    Why half a tick: the term widens the quotes and skews them by inventory over the whole
    horizon, and flow in these games fills at one or two ticks from the mid; a fixed gamma
    does not carry across episode lengths (measured: docs/results.md).
    """
    return float(f"{tick / (2 * sigma * sigma * horizon):.4g}")


def baseline_scenario(env: Any, kind: str, values: dict[str, Any],
                       role: str | None = "maker") -> tuple[Any, dict]:
    """The env's scenario with every learning seat of ``role`` (``maker`` or ``executor``)
    filled by ``kind`` (same names, count, latency, rate limit; the kind's default feeds),
    and the parameters used."""
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
        if getattr(env.classes.get(config.instance_names()[0]), "role", None) == role:
            for key in [k for k in table if k not in ("name", "count", "rate_limit", "latency")]:
                del table[key]
            table.update(kind=kind, **values)
    scenario = from_dict(data, env.scenario.source)  # validated like a scenario file
    params = next(c.params for c in scenario.agents if c.kind == kind)
    return scenario, dataclasses.asdict(params)


def _mean(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def _seat_stats(episodes: list[dict]) -> dict:
    rewards = [e["reward"] for e in episodes]
    return {"reward_mean": float(np.mean(rewards)), "reward_ci95": ci95(rewards),
            "pnl_mean": _mean([e["pnl"] for e in episodes]),
            "spread_capture_mean": _mean([e["spread_capture"] for e in episodes]),
            "abs_inventory_mean": _mean([e["abs_inventory"] for e in episodes]),
            "fills_mean": _mean([e["fills"] for e in episodes])} | _shortfall_stats(episodes)


def _shortfall_stats(episodes: list[dict]) -> dict:
    """An execution seat's shortfall (price units; mean, 95% interval), penalty and lots."""
    if "shortfall" not in episodes[0]:
        return {}
    shortfall = [e["shortfall"] for e in episodes]
    return {"shortfall_mean": float(np.mean(shortfall)), "shortfall_ci95": ci95(shortfall),
            "unfilled_penalty_mean": _mean([e["unfilled_penalty"] for e in episodes]),
            "executed_mean": _mean([e["executed"] for e in episodes])}
