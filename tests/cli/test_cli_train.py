"""``lobsim train`` and ``lobsim evaluate``: a short train-and-evaluate smoke test (CI),
resume, and one-line errors for bad checkpoints."""

from __future__ import annotations

import importlib
import json

import pytest
from support.scenarios import write_scenario

from lobsim import registry
from lobsim.cli import main

LEARNERS = {"dqn": "agents.rl.dqn", "ppo": "agents.rl.ppo"}


def test_learners_are_registered():
    """pyproject.toml's lobsim.learners group (needs `pip install -e .` after adding it)."""
    assert set(LEARNERS) <= set(registry.names("lobsim.learners"))
    for name, module in LEARNERS.items():
        assert registry.load("lobsim.learners", name) is importlib.import_module(module).LEARNER


def test_train_then_evaluate_smoke(tmp_path, capsys):
    scenario = write_scenario(tmp_path / "duel.toml", duration=5.0)
    out = tmp_path / "run"
    code = main(["train", str(scenario), "--algo", "dqn", "--steps", "2000", "--seed", "3",
                 "--out", str(out), "--envs", "4", "--no-progress"])
    assert code == 0
    for name in ("policy.pt", "learning_curve.csv", "learning_curve.png"):
        assert (out / name).exists()
    assert "env steps/s" in capsys.readouterr().out
    code = main(["evaluate", str(scenario), "--policy", str(out), "--episodes", "2", "--seed", "9", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["seats"]) == {"maker_0", "maker_1"}
    for seat in report["seats"].values():
        assert set(seat) == {"learner", "fixed_spread", "avellaneda_stoikov"}
        for stats in seat.values():
            assert set(stats) == {"reward_mean", "reward_ci95", "pnl_mean", "spread_capture_mean",
                                  "abs_inventory_mean", "fills_mean"}
            lo, hi = stats["reward_ci95"]
            assert hi >= lo and (lo + hi) / 2 == pytest.approx(stats["reward_mean"])
    assert set(report["market"]) == {"learner", "fixed_spread", "avellaneda_stoikov"}
    for name, seat in report["seats"].items():
        for kind in ("fixed_spread", "avellaneda_stoikov"):
            paired = report["paired"][name][kind]
            # the mean of the per-seed differences is the difference of the means
            gap = seat["learner"]["reward_mean"] - seat[kind]["reward_mean"]
            assert paired["diff_mean"] == pytest.approx(gap)
            lo, hi = paired["diff_ci95"]
            assert lo <= paired["diff_mean"] <= hi
    # the table form, and a second evaluation on the same seeds gives the same numbers
    assert main(["evaluate", str(scenario), "--policy", str(out), "--episodes", "2", "--seed", "9"]) == 0
    table = capsys.readouterr().out
    assert "seat maker_0" in table and "avellaneda_stoikov" in table
    assert "learner - avellaneda_stoikov, paired by seed" in table
    assert f"{report['seats']['maker_0']['learner']['reward_mean']:.4f}" in table


def test_ppo_train_and_resume(tmp_path, capsys):
    scenario = write_scenario(tmp_path / "duel.toml", duration=1.0)
    out = tmp_path / "run"
    assert main(["train", str(scenario), "--algo", "ppo", "--steps", "256", "--out", str(out),
                 "--workers", "0", "--envs", "2", "--mode", "shared", "--no-progress"]) == 0
    assert main(["train", str(scenario), "--algo", "ppo", "--steps", "256", "--resume", str(out),
                 "--workers", "0", "--no-progress"]) == 0
    from agents.rl.common import load_checkpoint

    payload = load_checkpoint(out)
    assert payload["progress"]["step"] == 512 and payload["config"]["mode"] == "shared"


def test_bad_checkpoints_and_arguments_are_one_line_errors(tmp_path, capsys):
    scenario = write_scenario(tmp_path / "duel.toml", duration=1.0)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "policy.pt").write_bytes(b"\x00garbage")
    assert main(["evaluate", str(scenario), "--policy", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a lobsim checkpoint" in err
    assert main(["train", str(scenario), "--algo", "ppo", "--resume", str(bad), "--no-progress"]) == 2
    assert "not a lobsim checkpoint" in capsys.readouterr().err
    assert main(["train", str(scenario), "--algo", "sarsa", "--out", str(tmp_path / "x")]) == 2
    assert "unknown learner 'sarsa'" in capsys.readouterr().err
    assert main(["train", str(scenario), "--algo", "dqn", "--mode", "mappo", "--out", str(tmp_path / "x")]) == 2
    assert "dqn: mode must be independent or shared, got 'mappo'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    # a policy trained for other seats
    other = write_scenario(tmp_path / "three.toml", duration=1.0, count=3)
    out = tmp_path / "run"
    assert main(["train", str(scenario), "--algo", "dqn", "--steps", "40", "--out", str(out),
                 "--workers", "0", "--envs", "2", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(other), "--policy", str(out), "--episodes", "1"]) == 2
    assert "do not match" in capsys.readouterr().err


def test_evaluate_reports_user_mistakes_and_skips_only_missing_baselines(tmp_path, capsys, monkeypatch):
    scenario = write_scenario(tmp_path / "duel.toml", duration=0.5)
    out = tmp_path / "run"
    assert main(["train", str(scenario), "--algo", "dqn", "--steps", "20", "--out", str(out),
                 "--workers", "0", "--envs", "2", "--no-progress"]) == 0
    capsys.readouterr()
    # an unknown baseline parameter is the user's mistake: one line, exit 2
    assert main(["evaluate", str(scenario), "--policy", str(out), "--episodes", "1",
                 "--set", "fixed_spread.no_such_key=1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no_such_key" in err
    # so is a value the baseline's scenario validation refuses
    assert main(["evaluate", str(scenario), "--policy", str(out), "--episodes", "1",
                 "--set", "fixed_spread.quote_size=-3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "quote_size" in err
    # a baseline kind that is not installed is reported as not evaluated
    from lobsim import registry

    real = registry.names
    monkeypatch.setattr(registry, "names", lambda group: tuple(
        n for n in real(group) if n != "avellaneda_stoikov"))
    assert main(["evaluate", str(scenario), "--policy", str(out), "--episodes", "1"]) == 0
    assert "avellaneda_stoikov: not evaluated (agent kind 'avellaneda_stoikov' is not installed)" \
        in capsys.readouterr().out
    # progress counts every controller's episodes; the missing baseline's count as done
    from lobsim.rl.evaluation import evaluate, load_policy
    from lobsim.rl.env import load_scenario

    calls = []
    policy, payload = load_policy(out)
    evaluate(load_scenario(scenario), policy, payload, 2, 9, progress=lambda *a: calls.append(a))
    assert calls == [(1, 6), (2, 6), (3, 6), (4, 6), (6, 6)]
