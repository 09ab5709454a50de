"""Calibration from LOBSTER files: estimates recover the parameters of a simulated market
exported to LOBSTER; the Hawkes MLE recovers a known process; `lobsim calibrate` writes a
commented scenario that runs, says what it could not estimate, and refuses bad input."""

from __future__ import annotations

import json
import math
import tomllib

import numpy as np
import pytest
from support.agent_harness import start_flow
from support.flow_harness import write_scenario

from agents.hawkes import HawkesParams, HawkesTrader
from lobsim.data import lobster
from lobsim.analysis import hawkes_fit
from lobsim.analysis.calibration import calibrate, pooled_rates, size_table
from lobsim.analysis.scenario_text import scenario_text
from lobsim.analysis.flow import order_flow
from lobsim.cli import main
from lobsim.scenario import load

TRUE = {"name": "flow", "kind": "queue_reactive", "limit_rates": [2.0, 1.0, 0.5],
        "inside_rate": 0.5, "cancel_rates": [0.5, 0.25, 0.1], "market_rate": 0.0,
        "limit_sizes": [1, 100], "limit_size_weights": [3.0, 1.0], "warm_start": True}
META = {"name": "meta", "kind": "metaorder", "parent_rate": 0.2, "child_rate": 1.0,
        "size_exponent": 1.5, "child_sizes": [5], "child_size_weights": [1.0]}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A 600 s market of known flow, run and exported as LOBSTER files."""
    folder = tmp_path_factory.mktemp("market")
    scenario = write_scenario(folder, [TRUE, META], duration=600.0)
    assert main(["run", str(scenario), "--out", str(folder / "run"), "--no-progress"]) == 0
    messages, book, _ = lobster.export_run(folder / "run", folder / "lobster", 10)
    return messages, book


def test_the_hawkes_fit_recovers_a_known_process():
    params = HawkesParams(limit_rates=(3.0,), inside_rate=0.0, cancel_rates=(0.0,),
                          market_rate=0.0, branching=0.6, decay=5.0)
    session, _ = start_flow(HawkesTrader, "hx", params, seed=9)
    session.run_for(1500)
    times = np.array([s.at for s in session.ops("limit")]) / 1e9
    fit = hawkes_fit.fit(times)
    assert abs(fit.branching - 0.6) < 4 * fit.branching_se + 0.02
    assert abs(fit.decay - 5.0) < 4 * fit.decay_se + 0.2
    assert abs(fit.rate - 6.0) < 0.6
    assert hawkes_fit.fit(times[:10]) is None  # too few events


def test_estimates_recover_the_simulated_flow(exported):
    messages_path, book_path = exported
    messages = lobster.read_messages(messages_path)
    book = lobster.read_orderbook(book_path)
    cal = calibrate(order_flow(messages, book, str(messages_path)), orderbook=book)
    e = cal.estimates
    assert e["tick_size"].value == 0.01 and e["initial_price"].value == pytest.approx(100.0, abs=0.5)
    limit = e["limit_rates"].value
    assert abs(limit[0] - 2.0) < 0.3 and abs(limit[1] - 1.0) < 0.2 and abs(limit[2] - 0.5) < 0.15
    cancel = e["cancel_rates"].value
    assert abs(cancel[0] - 0.5) < 0.15 and abs(cancel[1] - 0.25) < 0.08
    assert abs(e["market_order_rate"].value - 0.2 * 1.0 * _mean_length(1.5)) < 0.15
    flow_table = cal.scenario["agents"][0]
    sizes = dict(zip(flow_table["limit_sizes"], flow_table["limit_size_weights"]))
    assert set(sizes) == {1, 100} and abs(sizes[1] / (sizes[1] + sizes[100]) - 0.75) < 0.05
    assert flow_table["kind"] == "hawkes" and e["branching"].se is not None


def _mean_length(alpha):
    from agents.metaorder import MetaorderParams
    return MetaorderParams(size_exponent=alpha).mean_length()


def test_from_the_message_file_alone_it_says_what_it_could_not_estimate(exported):
    messages_path, _ = exported
    cal = calibrate(order_flow(lobster.read_messages(messages_path)))
    assert "resting depth" in cal.missing and "best quotes" in cal.missing
    assert abs(cal.estimates["limit_rates"].value[0] - 2.0) < 0.5
    text = scenario_text(cal)
    assert "# not estimated" in text or "#   resting depth" in text
    tomllib.loads(text)  # valid TOML


def test_pooled_rates_never_leave_a_sparse_bucket_at_zero():
    rates = pooled_rates(np.array([10.0, 0.0, 1.0, 2.0, 3.0]), np.full(5, 2.0))
    assert rates[0] == 5.0 and np.all(rates[1:] == 6.0 / 8.0)
    assert np.all(pooled_rates(np.zeros(3), np.ones(3)) == 0.0)


def test_size_table_keeps_the_most_frequent_sizes():
    data = np.array([100] * 5 + [1, 2, 2] + list(range(1000, 1200)))
    sizes, weights = size_table(data)
    assert len(sizes) <= 120 and sizes == sorted(sizes) and sum(weights) == len(data)
    assert dict(zip(sizes, weights))[100] == 5.0 and dict(zip(sizes, weights))[2] == 2.0
    mean = sum(s * w for s, w in zip(sizes, weights)) / sum(weights)
    assert abs(mean - data.mean()) < 0.01 * data.mean()  # the rare tail is kept in groups


def test_cli_writes_a_commented_scenario_that_runs(exported, tmp_path, capsys):
    messages_path, book_path = exported
    out = tmp_path / "calibrated.toml"
    assert main(["calibrate", str(messages_path), "--orderbook", str(book_path), "--out",
                 str(out), "--duration", "20"]) == 0
    printed = capsys.readouterr().out
    assert "branching" in printed and "+-" in printed and f"wrote {out}" in printed
    text = out.read_text()
    assert text.startswith("# Calibrated by `lobsim calibrate`") and "  # Hawkes MLE" in text
    scenario = load(out)
    assert scenario.simulation.duration == 20.0
    # a simulated book is all short-lived flow: no resting-depth table is needed
    assert [a.kind for a in scenario.agents] == ["hawkes", "metaorder"]
    assert "resting depth: the short-lived flow already gives the observed depth" in text
    assert main(["run", str(out), "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["audit"]["ok"] and summary["trades"] > 0


def test_cli_json(exported, tmp_path, capsys):
    messages_path, _ = exported
    assert main(["calibrate", str(messages_path), "--out", str(tmp_path / "c.toml"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["estimates"]["decay"]["se"] > 0 and "resting depth" in data["missing"]
    assert data["scenario"]["simulation"]["duration"] == pytest.approx(600.0, abs=1.0)


@pytest.mark.parametrize("content, args, expected", [
    ("34200.1,1,5,10,1000000,1\n34200.2,9,5,10,1000000,1\n", [], ":2: type must be one of 1-7"),
    ("34200.1,1,5,10,1000000,1\n", ["--duration", "nan"], "--duration"),
    ("34200.1,1,5,10,1000000,1\n", ["--duration", "-3"], "--duration"),
    ("", [], "empty file"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, content, args, expected):
    path = tmp_path / "m.csv"
    path.write_text(content)
    out = tmp_path / "s.toml"
    assert main(["calibrate", str(path), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and "\n" not in err and "Traceback" not in err
    assert not out.exists()


def test_a_tiny_file_still_gives_a_runnable_scenario(tmp_path):
    rows = [f"{34200 + i * 0.5:.9f},1,{i + 1},10,{1000000 + (i % 3) * 100 * (1 if i % 2 else -1)},"
            f"{1 if i % 2 else -1}" for i in range(12)]
    rows.append("34206.5,4,2,10,1000100,1")
    path = tmp_path / "m.csv"
    path.write_text("\n".join(rows) + "\n")
    out = tmp_path / "s.toml"
    assert main(["calibrate", str(path), "--out", str(out)]) == 0
    text = out.read_text()
    assert "not estimated" in text and "Hawkes fit" in text
    assert main(["run", str(out), "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    assert not math.isnan(load(out).market.tick_size)
