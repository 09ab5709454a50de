"""``lobsim run``: what it writes, reproducibility to the byte, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lobsim.cli import main

DEFAULT = Path(__file__).resolve().parents[2] / "scenarios" / "default.toml"


def short_scenario(tmp_path: Path, seconds: float = 15.0) -> Path:
    text = DEFAULT.read_text().replace("duration = 300.0", f"duration = {seconds}")
    assert f"duration = {seconds}" in text
    path = tmp_path / "short.toml"
    path.write_text(text)
    return path


def test_run_writes_every_output_and_prints_a_summary(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(short_scenario(tmp_path)), "--out", str(out), "--no-progress"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        ".lobsim", "agents.parquet", "book.parquet", "events.parquet", "scenario.resolved.toml",
        "summary.json"]
    events = pq.read_table(out / "events.parquet")
    for column in ("seq", "time_ns", "kind", "agent", "order_id", "side", "price", "qty"):
        assert column in events.column_names
    meta = events.schema.metadata
    assert meta[b"lobsim.schema_version"] == b"1" and meta[b"lobsim.tick_size"] == b"0.01"
    seq = events.column("seq").to_pylist()
    assert seq == list(range(len(seq)))
    times = events.column("time_ns").to_pylist()
    assert times == sorted(times)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["audit"]["ok"] and summary["messages"] > 0 and summary["trades"] > 0
    assert summary["volume"] > 0 and summary["market"]["mean_spread"] > 0
    assert summary["market"]["mid_volatility"] > 0
    for agent in ("zi", "noise", "mm_fixed", "mm_as"):
        assert set(summary["agents"][agent]) >= {"pnl", "inventory", "spread_capture", "fills"}
    assert events.column("kind").to_pylist().count("fill") == 2 * summary["trades"]
    assert pq.read_table(out / "book.parquet").num_rows > 0
    agents = pq.read_table(out / "agents.parquet")
    assert set(agents.column("agent").to_pylist()) == {"zi", "noise", "mm_fixed", "mm_as"}
    printed = capsys.readouterr().out
    assert "audit ok" in printed and "mm_as" in printed


def test_same_seed_gives_byte_identical_events(tmp_path):
    scenario = short_scenario(tmp_path, 10.0)
    for name, seed in (("a", "4"), ("b", "4"), ("c", "5")):
        assert main(["run", str(scenario), "--seed", seed, "--out", str(tmp_path / name),
                     "--no-progress"]) == 0
    a, b, c = ((tmp_path / n / "events.parquet").read_bytes() for n in "abc")
    assert a == b and a != c
    resolved = (tmp_path / "a" / "scenario.resolved.toml").read_text()
    assert "seed = 4" in resolved


def test_resolved_scenario_runs_again_to_the_same_events(tmp_path):
    scenario = short_scenario(tmp_path, 5.0)
    assert main(["run", str(scenario), "--out", str(tmp_path / "a"), "--no-progress"]) == 0
    resolved = tmp_path / "a" / "scenario.resolved.toml"
    assert main(["run", str(resolved), "--out", str(tmp_path / "b"), "--no-progress"]) == 0
    assert (tmp_path / "a" / "events.parquet").read_bytes() == (tmp_path / "b" / "events.parquet").read_bytes()


@pytest.mark.parametrize("edit, expected", [
    (("cancel_rate = 0.2", "cancel_rate = -1.0"), "agents[0].cancel_rate"),
    (("seed = 1", "seed = 1\nspeed = 3"), "simulation.speed"),
    (("order_rate = 1.0", "order_rate = \"fast\""), "agents[1].order_rate"),
    (("[market]", "[market\n"), "short.toml"),
])
def test_bad_scenario_is_one_line_exit_2_and_writes_nothing(tmp_path, edit, expected):
    path = short_scenario(tmp_path)
    path.write_text(path.read_text().replace(*edit, 1))
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "lobsim", "run", str(path), "--out", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert expected in result.stderr
    assert not out.exists()


def test_missing_scenario_file(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "nope.toml" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_learner_seats_are_idle_without_a_policy_and_trade_with_one(tmp_path, capsys):
    from support.scenarios import write_scenario

    scenario = write_scenario(tmp_path / "duel.toml", duration=3.0)
    train = tmp_path / "train"
    assert main(["train", str(scenario), "--algo", "ppo", "--steps", "256", "--out", str(train),
                 "--workers", "0", "--envs", "2", "--no-progress"]) == 0
    capsys.readouterr()

    def seat_requests(out: Path) -> int:
        events = pq.read_table(out / "events.parquet").to_pydict()
        return sum(agent.startswith("maker_") and kind in ("limit", "market", "cancel", "modify")
                   for agent, kind in zip(events["agent"], events["kind"]))

    assert main(["run", str(scenario), "--out", str(tmp_path / "idle"), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "learner seats maker_0, maker_1 stay idle" in err and "--policy" in err
    assert seat_requests(tmp_path / "idle") == 0

    for out in ("driven", "again"):
        assert main(["run", str(scenario), "--policy", str(train), "--out", str(tmp_path / out),
                     "--no-progress"]) == 0
    assert "stay idle" not in capsys.readouterr().err
    assert seat_requests(tmp_path / "driven") > 0  # an untrained PPO policy still quotes
    summary = json.loads((tmp_path / "driven" / "summary.json").read_text())
    assert summary["audit"]["ok"] and {"maker_0", "maker_1"} <= set(summary["agents"])
    # a greedy policy on the scenario's seed: the same run twice, to the byte
    assert (tmp_path / "driven" / "events.parquet").read_bytes() == \
        (tmp_path / "again" / "events.parquet").read_bytes()


def test_policy_needs_learner_seats_that_fit_it(tmp_path, capsys):
    from support.scenarios import write_scenario

    train = tmp_path / "train"
    scenario = write_scenario(tmp_path / "duel.toml", duration=1.0)
    assert main(["train", str(scenario), "--algo", "ppo", "--steps", "128", "--out", str(train),
                 "--workers", "0", "--envs", "1", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["run", str(short_scenario(tmp_path, 1.0)), "--policy", str(train),
                 "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "has no learner seats" in err and err.count("\n") == 1
    solo = write_scenario(tmp_path / "solo.toml", duration=1.0, count=1)
    assert main(["run", str(solo), "--out", str(tmp_path / "y"), "--no-progress"]) == 0  # idle seat
    capsys.readouterr()
    assert main(["run", str(solo), "--policy", str(train), "--out", str(tmp_path / "y")]) == 2
    err = capsys.readouterr().err
    assert str(train) in err and err.count("\n") == 1
    assert not (tmp_path / "x").exists()
    assert (tmp_path / "y" / "summary.json").exists()  # refused before the previous run is retired


def test_engine_choice_gives_the_same_bytes_and_a_clear_refusal(tmp_path, capsys):
    flows = tmp_path / "flows.toml"
    santa_fe = DEFAULT.parent / "santa_fe.toml"
    flows.write_text(santa_fe.read_text().replace("duration = 600.0", "duration = 10.0"))
    for engine in ("auto", "python"):
        assert main(["run", str(flows), "--engine", engine, "--out", str(tmp_path / engine),
                     "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "engine: twins;" in printed and "engine: python;" in printed
    for name in ("events.parquet", "book.parquet", "agents.parquet", "summary.json"):
        assert (tmp_path / "auto" / name).read_bytes() == (tmp_path / "python" / name).read_bytes()
    duel = tmp_path / "duel.toml"
    duel.write_text((DEFAULT.parent / "mm_duel.toml").read_text())
    assert main(["run", str(duel), "--engine", "twins", "--out", str(tmp_path / "no")]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]  # after the idle-seats notice
    assert error.startswith("lobsim run: ") and "agent 'maker_0' (LearnerSeat) has no compiled twin" in error
    assert not (tmp_path / "no").exists()


def test_a_failed_audit_keeps_the_streamed_run_and_exits_1(tmp_path, monkeypatch, capsys):
    from lobsim.sim.market import Market

    real = Market.audit
    monkeypatch.setattr(Market, "audit", lambda self, totals=None: {**real(self, totals), "ok": False})
    out = tmp_path / "out"
    assert main(["run", str(short_scenario(tmp_path, 5.0)), "--out", str(out), "--no-progress"]) == 1
    summary = json.loads((out / "summary.json").read_text())
    assert not summary["audit"]["ok"] and summary["events"] > 0
    assert pq.ParquetFile(out / "events.parquet").metadata.num_rows == summary["events"]
    assert "AUDIT FAILED" in capsys.readouterr().err
