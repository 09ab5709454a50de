"""lobsim train / evaluate on makers and an executor end to end, and --init-from's errors."""

from __future__ import annotations

import tomli_w
from support.scenarios import exec_scenario_dict, write_scenario

from lobsim.cli import main


def test_train_then_evaluate_an_executor_beside_makers(tmp_path, capsys):
    scenario = tmp_path / "exec.toml"
    scenario.write_text(tomli_w.dumps(exec_scenario_dict(duration=3.0)))
    out = tmp_path / "run"
    assert main(["train", str(scenario), "--algo", "ppo", "--steps", "256", "--out", str(out),
                 "--workers", "0", "--envs", "2", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(scenario), "--policy", str(out), "--episodes", "2", "--no-progress",
                 "--set", "almgren_chriss.slices=4"]) == 0
    table = capsys.readouterr().out
    assert "seat exec" in table and "shortfall" in table
    for controller in ("twap", "almgren_chriss", "idle"):
        assert f"learner - {controller}, paired by seed: reward" in table
    assert "learner - twap, paired by seed: reward" in table and ", shortfall " in table
    # the trained seats drive a recorded run, executor included
    assert main(["run", str(scenario), "--policy", str(out), "--out", str(tmp_path / "rec"),
                 "--no-progress"]) == 0
    import json

    summary = json.loads((tmp_path / "rec" / "summary.json").read_text())
    assert summary["audit"]["ok"] and "exec" in summary["agents"]


def test_init_from_errors_are_one_line_and_write_nothing(tmp_path, capsys):
    makers = write_scenario(tmp_path / "duel.toml", duration=1.0)
    source = tmp_path / "source"
    assert main(["train", str(makers), "--algo", "dqn", "--steps", "40", "--out", str(source),
                 "--workers", "0", "--envs", "2", "--no-progress"]) == 0
    scenario = tmp_path / "exec.toml"
    scenario.write_text(tomli_w.dumps(exec_scenario_dict(duration=1.0)))
    capsys.readouterr()
    out = tmp_path / "warm"
    assert main(["train", str(scenario), "--algo", "dqn", "--steps", "40", "--out", str(out),
                 "--init-from", str(source), "--workers", "0", "--envs", "2", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "seat spaces" in err and "do not match" in err
    assert main(["train", str(makers), "--algo", "dqn", "--out", str(out), "--resume", str(source),
                 "--init-from", str(source), "--no-progress"]) == 2
    assert "give only one" in capsys.readouterr().err
    assert main(["train", str(makers), "--algo", "dqn", "--out", str(out),
                 "--init-from", str(tmp_path / "nowhere"), "--workers", "0", "--no-progress"]) == 2
    assert "no such checkpoint" in capsys.readouterr().err
    assert not out.exists()
