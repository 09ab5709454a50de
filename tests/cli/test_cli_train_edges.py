"""Training runs a user can trust: Ctrl-C keeps a resumable checkpoint, PPO refuses a
budget below one rollout, and a resumed run's summary agrees with its validations."""

from __future__ import annotations

import json
import os
import signal

import pytest
from support.scenarios import short_scenario, write_scenario

from lobsim.cli import main
from lobsim.cli import train as train_cli
from lobsim.rl.checkpoint import load_checkpoint

PPO = ["--algo", "ppo", "--workers", "0", "--envs", "2", "--no-progress"]  # rollouts of 256 steps


def test_ppo_refuses_steps_below_one_rollout_in_one_line(tmp_path, capsys):
    scenario = write_scenario(tmp_path / "duel.toml", duration=1.0)
    out = tmp_path / "run"
    assert main(["train", str(scenario), "--steps", "255", "--out", str(out), *PPO]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "below one PPO rollout" in err and "256" in err
    assert not out.exists()


def interrupt_at(step: int):
    """A progress callback that presses Ctrl-C once ``step`` env steps are done."""
    sent = []

    def progress(done: int, total: int, running) -> None:
        if done >= step and not sent:
            sent.append(done)
            os.kill(os.getpid(), signal.SIGINT)

    progress.close = lambda: None  # as the CLI's bar has
    return lambda args: progress


def test_ctrl_c_saves_a_resumable_checkpoint_and_says_where(tmp_path, capsys, monkeypatch):
    scenario = write_scenario(tmp_path / "duel.toml", duration=1.0)
    out = tmp_path / "run"
    monkeypatch.setattr(train_cli, "_progress_bar", interrupt_at(600))
    assert main(["train", str(scenario), "--steps", "1024", "--out", str(out), *PPO]) == 130
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert "\n" not in err and "interrupted at env step 512" in err
    assert f"resumable checkpoint to {out}/policy.pt" in err and f"--resume {out} --steps 512" in err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored
    payload = load_checkpoint(out)
    assert payload["progress"]["step"] == 512  # the unfinished third rollout is not counted
    assert all(row["step"] <= 512 for row in payload["progress"]["curve"])
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["interrupted"] is True and summary["total_steps"] == 512
    # and it resumes: the remaining steps, to the budget first asked for
    monkeypatch.undo()
    assert main(["train", str(scenario), "--resume", str(out), "--steps", "512", "--algo", "ppo", "--workers", "0", "--no-progress"]) == 0
    assert "(1,024 in all)" in capsys.readouterr().out
    assert load_checkpoint(out)["progress"]["step"] == 1024


def test_after_resume_the_summary_agrees_with_the_validation_history(tmp_path):
    from agents.rl import dqn

    scenario = short_scenario(duration=0.5)
    fast = {"workers": 0, "num_envs": 2, "validate_every": 20, "validate_from": 0.0,
            "validate_seconds": 1.0}
    first = dqn.train(scenario, steps=40, seed=3, out=tmp_path, **fast)
    assert first["total_steps"] == first["steps"] == 40
    second = dqn.train(scenario, steps=40, resume=tmp_path, workers=0)
    payload = load_checkpoint(tmp_path)
    assert second["steps"] == 40 and second["total_steps"] == payload["progress"]["step"] == 80
    history = second["validation"]["history"]
    steps = [v["step"] for v in history]
    assert steps == sorted(steps) and steps[0] <= 40 < steps[-1] == second["total_steps"]
    best = max(history, key=lambda v: v["score"])
    assert second["validation"]["best_score"] == pytest.approx(best["score"])
    assert second["validation"]["best_step"] in steps
    assert second["episodes"] == len(payload["progress"]["curve"])
    lines = train_cli.format_summary(second)
    assert lines[0].startswith("trained dqn for 40 env steps (80 in all)")
    assert f"best of {len(history)} validations" in lines[1]
