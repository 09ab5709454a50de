"""``lobsim train-sweep`` end to end: what it writes and prints, a rerun that trains only
the missing cell, and bad options as one line with nothing written."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
from support.learners import DQN_FAST
from support.scenarios import write_scenario

from lobsim.cli import main

FAST = [a for k, v in DQN_FAST.items() if k != "workers" for a in ("--set", f"{k}={v}")]


def command(scenario, out, *extra):
    return ["train-sweep", str(scenario), "--algo", "dqn", "--set", "gamma=0.9,0.99", *FAST,
            "--steps", "120", "--seed", "4", "--eval-episodes", "2", "--eval-seed", "9",
            "--workers", "1", "--out", str(out), *extra]


def test_train_sweep_writes_cells_tables_and_plot_and_resumes(tmp_path, capsys):
    scenario = write_scenario(tmp_path / "duel.toml", duration=1.0)
    out = tmp_path / "grid"
    assert main(command(scenario, out)) == 0
    captured = capsys.readouterr()
    assert captured.err.count("cell v") == 2 and "(gamma=0.9): reward" in captured.err
    assert "vs_avellaneda_stoikov" in captured.out and "wrote" in captured.out
    assert "num_envs" not in captured.out  # fixed settings are not table columns
    for name in ("plan.json", "train_sweep.csv", "train_sweep.json", "train_sweep.png"):
        assert (out / name).is_file(), name
    for cell in ("v0-seed4", "v1-seed4"):
        assert {p.name for p in (out / "cells" / cell).iterdir()} >= {
            "policy.pt", "learning_curve.csv", "train_summary.json", "evaluation.json"}
    rows = list(csv.DictReader((out / "train_sweep.csv").open()))
    assert [(r["cell"], r["gamma"]) for r in rows] == [("v0-seed4", "0.9"), ("v1-seed4", "0.99")]
    table = json.loads((out / "train_sweep.json").read_text())
    assert table["plan"]["axes"][0] == ["gamma", [0.9, 0.99]]
    assert table["variants"][0]["metrics"]["reward"]["ci95"] is None  # one seed: no interval
    # the policy of a cell is an ordinary training directory
    assert main(["evaluate", str(scenario), "--policy", str(out / "cells" / "v1-seed4"),
                 "--episodes", "2", "--seed", "9", "--json", "--no-progress"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["seats"] == json.loads((out / "cells" / "v1-seed4" / "evaluation.json").read_text())["seats"]

    shutil.rmtree(out / "cells" / "v0-seed4")  # as if the grid had stopped before it
    assert main(command(scenario, out)) == 0
    captured = capsys.readouterr()
    assert captured.err.count("cell v") == 1 and "cell v0-seed4" in captured.err
    redone = json.loads((out / "train_sweep.json").read_text())
    drop = lambda rows: [{k: v for k, v in r.items() if not k.startswith("time.")} for r in rows]  # noqa: E731
    assert drop(redone["rows"]) == drop(table["rows"])

    assert main(command(scenario, out, "--steps", "240")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds another train-sweep (plan.json differs in steps)" in err


@pytest.mark.parametrize("extra, message", [
    (["--set", "seed=1,2"], "--set seed: not a grid setting"),
    (["--set", "lr=0.1"], "unknown dqn settings ['lr']"),
    (["--eval-episodes", "0"], "--eval-episodes: expected an integer from 1 to 100,000, got 0"),
    (["--workers", "0"], "--workers: expected an integer from 1 to 256, got 0"),
    (["--set", "agents.nobody.count=1"], "no [[agents]] table named 'nobody'"),
])
def test_bad_options_are_one_line_and_write_nothing(tmp_path, capsys, extra, message):
    scenario = write_scenario(tmp_path / "duel.toml", duration=1.0)
    out = tmp_path / "grid"
    assert main(command(scenario, out, *extra)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert not out.exists()
