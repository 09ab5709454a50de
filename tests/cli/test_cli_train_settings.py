"""``lobsim train --set KEY=VALUE``: learner settings on one training (a warm start that
explores less: issue 19, part 3), checked in one line each, and DQN's exploration schedule."""

from __future__ import annotations

import pytest
from support.learners import DQN_FAST
from support.scenarios import short_scenario, write_scenario

from agents.rl import dqn
from lobsim.cli import main
from lobsim.errors import InputError
from lobsim.rl.checkpoint import load_checkpoint

FAST = ["--algo", "dqn", "--workers", "0", "--envs", "2", "--no-progress"]


def test_set_reaches_the_learner_and_its_checkpoint(tmp_path, capsys):
    scenario = write_scenario(tmp_path / "duel.toml", duration=1.0)
    out = tmp_path / "run"
    assert main(["train", str(scenario), "--steps", "40", "--out", str(out), *FAST,
                 "--set", "start_epsilon=0.1", "--set", "exploration_fraction=0.25",
                 "--set", "learning_starts=20", "--set", "validate_every=0"]) == 0
    config = load_checkpoint(out)["config"]
    assert (config["start_epsilon"], config["exploration_fraction"], config["learning_starts"]) == \
        (0.1, 0.25, 20)
    assert config["end_epsilon"] == dqn.Args.end_epsilon  # the others keep their defaults


@pytest.mark.parametrize("setting,message", [
    ("start_epsilon=1.5", "--set start_epsilon=1.5: start_epsilon must be between 0 and 1, got 1.5"),
    ("start_epsilon=-0.1", "start_epsilon must be between 0 and 1"),
    ("start_epsilon=nan", "start_epsilon must be between 0 and 1, got nan"),
    ("end_epsilon=2", "end_epsilon must be between 0 and 1"),
    ("exploration_fraction=inf", "exploration_fraction must be between 0 and 1"),
    ("learning_starts=-5", "learning_starts must be >= 0 env steps, got -5"),
    ("learning_starts=0.5", "setting 'learning_starts' must be int, got 0.5"),
    ("start_epsilon=high", "setting 'start_epsilon' must be float"),
    ("epsilon=0.1", "unknown dqn settings ['epsilon']"),
    ("start_epsilon=0.1,0.2", "one value (lobsim train-sweep trains several)"),
    ("start_epsilon", "expected KEY=V1,V2"),
    ("seed=3", "--set seed: use --seed"),
    ("total_steps=10", "--set total_steps: use --steps"),
    ("mode=shared", "--set mode: use --mode"),
])
def test_bad_settings_are_one_line_errors_and_write_nothing(tmp_path, capsys, setting, message):
    scenario = write_scenario(tmp_path / "duel.toml", duration=1.0)
    out = tmp_path / "run"
    assert main(["train", str(scenario), "--steps", "40", "--out", str(out), *FAST, "--set", setting]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert not out.exists()


def test_set_twice_and_set_with_resume_are_refused(tmp_path, capsys):
    scenario = write_scenario(tmp_path / "duel.toml", duration=1.0)
    source = tmp_path / "source"
    assert main(["train", str(scenario), "--steps", "40", "--out", str(source), *FAST]) == 0
    capsys.readouterr()
    twice = ["--set", "start_epsilon=0.1", "--set", "start_epsilon=0.2"]
    assert main(["train", str(scenario), "--out", str(tmp_path / "x"), *FAST, *twice]) == 2
    assert "--set start_epsilon: given twice" in capsys.readouterr().err
    before = (source / "policy.pt").read_bytes()
    assert main(["train", str(scenario), "--resume", str(source), "--steps", "20", *FAST,
                 "--set", "start_epsilon=0.1"]) == 2
    assert "a resumed run keeps its checkpoint's settings" in capsys.readouterr().err
    assert (source / "policy.pt").read_bytes() == before and not (tmp_path / "x").exists()


def test_the_learners_settings_check_holds_dqns_ranges_for_train_sweep_too():
    dqn.LEARNER.check_settings({"start_epsilon": 0.2, "learning_starts": 0}, "--set x")
    with pytest.raises(InputError, match=r"^--set x: start_epsilon must be between 0 and 1, got 1.01$"):
        dqn.LEARNER.check_settings({"start_epsilon": 1.01}, "--set x")


def test_epsilon_decays_from_its_start_over_the_exploration_fraction():
    args = dqn.Args(total_steps=1_000, start_epsilon=0.2, end_epsilon=0.0, exploration_fraction=0.5)
    assert [dqn.epsilon(args, s) for s in (0, 250, 500, 900)] == pytest.approx([0.2, 0.1, 0.0, 0.0])
    flat = dqn.Args(total_steps=1_000, start_epsilon=0.0, end_epsilon=0.0)
    assert dqn.epsilon(flat, 0) == 0.0 == dqn.epsilon(flat, 999)


def test_the_starting_epsilon_changes_the_training(tmp_path):
    """Two runs that differ only in ``start_epsilon`` play and learn differently (the same
    seed twice is byte-identical: test_rl_smoke)."""
    scenario = short_scenario(duration=1.0)
    runs = {}
    for eps in (1.0, 0.0):
        dqn.train(scenario, steps=200, seed=3, out=tmp_path / str(eps), start_epsilon=eps,
                  end_epsilon=0.0, **DQN_FAST)
        runs[eps] = load_checkpoint(tmp_path / str(eps))
    curves = [[row["reward"] for row in runs[e]["progress"]["curve"]] for e in (1.0, 0.0)]
    assert curves[0] != curves[1]
