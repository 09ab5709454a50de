"""``lobsim run``'s table has units, and its summary says who drove the learner seats."""

from __future__ import annotations

import json

from support.scenarios import write_scenario

from lobsim.cli import main


def test_run_table_names_its_units_and_idle_learner_seats(tmp_path, capsys):
    scenario = write_scenario(tmp_path / "duel.toml", duration=1.0)
    assert main(["run", str(scenario), "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    for unit in ("s simulated", "volume", "lots", "mean spread", "(price units)",
                 "(price units / sqrt(s))", "(lots)"):
        assert unit in out, unit
    assert "learner seats: maker_0, maker_1 idle (no --policy)" in out
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["learners"] == {"seats": ["maker_0", "maker_1"], "policy": None, "algo": None}


def test_run_with_a_policy_records_it_in_the_summary(tmp_path, capsys):
    scenario = write_scenario(tmp_path / "duel.toml", duration=0.5)
    train = tmp_path / "train"
    assert main(["train", str(scenario), "--algo", "dqn", "--steps", "20", "--out", str(train),
                 "--workers", "0", "--envs", "2", "--no-progress"]) == 0
    assert main(["run", str(scenario), "--policy", str(train), "--out", str(tmp_path / "run"),
                 "--no-progress"]) == 0
    assert f"maker_0, maker_1 driven by the greedy dqn policy of {train}" in capsys.readouterr().out
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["learners"] == {"seats": ["maker_0", "maker_1"], "policy": str(train), "algo": "dqn"}
