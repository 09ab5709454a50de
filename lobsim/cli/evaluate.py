"""``lobsim evaluate SCENARIO --policy DIR [--episodes K] [--seed S] [--json]``.

Runs the trained makers of DIR/policy.pt in their seats, then the same seats filled by
the ``fixed_spread`` and the ``avellaneda_stoikov`` makers, on the same held-out market
seeds, and reports per seat and controller the mean reward (the scenario's reward
definition, :class:`lobsim.seat.RewardMeter`) with a 95% interval, and the mean PnL,
spread capture, |inventory| and fills, plus the market's mean spread and volatility.
Per seat and baseline it also gives the learner's reward minus the baseline's, paired
by seed (mean and 95% t-interval of the per-seed differences).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

BASELINES = ("fixed_spread", "avellaneda_stoikov")
#: Two-sided 95% Student t quantiles by degrees of freedom 1..30 (see :func:`t95` beyond).
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120,
        17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064,
        25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042}


def t95(df: int) -> float:
    """Two-sided 95% t quantile: exact (3 decimals) for df <= 30; above, the approximation
    1.96 + 2.5 / df, within 0.002 of the exact value for df > 30 (2.041 vs 2.040 at 31,
    1.981 vs 1.980 at 120) and tending to the normal 1.96."""
    return _T95[df] if df <= 30 else 1.96 + 2.5 / df


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "evaluate", help="compare trained makers with fixed-spread and Avellaneda-Stoikov makers",
        description="Run the trained makers, then the same seats filled by the fixed_spread and "
                    "avellaneda_stoikov makers, on the same held-out seeds; print a table per seat.")
    parser.add_argument("scenario", type=Path, help="scenario TOML file the policy was trained on")
    parser.add_argument("--policy", type=Path, required=True, metavar="DIR", help="directory with policy.pt")
    parser.add_argument("--episodes", type=int, default=20, help="held-out episodes (default 20)")
    parser.add_argument("--seed", type=int, default=12345,
                        help="seed of the held-out market seeds (default 12345)")
    parser.add_argument("--set", action="append", default=[], metavar="KIND.KEY=VALUE",
                        help="a baseline parameter, e.g. fixed_spread.half_spread=2 (repeatable; "
                             "VALUE is TOML)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lobsim.cli import check_option
    from lobsim.cli.progress import ProgressBar
    from lobsim.config import MAX_EPISODES, MAX_SEED
    from lobsim.env import load_scenario

    check_option("--episodes", args.episodes, 1, MAX_EPISODES)
    check_option("--seed", args.seed, 0, MAX_SEED)
    scenario = load_scenario(args.scenario)
    policy, payload = load_policy(args.policy)
    bar = None if args.no_progress else ProgressBar("evaluate")
    try:
        report = evaluate(scenario, policy, payload, args.episodes, args.seed, _settings(args.set),
                          str(args.policy), progress=bar)
    finally:
        if bar is not None:
            bar.close()
    report["policy"] = str(args.policy)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report))
    return 0


def _settings(items: list[str]) -> dict[str, dict[str, Any]]:
    """``KIND.KEY=VALUE`` options -> {kind: {key: value}} (VALUE parsed as TOML)."""
    import tomllib

    from lobsim.errors import InputError

    out: dict[str, dict[str, Any]] = {}
    for item in items:
        head, sep, value = item.partition("=")
        kind, dot, key = head.strip().partition(".")
        if not (sep and dot and kind in BASELINES and key):
            raise InputError(f"--set: expected KIND.KEY=VALUE with KIND in {', '.join(BASELINES)}, got {item!r}")
        try:
            out.setdefault(kind, {})[key] = tomllib.loads(f"v = {value.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            out.setdefault(kind, {})[key] = value.strip()
    return out


def load_policy(directory: Path) -> tuple[Any, dict]:
    """The greedy policy of ``directory``/policy.pt, rebuilt by its learner (by ``algo``).

    The file is read with ``torch.load(weights_only=True)`` (:mod:`lobsim.checkpoint`);
    anything wrong with it is one :class:`~lobsim.errors.CheckpointError` line naming it.
    Sets torch to one thread: the policy runs one small batched forward pass per step,
    where a second thread only spins (``evaluate`` on ``mm_duel.toml``, 2 episodes: 15.9 s
    and 22.0 s of CPU with torch's default, 15.3 s and 14.8 s with one thread). Two
    20-episode evaluations side by side on 2 cores had not finished after 10 minutes with
    the default; with one thread each, both took 3.5.
    """
    import torch

    from lobsim import registry
    from lobsim.checkpoint import CHECKPOINT, load_checkpoint
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
    from lobsim.checkpoint import check_matches, check_payload
    from lobsim.env import MarketEnv

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
    horizon, and flow in these games fills at one or two ticks from the mid. A fixed
    gamma does not carry across episode lengths: on ``mm_duel``'s game (diagnostic seeds),
    gamma = 10 was on the plateau of a grid of settings for 60 s episodes, and far below
    it for 240 s and 600 s ones (0.86 to 0.90 per seat, against about 2.0 and 5.0),
    because the term grows with the horizon. The rule gives 4.5, 0.66 and 0.26 for those
    lengths, each on its grid's plateau (README, learning quality).
    """
    return float(f"{tick / (2 * sigma * sigma * horizon):.4g}")


def _baseline_scenario(env: Any, kind: str, values: dict[str, Any]) -> tuple[Any, dict]:
    """The env's scenario with every learner seat filled by ``kind`` (same names, count,
    latency, rate limit; the kind's default feeds), and the parameters used."""
    from lobsim import registry
    from lobsim.scenario import from_dict, resolved_dict

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
    from lobsim.market import Market
    from lobsim.seat import RewardMeter

    market = Market(scenario.with_seed(seed))
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


def ci95(values: list[float]) -> list[float]:
    """Student-t 95% interval of the mean of ``values``."""
    x = np.asarray(values, dtype=np.float64)
    mean = float(x.mean())
    if len(x) < 2:
        return [mean, mean]
    df = len(x) - 1
    half = t95(df) * float(x.std(ddof=1)) / math.sqrt(len(x))
    return [mean - half, mean + half]


def _seat_stats(episodes: list[dict]) -> dict:
    rewards = [e["reward"] for e in episodes]
    return {"reward_mean": float(np.mean(rewards)), "reward_ci95": ci95(rewards),
            "pnl_mean": _mean([e["pnl"] for e in episodes]),
            "spread_capture_mean": _mean([e["spread_capture"] for e in episodes]),
            "abs_inventory_mean": _mean([e["abs_inventory"] for e in episodes]),
            "fills_mean": _mean([e["fills"] for e in episodes])}


def format_report(report: dict) -> str:
    """One table per seat, then the market's figures per controller."""
    lines = [f"{report['scenario']}: {report['episodes']} held-out episodes"
             f"{' (team reward)' if report['team'] else ''}"]
    head = (f"  {'controller':<20}{'reward':>10}{'95% interval':>22}{'pnl':>10}"
            f"{'spread cap.':>13}{'|inventory|':>13}{'fills':>9}")
    for seat, rows in report["seats"].items():
        lines += ["", f"seat {seat}", head]
        for kind, s in rows.items():
            lo, hi = s["reward_ci95"]
            lines.append(f"  {kind:<20}{s['reward_mean']:>10.4f}{f'[{lo:.4f}, {hi:.4f}]':>22}"
                         f"{s['pnl_mean']:>10.4f}{s['spread_capture_mean']:>13.4f}"
                         f"{s['abs_inventory_mean']:>13.2f}{s['fills_mean']:>9.1f}")
        for kind, d in report.get("paired", {}).get(seat, {}).items():
            lo, hi = d["diff_ci95"]
            lines.append(f"  learner - {kind}, paired by seed: {d['diff_mean']:+.4f} [{lo:+.4f}, {hi:+.4f}]")
    lines += ["", f"  {'market with':<20}{'mean spread':>14}{'mid volatility':>17}"]
    for kind, m in report["market"].items():
        spread, vol = m["mean_spread_mean"], m["mid_volatility_mean"]
        lines.append(f"  {kind:<20}{'n/a' if spread is None else f'{spread:.4f}':>14}"
                     f"{'n/a' if vol is None else f'{vol:.4f}':>17}")
    for kind, why in report.get("unavailable", {}).items():
        lines.append(f"  {kind}: not evaluated ({why})")
    return "\n".join(lines)
