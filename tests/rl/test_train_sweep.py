"""``lobsim.rl.train_sweep``: the grid's plan (settings and scenario keys, every input
checked first), the same cells serially, in local processes and on a local Ray instance,
and an interrupted grid that keeps its finished cells and trains only the others."""

from __future__ import annotations

import json

import pytest
from support.learners import DQN_FAST
from support.scenarios import write_scenario

from lobsim.analysis.sweep import Axis, parse_set
from lobsim.errors import InputError, ScenarioError
from lobsim.rl import train_sweep

#: DQN_FAST as one-valued axes (fixed settings), without `workers`: cells simulate in-process
FAST = [Axis(k, (v,)) for k, v in DQN_FAST.items() if k != "workers"]


@pytest.fixture
def scenario(tmp_path):
    return write_scenario(tmp_path / "duel.toml", duration=1.0)


def tiny_plan(scenario, axes, seeds=1):
    return train_sweep.plan(scenario, "dqn", [*axes, *FAST], seeds, seed=3, steps=120,
                            eval_episodes=2, eval_seed=9)


def without_times(rows):
    return [{k: v for k, v in r.items() if not k.startswith(train_sweep.TIME_PREFIX)} for r in rows]


def test_plan_is_settings_and_scenario_keys_times_seeds(scenario):
    axes = [parse_set("learning_rate=0.001,0.0005"), parse_set("agents.maker.inventory_coef=0.001,0.002")]
    plan = train_sweep.plan(scenario, "dqn", axes, seeds=2, seed=5)
    assert [c.name for c in plan.cells] == [f"v{v}-seed{s}" for v in range(4) for s in (5, 6)]
    first, last = plan.cells[0], plan.cells[-1]
    assert first.values == {"learning_rate": 0.001, "agents.maker.inventory_coef": 0.001}
    assert last.values == {"learning_rate": 0.0005, "agents.maker.inventory_coef": 0.002}
    assert last.settings == {"learning_rate": 0.0005}  # scenario keys go to the scenario only
    assert last.data["agents"][1]["inventory_coef"] == 0.002 and "inventory_coef" not in first.settings
    assert train_sweep.varying([*axes, Axis("mode", ("shared",))]) == axes
    assert train_sweep.varying([Axis("mode", ("shared",))]) == [Axis("mode", ("shared",))]


@pytest.mark.parametrize("axes, seeds, message", [
    (["lr=0.1"], 1, r"--set lr=0.1: unknown dqn settings \['lr'\]"),
    (["batch_size=1.5"], 1, "--set batch_size=1.5: dqn setting 'batch_size' must be int, got 1.5"),
    (["seed=1,2"], 1, r"--set seed: not a grid setting \(--seed and --seeds\)"),
    (["workers=2"], 1, "--set workers: not a grid setting"),
    (["gamma=0.9", "gamma=0.99"], 1, "the same key is swept twice"),
    (["gamma=0.9"], 0, "--seeds must be from 1 to 10,000, got 0"),
])
def test_bad_plans_are_one_line_errors(scenario, axes, seeds, message):
    with pytest.raises(InputError, match=message):
        train_sweep.plan(scenario, "dqn", [parse_set(a) for a in axes], seeds)


def test_a_bad_scenario_key_or_a_variant_without_learners_is_refused(scenario, tmp_path):
    with pytest.raises(ScenarioError, match="half_spred: unknown key"):
        train_sweep.plan(scenario, "dqn", [parse_set("agents.maker.half_spred=1")], 1)
    plain = tmp_path / "plain.toml"  # a learner table with nothing a maker kind would refuse
    plain.write_text(scenario.read_text().replace("decision_interval = 0.1\n", ""))
    with pytest.raises(InputError, match=r"no agents of kind 'learner' or 'executor' to train \("):
        train_sweep.plan(plain, "dqn", [parse_set("agents.maker.kind=learner,fixed_spread")], 1)


def test_serial_processes_and_ray_give_the_same_cells(scenario, tmp_path):
    # ray is in the dev extra, so the test suite always has it (as the sweep's test)
    plan = tiny_plan(scenario, [parse_set("learning_rate=0.001,0.0005")])
    seen = []
    serial = train_sweep.run(plan, tmp_path / "serial", workers=1, progress=lambda d, t: seen.append((d, t)))
    pooled = train_sweep.run(plan, tmp_path / "pool", workers=2)
    on_ray = train_sweep.run(plan, tmp_path / "ray", address="local")
    assert seen == [(0, 2), (1, 2), (2, 2)]
    assert without_times(serial) == without_times(pooled) == without_times(on_ray)
    assert [(r["cell"], r["learning_rate"]) for r in serial] == [("v0-seed3", 0.001), ("v1-seed3", 0.0005)]
    assert serial[0]["reward"] != serial[1]["reward"]  # the settings reached the learner
    row = serial[0]
    assert row["reward"] == pytest.approx((row["reward.maker_0"] + row["reward.maker_1"]) / 2)
    for cell in ("v0-seed3", "v1-seed3"):
        reports = [json.loads((tmp_path / d / "cells" / cell / "evaluation.json").read_text())
                   for d in ("serial", "pool", "ray")]
        assert reports[0] == reports[1] == reports[2]
        assert reports[0]["episodes"] == 2 and reports[0]["seeds"] == reports[1]["seeds"]
        config = json.loads((tmp_path / "serial" / "cells" / cell / "train_summary.json").read_text())
        assert config["steps"] == 120 and "out" not in config


def test_an_interrupted_grid_keeps_finished_cells_and_trains_the_rest(scenario, tmp_path, monkeypatch):
    plan = tiny_plan(scenario, [parse_set("learning_rate=0.001,0.0005")])
    out = tmp_path / "grid"
    real, calls = train_sweep.train_cell, []

    def ctrl_c_in_the_second(name, *args):
        calls.append(name)
        return {"interrupted": True} if len(calls) == 2 else real(name, *args)

    monkeypatch.setattr(train_sweep, "train_cell", ctrl_c_in_the_second)
    with pytest.raises(KeyboardInterrupt):
        train_sweep.run(plan, out, workers=1)
    assert (out / "cells" / "v0-seed3" / "evaluation.json").is_file()
    assert not (out / "cells" / "v1-seed3").exists()
    calls.clear()
    monkeypatch.setattr(train_sweep, "train_cell", lambda name, *args: calls.append(name) or real(name, *args))
    rows = train_sweep.run(plan, out, workers=1)
    assert calls == ["v1-seed3"] and [r["cell"] for r in rows] == ["v0-seed3", "v1-seed3"]
    other = tiny_plan(scenario, [parse_set("learning_rate=0.001,0.002")])
    with pytest.raises(InputError, match=r"holds another train-sweep \(plan.json differs in axes\)"):
        train_sweep.run(other, out, workers=1)


def test_summary_gives_each_variant_a_mean_and_interval_over_seeds():
    axes = [Axis("gamma", (0.9, 0.99))]
    rows = [{"cell": f"v{v}-seed{s}", "variant": v, "seed": s, "gamma": (0.9, 0.99)[v],
             "reward": float(v + s)} for v in (0, 1) for s in (1, 2, 3)]
    summary = train_sweep.summarize(rows, axes)
    assert [s["values"] for s in summary] == [{"gamma": 0.9}, {"gamma": 0.99}]
    assert summary[1]["seeds"] == [1, 2, 3] and summary[1]["metrics"]["reward"]["mean"] == 3.0
    low, high = summary[0]["metrics"]["reward"]["ci95"]
    assert low == pytest.approx(2 - 4.303 / 3 ** 0.5) and high == pytest.approx(2 + 4.303 / 3 ** 0.5)
    one = train_sweep.summarize(rows[:1], axes)
    assert one[0]["metrics"]["reward"] == {"mean": 1.0, "ci95": None}
