"""The collusion study's parts: its cells, the scenarios it derives, the per-episode
figures, the table's intervals, and that a study is a pure function of its options."""

from __future__ import annotations

import dataclasses
import json

import numpy as np

import pytest
from support.scenarios import SCENARIO_DIR

from lobsim.errors import InputError
from lobsim.rl.env import MarketEnv, load_scenario
from lobsim.rl.studies import collusion
from lobsim.scenario.loader import from_dict, resolved_dict
from lobsim.rl.studies.collusion import Cell, StudyOptions
from lobsim.rl.studies.collusion_table import table
from lobsim.stats import mean_ci95

BASE = load_scenario(SCENARIO_DIR / "collusion.toml")


def test_plan_trains_n1_once_and_benchmarks_every_market():
    cells = collusion.plan(StudyOptions())
    assert len(cells) == 2 * (2 + 3 + 3)
    assert Cell(1, 1, "team") not in cells and Cell(5, 4, "team") in cells
    assert sum(c.mode == "competitive" for c in cells) == 6


def test_cell_scenarios_change_the_tick_count_and_team_only():
    scenario = collusion.cell_scenario(BASE, Cell(5, 4, "team"), duration=7.0)
    assert scenario.market.tick_size == 0.05 and scenario.simulation.duration == 7.0
    maker = next(a for a in scenario.agents if a.kind == "learner")
    assert maker.count == 4 and maker.params.team
    base_maker = next(a for a in BASE.agents if a.kind == "learner")
    assert maker.params.grid == base_maker.params.grid and maker.latency == base_maker.latency
    assert [a.params for a in scenario.agents if a.kind != "learner"] == \
           [a.params for a in BASE.agents if a.kind != "learner"]
    assert "[tick5x-n4-team]" in scenario.source
    individual = collusion.cell_scenario(BASE, Cell(1, 2, "individual"))
    assert not next(a for a in individual.agents if a.kind == "learner").params.team


def test_the_competitive_benchmark_quotes_the_smallest_offset_on_both_sides():
    for grid in ((1, 2, 3, 5), (3, 1, 2)):
        env = MarketEnv(collusion.cell_scenario(
            load_scenario(SCENARIO_DIR / "collusion.toml"), Cell(1, 4, "competitive")))
        env.params = {n: dataclasses.replace(p, grid=grid) for n, p in env.params.items()}
        actions = collusion.TightestQuotes(env).act(np.zeros((4, 27)))
        assert len(actions) == 4
        for action in actions:  # LearnerSeat.act's decoding: (bid, ask) grid positions + 1
            bid, ask = divmod(int(action), len(grid) + 1)
            assert grid[bid - 1] == grid[ask - 1] == min(grid)


def test_a_base_without_one_learner_table_is_refused_naming_it():
    with pytest.raises(InputError, match="default.toml: the collusion study needs"):
        collusion.learner_table(load_scenario(SCENARIO_DIR / "default.toml"))
    three = collusion.cell_scenario(BASE, Cell(1, 2, "individual"))
    data = resolved_dict(three)
    data["agents"][1]["action_space"] = "three"
    with pytest.raises(InputError, match="action_space"):
        collusion.learner_table(from_dict(data, "x.toml"))


def test_episode_metrics_from_the_summary():
    episode = {"market": {"mean_spread": 0.02}, "volume": 10,
               "agents": {"flow": {"pnl": -0.3, "spread_capture": -0.04, "volume": 16},
                          "maker_0": {"pnl": 0.2, "spread_capture": 0.03, "volume": 3},
                          "maker_1": {"pnl": 0.1, "spread_capture": 0.01, "volume": 1}}}
    m = collusion.episode_metrics(episode, ["maker_0", "maker_1"])
    assert m["spread"] == 0.02 and m["makers_pnl"] == pytest.approx(0.3)
    assert m["takers_cost"] == pytest.approx(0.004) and m["markup"] == pytest.approx(0.01)
    assert m["maker_share"] == pytest.approx(0.4)
    episode["agents"]["maker_0"]["volume"] = episode["agents"]["maker_1"]["volume"] = 0
    assert collusion.episode_metrics(episode, ["maker_0", "maker_1"])["markup"] is None


def _run(seed, values):
    return {"seed": seed, "episodes": [dict.fromkeys(collusion.METRICS, v) for v in values]}


def test_learned_intervals_are_over_training_seeds_the_benchmarks_over_episodes():
    cell = {"tick_size": 0.01, "name": "x"}
    study = {"cells": [
        {**cell, "cell": {"tick_factor": 1, "makers": 2, "mode": "team"},
         "runs": [_run(1, [1.0, 3.0]), _run(2, [4.0, 4.0]), _run(3, [5.0, 7.0])]},
        {**cell, "cell": {"tick_factor": 1, "makers": 2, "mode": "competitive"},
         "runs": [_run(None, [1.0, 2.0, 6.0])]}]}
    learned, benchmark = table(study)
    mean, half = mean_ci95([2.0, 4.0, 6.0])
    assert (learned["n"], learned["interval_over"]) == (3, "training seeds")
    assert learned["spread_mean"] == mean and learned["spread_hi"] == pytest.approx(mean + half)
    mean, half = mean_ci95([1.0, 2.0, 6.0])
    assert (benchmark["n"], benchmark["interval_over"]) == (3, "evaluation episodes")
    assert benchmark["markup_lo"] == pytest.approx(mean - half)


def test_a_study_is_a_pure_function_of_its_options(tmp_path):
    options = StudyOptions(budget=160, seeds=1, episodes=1, duration=1.0, counts=(2,), tick_factors=(1,))
    figures = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        study = collusion.run_study(BASE, options, tmp_path / name)
        figures.append([[run["episodes"] for run in cell["runs"]] for cell in study["cells"]])
        assert json.loads((tmp_path / name / "runs.json").read_text())["cells"][0]["name"] == "tick1x-n2-individual"
    assert figures[0] == figures[1]
