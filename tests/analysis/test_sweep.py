"""``lobsim sweep``: --set parsing and key paths, grid expansion with validation, a small
grid run serially and in a process pool with identical results, the parquet and the plot,
and the same sweep through a local Ray instance when Ray is installed."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lobsim import fanout
from lobsim.analysis import sweep
from lobsim.cli import main
from lobsim.errors import InputError, MissingExtraError, ScenarioError

SCENARIO = """\
[simulation]
duration = 4.0
seed = 7

[market]
tick_size = 0.01
initial_price = 100.0

[[agents]]
name = "flow"
kind = "santa_fe"
limit_rate = 15.0
market_rate = 4.0
cancel_rate = 0.2
window = 0.2
latency = { inbound_ns = 50_000, outbound_ns = 50_000 }

[[agents]]
name = "maker"
kind = "fixed_spread"
count = 2
half_spread = 3
quote_size = 2
latency = { inbound_ns = 20_000, outbound_ns = 20_000 }
"""


@pytest.fixture
def scenario_file(tmp_path) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO)
    return path


def test_parse_set_values_are_toml_literals():
    assert sweep.parse_set("agents.maker.count=1,2,4") == sweep.Axis("agents.maker.count", (1, 2, 4))
    assert sweep.parse_set("market.tick_size = 0.01, 0.05").values == (0.01, 0.05)
    assert sweep.parse_set('x=true,"a b",word').values == (True, "a b", "word")
    # values that hold commas: arrays and quoted strings, read as one TOML array
    assert sweep.parse_set("agents.maker.grid=[1,2],[2,3,5]").values == ([1, 2], [2, 3, 5])
    assert sweep.parse_set('x="a,b", "c"').values == ("a,b", "c")
    for bad in ("agents.maker.count", "=1,2", "k=", "k=1,1"):
        with pytest.raises(InputError, match="--set"):
            sweep.parse_set(bad)


def test_set_path_by_table_name_index_and_nested_key():
    data = {"market": {}, "agents": [{"name": "flow"}, {"name": "maker", "count": 1}]}
    sweep.set_path(data, "agents.maker.count", 4)
    sweep.set_path(data, "agents.0.window", 0.3)
    sweep.set_path(data, "market.tick_size", 0.05)
    sweep.set_path(data, "agents.maker.latency.inbound_ns", 10)
    assert data == {"market": {"tick_size": 0.05},
                    "agents": [{"name": "flow", "window": 0.3},
                               {"name": "maker", "count": 4, "latency": {"inbound_ns": 10}}]}
    with pytest.raises(InputError, match="no \\[\\[agents\\]\\] table named 'mm'.*names: flow, maker"):
        sweep.set_path(data, "agents.mm.count", 2)
    with pytest.raises(InputError, match="market.tick_size is not a table"):
        sweep.set_path(data, "market.tick_size.x", 2)


def test_expand_is_a_validated_grid(scenario_file):
    import tomllib

    data = tomllib.loads(SCENARIO)
    axes = [sweep.parse_set("agents.maker.count=1,2"), sweep.parse_set("market.tick_size=0.01,0.05")]
    variants = sweep.expand(data, axes, "s.toml")
    assert [v.values for v in variants] == [
        {"agents.maker.count": 1, "market.tick_size": 0.01}, {"agents.maker.count": 1, "market.tick_size": 0.05},
        {"agents.maker.count": 2, "market.tick_size": 0.01}, {"agents.maker.count": 2, "market.tick_size": 0.05}]
    assert data["agents"][1]["count"] == 2  # the original is untouched
    with pytest.raises(ScenarioError, match="market.tick_size: expected a number >= 1e-08 and <= 1e\\+06, got -1"):
        sweep.expand(data, [sweep.parse_set("market.tick_size=0.01,-1")], "s.toml")
    with pytest.raises(ScenarioError, match="agents\\[1\\].half_spred: unknown key"):
        sweep.expand(data, [sweep.parse_set("agents.maker.half_spred=1")], "s.toml")


def test_small_grid_serial_equals_process_pool(scenario_file, tmp_path):
    axes = [sweep.parse_set("agents.maker.count=2,3")]
    seen = []
    serial = sweep.run_sweep(scenario_file, axes, seeds=2, workers=1, progress=lambda d, t: seen.append((d, t)))
    pooled = sweep.run_sweep(scenario_file, axes, seeds=2, workers=2)
    assert seen[-1] == (4, 4)
    assert serial == pooled
    assert [(r["variant"], r["seed"], r["agents.maker.count"]) for r in serial] == [
        (0, 7, 2), (0, 8, 2), (1, 7, 3), (1, 8, 3)]
    assert serial[0]["group.maker.pnl_mean"] == pytest.approx(
        (serial[0]["agents.maker_0.pnl"] + serial[0]["agents.maker_1.pnl"]) / 2)
    row = serial[2]
    pnls = [row[f"agents.maker_{i}.pnl"] for i in range(3)]
    assert row["group.maker.pnl_sum"] == pytest.approx(sum(pnls))
    assert serial[0]["audit.ok"] is True and serial[0] != serial[1]  # seeds differ
    written = sweep.write_sweep(serial, axes, tmp_path / "out")
    assert [p.name for p in written] == ["sweep.parquet", "sweep.png"]
    table = pq.read_table(tmp_path / "out" / "sweep.parquet")
    assert table.num_rows == 4 and table.to_pylist() == [{k: r.get(k) for k in table.column_names} for r in serial]
    assert (tmp_path / "out" / "sweep.png").stat().st_size > 5000
    with pytest.raises(InputError, match="--metric 'nope': no such column"):
        sweep.write_sweep(serial, axes, tmp_path / "out2", ["nope"])


def test_cli_sweep(scenario_file, tmp_path, capsys):
    out = tmp_path / "sw"
    assert main(["sweep", str(scenario_file), "--set", "agents.maker.count=2,3", "--seeds", "2",
                 "--out", str(out), "--no-progress", "--metric", "market.mean_spread"]) == 0
    text = capsys.readouterr().out
    assert "agents.maker.count" in text and "market.mean_spread" in text and "sweep.png" in text
    assert pq.read_table(out / "sweep.parquet").num_rows == 4
    assert main(["sweep", str(scenario_file), "--set", "agents.nobody.count=1", "--out", str(out)]) == 2
    assert "no [[agents]] table named 'nobody'" in capsys.readouterr().err
    assert main(["sweep", str(scenario_file), "--set", "agents.maker.count=1", "--seeds", "0"]) == 2
    assert "--seeds must be from 1 to 10,000, got 0" in capsys.readouterr().err


def test_missing_ray_and_unreachable_address(scenario_file, monkeypatch, capsys):
    axes = [sweep.parse_set("agents.maker.count=2")]
    with pytest.raises(InputError, match="cannot reach Ray at 127.0.0.1:1"):
        fanout.check_reachable("127.0.0.1:1")
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MissingExtraError, match=r"pip install lobsim\[ray\]"):
        sweep.run_sweep(scenario_file, axes, seeds=1, address="127.0.0.1:1")
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:1")
    assert main(["sweep", str(scenario_file), "--set", "agents.maker.count=1", "--no-plot"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lobsim[ray]" in err


def test_same_sweep_through_a_local_ray_instance(scenario_file):
    # ray is in the dev extra, so the test suite always has it
    axes = [sweep.parse_set("agents.maker.count=2,3")]
    local = sweep.run_sweep(scenario_file, axes, seeds=2, workers=1)
    assert sweep.run_sweep(scenario_file, axes, seeds=2, address="local") == local


def test_a_failing_run_stops_the_sweep_with_one_line_naming_it(scenario_file, monkeypatch):
    from lobsim.errors import LivelockError
    from lobsim.sim.market import Market

    def stuck(self, progress=None):
        raise LivelockError("agent 'x' sent 100,001 messages at t=1.0 s")

    monkeypatch.setattr(Market, "run", stuck)
    axes = [sweep.parse_set("agents.maker.count=2,3")]
    with pytest.raises(LivelockError, match=r"\{'agents.maker.count': 2\}, seed 7: agent 'x'"):
        sweep.run_sweep(scenario_file, axes, seeds=2, workers=1)


@pytest.mark.parametrize(("option", "message"), [
    (["--seeds", "100000000"], "--seeds must be from 1 to 10,000, got 100000000"),
    (["--workers", "-1"], "--workers must be from 1 to 256, got -1"),
    (["--set", "agents.flow.cancel_rate=" + ",".join(str(i / 1000) for i in range(400)),
      "--set", "agents.flow.market_rate=" + ",".join(str(i) for i in range(400))],
     "--set: 160,000 variants; at most 100,000 are allowed"),
])
def test_out_of_range_sweep_options_are_one_line_before_any_run(scenario_file, capsys, option, message):
    assert main(["sweep", str(scenario_file), "--set", "agents.maker.count=2", *option,
                 "--no-plot", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


@pytest.mark.parametrize("workers", [1, 2])
def test_a_run_that_crashes_in_a_worker_is_one_line_naming_it(scenario_file, monkeypatch, capsys,
                                                               workers):
    from lobsim.sim.market import Market

    def crash(self, progress=None):
        raise OverflowError("Python int too large to convert to C long")

    monkeypatch.setattr(Market, "run", crash)  # fork: the pool's workers inherit it
    assert main(["sweep", str(scenario_file), "--set", "agents.maker.count=2,3",
                 "--workers", str(workers), "--no-plot", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "seed 7: the run failed: OverflowError: Python int too large" in err


def test_a_bad_rerun_leaves_the_previous_sweep_and_a_good_one_replaces_it(scenario_file, tmp_path, capsys):
    out = tmp_path / "sw"
    args = ["sweep", str(scenario_file), "--set", "agents.maker.count=2", "--out", str(out),
            "--no-plot", "--no-progress", "--workers", "1"]
    assert main(args) == 0
    (out / "notes.png").write_text("an old plot")
    assert main([*args, "--set", "agents.maker.half_spread=0"]) == 2  # refused before anything moves
    assert (out / "notes.png").exists() and (out / "sweep.parquet").exists()
    assert main(args) == 0
    assert sorted(p.name for p in out.iterdir()) == [".lobsim", "sweep.parquet"]
    capsys.readouterr()
