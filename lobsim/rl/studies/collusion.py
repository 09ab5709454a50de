"""Competition or tacit collusion among learning market makers (issue 19, part 4).

:func:`run_study` trains N = 1, 2 and 4 learning makers (DQN, independent networks) in
two modes at two tick sizes, over K training seeds, evaluates every trained policy on
the same held-out market seeds, and measures each market against a competitive
benchmark in the same seats:

- **individual**: each maker learns from its own reward (the scenario's ``learner``
  reward); **team**: every maker gets the sum of all makers' rewards (``team = true``),
  i.e. joint-profit maximization, the collusive benchmark of the literature. Each maker
  keeps its own network in both modes, so only the reward differs. With N = 1 the two
  are the same game and it is trained once (mode ``individual``).
- **competitive**: the same N seats quoting, at every decision, the smallest offset of
  their grid on both sides (:class:`TightestQuotes`: Bertrand competition on the tick
  grid, where nobody can undercut the tightest quote the grid allows; the seats' own
  quoting rule, so that the benchmark and the learners differ only in their choices).
  Nothing is trained, so its interval is over evaluation episodes.
- the tick sizes: the base scenario's and ``tick_factor`` times it; everything else (the
  flow's rates and price window, the reward coefficients) is in price units and stays.

Per evaluation episode (:func:`episode_metrics`): the market's time-weighted mean spread,
the makers' summed PnL, the takers' cost and the makers' markup per lot. A learned cell's
figure is, per training seed, the mean over the evaluation episodes; its interval is over
training seeds (:mod:`lobsim.stats`). :mod:`lobsim.rl.studies.collusion_table` turns the
rows into the table and the figure; docs/collusion.md holds the measurements.

Reproducible: every training is a pure function of (derived scenario, budget, seed),
every evaluation of (policy, market seed). Costs O(cells x seeds x (budget + episodes x
steps per episode)) env steps; ``progress(done, total, label)`` counts them.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lobsim.errors import InputError

INDIVIDUAL, TEAM, COMPETITIVE = "individual", "team", "competitive"
MODES = (INDIVIDUAL, TEAM, COMPETITIVE)  #: in the order the table lists them
METRICS = ("spread", "makers_pnl", "takers_cost", "markup", "maker_share")
Progress = Callable[[int, int, str], None]  #: (env steps done, in all, what runs now)


@dataclass(frozen=True)
class StudyOptions:
    """What a study runs. Steps are env steps (one decision of every maker)."""

    budget: int = 30_000  #: env steps per training (DQN rounds up to its parallel envs)
    seeds: int = 3  #: training seeds K: seed, seed + 1, ...
    seed: int = 1  #: the first training seed
    episodes: int = 10  #: held-out evaluation episodes per policy (and per benchmark)
    eval_seed: int = 12345  #: the held-out seeds' root (``evaluate`` stream, as ``lobsim evaluate``)
    duration: float | None = None  #: episode length, seconds (None: the base scenario's)
    workers: int = 0  #: simulation processes per training (0: in the training process)
    counts: tuple[int, ...] = (1, 2, 4)  #: numbers of makers N
    tick_factors: tuple[int, ...] = (1, 5)  #: tick sizes, as multiples of the base's

    def dqn_overrides(self) -> dict[str, Any]:
        """DQN settings the study changes, and why: no validation episodes (they would
        cost more than the small budget's training; the last network is the policy), and
        random play for the first fifth of the budget (DQN's default is a fixed 10,000
        steps, sized for 360,000)."""
        return {"workers": self.workers, "mode": "independent", "validate_every": 0,
                "learning_starts": self.budget // 5}


#: ``--quick``: the whole pipeline in seconds (N = 1 and 2 only, 3-second episodes, 800
#: training steps, 2 seeds, 2 held-out episodes); its figures show that the pipeline
#: runs, not what learning makers do.
QUICK = StudyOptions(budget=800, seeds=2, episodes=2, duration=3.0, counts=(1, 2))


@dataclass(frozen=True)
class Cell:
    """One market of the study: tick size (multiple of the base's), N makers, mode."""

    tick_factor: int
    makers: int
    mode: str

    @property
    def name(self) -> str:
        return f"tick{self.tick_factor}x-n{self.makers}-{self.mode}"


def plan(options: StudyOptions) -> list[Cell]:
    """Every cell, tick by tick, N by N: individual, team (N > 1), competitive."""
    cells = []
    for factor in options.tick_factors:
        for n in options.counts:
            modes = (INDIVIDUAL, TEAM) if n > 1 else (INDIVIDUAL,)
            cells += [Cell(factor, n, mode) for mode in (*modes, COMPETITIVE)]
    return cells


def learner_table(base: Any) -> int:
    """Index of the base scenario's one ``[[agents]]`` table of kind ``learner``;
    :class:`InputError` naming the file otherwise (the study varies that table)."""
    found = [i for i, a in enumerate(base.agents) if a.kind == "learner"]
    executors = [a.name for a in base.agents if a.kind == "executor"]
    if len(found) != 1 or executors:
        raise InputError(f"{base.source}: the collusion study needs exactly one [[agents]] table of "
                         f"kind 'learner' and no executor; found {len(found)} learner table(s)"
                         f"{f' and executor {executors[0]!r}' if executors else ''}")
    if base.agents[found[0]].params.action_space != "grid":
        raise InputError(f"{base.source}: the collusion study needs the learners' action_space = "
                         f"\"grid\" (its benchmark quotes the grid's smallest offset)")
    return found[0]


def cell_scenario(base: Any, cell: Cell, duration: float | None = None) -> Any:
    """``base`` with ``cell``'s tick size, number of makers and team flag (learning
    makers; the competitive cell drives them with :class:`TightestQuotes`),
    validated like a scenario file (errors name ``base``'s file and the cell)."""
    from lobsim.scenario.loader import from_dict, resolved_dict

    index = learner_table(base)
    data = resolved_dict(base)
    data["market"]["tick_size"] = round(base.market.tick_size * cell.tick_factor, 12)
    data["agents"][index].update(count=cell.makers, team=cell.mode == TEAM)
    if duration is not None:
        data["simulation"]["duration"] = duration
    return from_dict(data, f"{base.source} [{cell.name}]")


class TightestQuotes:
    """The competitive benchmark's policy: every maker seat quotes the smallest offset of
    its grid on both sides at every decision (action ``(i + 1) x (len(grid) + 1) + i + 1``
    for ``i`` the smallest offset's index: see :meth:`lobsim.rl.seat.LearnerSeat.act`)."""

    def __init__(self, env: Any) -> None:
        self.actions = []
        for name in env.possible_agents:
            grid = env.params[name].grid
            i = grid.index(min(grid))
            self.actions.append((i + 1) * (len(grid) + 1) + i + 1)

    def act(self, obs: Any) -> Any:
        import numpy as np

        return np.array(self.actions[:len(obs)])


def episode_metrics(episode: dict, makers: list[str]) -> dict[str, float | None]:
    """One evaluation episode's figures (a :func:`lobsim.rl.episodes.run_episode` result):

    - ``spread``: the market's time-weighted mean spread while two-sided, price units;
    - ``makers_pnl``: the makers' PnL summed, price units per episode;
    - ``takers_cost``: what the other traders (the flow) lose, net, to the makers per lot
      traded on the market: minus their summed spread capture (each fill against the mid
      just before it) over the market's volume, price units per lot. The flow's trades
      among itself cancel in the sum; the makers only post (never take), so this is the
      effective half-spread the takers pay the makers, averaged over every lot traded;
    - ``markup``: the makers' spread capture per lot they traded (their effective half
      spread), price units per lot; None when they did not trade;
    - ``maker_share``: the makers' lots over the market's lots.
    """
    agents = episode["agents"]
    volume = episode["volume"]
    maker_volume = sum(agents[m]["volume"] for m in makers)
    maker_capture = sum(agents[m]["spread_capture"] for m in makers)
    taker_capture = sum(a["spread_capture"] for name, a in agents.items() if name not in makers)
    return {"spread": episode["market"]["mean_spread"],
            "makers_pnl": sum(agents[m]["pnl"] for m in makers),
            "takers_cost": -taker_capture / volume if volume else None,
            "markup": maker_capture / maker_volume if maker_volume else None,
            "maker_share": maker_volume / volume if volume else None}


class _Steps:
    """Counts the study's env steps for a :data:`Progress` callback (or none)."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def at(self, done: int, label: str) -> None:
        self.done = done
        if self.progress is not None:
            self.progress(done, self.total, label)


def total_steps(cells: list[Cell], options: StudyOptions, steps_per_episode: int) -> int:
    """The study's env steps: trainings, their evaluations and the benchmarks'."""
    learned = sum(c.mode != COMPETITIVE for c in cells)
    episodes = options.episodes * steps_per_episode
    return learned * options.seeds * (options.budget + episodes) + (len(cells) - learned) * episodes


def run_study(base: Any, options: StudyOptions, out: Path, progress: Progress | None = None) -> dict:
    """Run every cell of :func:`plan` and write into ``out`` (which must exist: the
    caller stages it) the policies (``policies/CELL/seed-S``) and ``runs.json``; return
    ``{"options", "eval_seeds", "cells": [{cell, runs: [{seed, metrics per episode,
    training}]}]}`` (every figure per evaluation episode; see :func:`episode_metrics`)."""
    from lobsim.rl.evaluation import held_out_seeds

    cells = plan(options)
    scenarios = {c: cell_scenario(base, c, options.duration) for c in cells}  # all checked first
    eval_seeds = held_out_seeds(options.eval_seed, options.episodes)
    steps = _Steps(progress, total_steps(cells, options, _steps_per_episode(scenarios[cells[0]])))
    results = []
    for cell in cells:
        if cell.mode == COMPETITIVE:
            runs = [{"seed": None, "episodes": _evaluate(scenarios[cell], None, eval_seeds, steps, cell)}]
        else:
            runs = [_train_and_evaluate(scenarios[cell], cell, options, seed, out, eval_seeds, steps)
                    for seed in range(options.seed, options.seed + options.seeds)]
        results.append({"cell": dataclasses.asdict(cell), "name": cell.name,
                        "tick_size": scenarios[cell].market.tick_size, "runs": runs})
    study = {"base": str(base.source), "options": dataclasses.asdict(options), "eval_seeds": eval_seeds,
             "dqn_overrides": options.dqn_overrides(), "cells": results}
    (out / "runs.json").write_text(json.dumps(study, indent=1))
    return study


def _steps_per_episode(scenario: Any) -> int:
    from lobsim.rl.env import MarketEnv

    return MarketEnv(scenario).max_steps


def _train_and_evaluate(scenario: Any, cell: Cell, options: StudyOptions, seed: int, out: Path,
                        eval_seeds: list[int], steps: _Steps) -> dict:
    """Train DQN makers on ``scenario`` with ``seed``; evaluate the policy it saved."""
    from lobsim import registry
    from lobsim.rl.evaluation import load_policy

    directory = out / "policies" / cell.name / f"seed-{seed}"
    directory.mkdir(parents=True)
    start, label = steps.done, f"{cell.name} seed {seed}: training"

    def trained(done: int, total: int, running: float | None) -> None:
        steps.at(start + min(done, options.budget), label)

    learner = registry.load("lobsim.learners", "dqn")
    summary = learner.train(scenario, steps=options.budget, seed=seed, out=directory,
                            progress=trained, **options.dqn_overrides())
    steps.at(start + options.budget, label)
    policy, _ = load_policy(directory)
    episodes = _evaluate(scenario, policy, eval_seeds, steps, cell, seed)
    training = {k: summary.get(k) for k in ("steps", "seconds", "episodes", "running_reward")}
    return {"seed": seed, "training": training, "episodes": episodes}


def _evaluate(scenario: Any, policy: Any, seeds: list[int], steps: _Steps, cell: Cell,
              seed: int | None = None) -> list[dict]:
    """:func:`episode_metrics` of ``policy`` driving ``scenario``'s makers (None: the
    competitive benchmark, :class:`TightestQuotes`) on each held-out market seed."""
    from lobsim.rl.env import MarketEnv
    from lobsim.rl.episodes import run_episode

    env = MarketEnv(scenario)
    makers = list(env.possible_agents)
    label = f"{cell.name}{'' if seed is None else f' seed {seed}'}: evaluating"
    out = []
    for market_seed in seeds:
        episode = run_episode(env, env.scenario, policy or TightestQuotes(env), market_seed)
        out.append(episode_metrics(episode, makers))
        steps.at(steps.done + env.max_steps, label)
    return out
