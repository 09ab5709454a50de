"""Realism: facts on synthetic inputs with known answers, the normalised distances and the
score, and ``lobsim realism`` / ``lobsim report --against`` end to end with bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from support.scenarios import SCENARIO, make_run
from support.lobster_files import DAY_MESSAGES as MESSAGES
from support.lobster_files import DAY_ORDERBOOK as ORDERBOOK
from support.lobster_files import write_rows as write

from lobsim.analysis import realism, realism_targets, samples
from lobsim.analysis.realism_facts import FACTS, Statistic, sign_acf_exponent
from lobsim.analysis.realism_targets import TARGETS, Target, score_verdict, verdict
from lobsim.cli import main
from lobsim.data.rundata import RunData
from lobsim.data.lobster import export_run

NS = 1_000_000_000


def run_data(t=(), bid=None, ask=None, bid_qty=None, ask_qty=None, signs=(), **columns) -> RunData:
    """Run data with the given messages and quotes (default: a fixed 1-tick market) and
    ``signs`` as its taker orders (1 lot each, no impact)."""
    t = np.asarray(t, dtype=np.int64)
    n, k = len(t), len(signs)
    full = lambda x, v: np.full(n, v, dtype=np.float64) if x is None else np.asarray(x, dtype=np.float64)  # noqa: E731
    data = RunData(0.01, int(t[-1]) if n else 0, {}, t, full(bid, 100), full(ask, 101), full(bid_qty, 5),
                   full(ask_qty, 5), np.zeros(k, np.int64), np.asarray(signs, dtype=np.float64), np.ones(k),
                   np.full(k, 100.5), np.full(k, 100.5), np.full(k, 100.5), source="synthetic")
    for name, values in columns.items():
        setattr(data, name, np.asarray(values))
    return data


def facts(data: RunData) -> dict:
    return FACTS.compute(data)


def markov_signs(n: int, persistence: float, seed: int = 1) -> np.ndarray:
    """+-1 signs that repeat the previous one with probability ``persistence``:
    autocorrelation (2p - 1)^lag."""
    flips = np.random.default_rng(seed).random(n) > persistence
    return np.where(np.cumsum(flips) % 2 == 0, 1.0, -1.0)


def test_trade_sign_autocorrelation_of_a_markov_sequence():
    values = facts(run_data(t=[0, NS], signs=markov_signs(50_000, 0.8)))
    assert values["trade-sign ACF lag 1"].value == pytest.approx(0.6, abs=0.02)
    assert values["trade-sign ACF lag 10"].value == pytest.approx(0.6 ** 10, abs=0.02)
    independent = facts(run_data(t=[0, NS], signs=markov_signs(50_000, 0.5)))
    assert abs(independent["trade-sign ACF lag 1"].value) < 0.02


def test_power_law_exponent_of_signs_from_pareto_runs():
    """Runs of one sign with Pareto lengths, P(L > l) ~ l^-1.5, give C(l) ~ l^-0.5."""
    rng = np.random.default_rng(7)
    lengths = np.ceil(rng.pareto(1.5, 40_000) + 1).astype(int)
    signs = np.repeat(rng.choice([-1.0, 1.0], len(lengths)), lengths)[:400_000]
    assert sign_acf_exponent(signs) == pytest.approx(0.5, abs=0.15)
    # memory that dies exponentially fits a much steeper decay, or none at all
    steep = sign_acf_exponent(markov_signs(400_000, 0.8))
    assert math.isnan(steep) or steep > 1.0


def test_inter_arrival_cv_poisson_against_bursty():
    rng = np.random.default_rng(3)
    poisson = np.cumsum(rng.exponential(0.01, 20_000) * NS).astype(np.int64)
    gaps = np.where(rng.random(20_000) < 0.9, rng.exponential(0.001, 20_000), rng.exponential(0.1, 20_000))
    bursty = np.cumsum(gaps * NS + 1).astype(np.int64)
    assert facts(run_data(t=poisson))["event inter-arrival CV"].value == pytest.approx(1.0, abs=0.05)
    assert facts(run_data(t=bursty))["event inter-arrival CV"].value > 2.5


def test_order_flow_imbalance_r2_is_one_when_the_mid_moves_with_the_flow_only():
    """Each event moves the bid one tick up or down with a queue of 5 (OFI +-5, mid +-0.5);
    ask-queue changes that move nothing dilute it."""
    rng = np.random.default_rng(5)
    n = 4000
    bid = 1000 + np.cumsum(rng.choice([-1, 1], n))
    t = np.arange(n, dtype=np.int64) * (NS // 20)  # 20 events a second, 200 s
    pure = facts(run_data(t=t, bid=bid, ask=np.full(n, 2000)))
    assert pure["order-flow imbalance R^2, 1s"].value == pytest.approx(1.0)
    assert pure["order-flow imbalance R^2, 10s"].value == pytest.approx(1.0)
    noisy = facts(run_data(t=t, bid=bid, ask=np.full(n, 2000), ask_qty=rng.integers(1, 30, n)))
    assert 0 < noisy["order-flow imbalance R^2, 1s"].value < 0.9


def test_sizes_cancels_at_the_best_and_lifetimes_by_hand():
    # t(s): 0 new buy 100 @100 (id 1); 1 new buy 30 @99 (id 2); 2 cancel id 1 at the best;
    # 3 cancel id 2 (then the best; the bid side empties); 4 new buy 50 @100 (id 3)
    data = run_data(t=np.arange(5) * NS, bid=[100, 100, 99, np.nan, 100], ask=[101] * 5,
                    signs=[1.0, -1.0], msg_type=[1, 1, 3, 3, 1], msg_id=[1, 2, 1, 2, 3],
                    msg_size=[100, 30, 100, 30, 50], msg_price=[100.0, 99, 100, 99, 100], msg_dir=[1] * 5)
    values = {k: v.value for k, v in facts(data).items()}
    assert values["limit order size mean (lots)"] == pytest.approx(60)
    assert values["limit orders in round lots (100)"] == pytest.approx(1 / 3)
    assert values["cancels at the best per market order"] == 1.0  # 2 cancels at the best, 2 orders
    assert list(samples.lifetimes(data)) == [2.0, 2.0]
    assert list(samples.distance_from_best(data, (1,))) == [1.0]  # ids 1 and 3 have no bid before them


def test_impact_exponent_of_a_square_root_impact():
    sizes = np.repeat([1.0, 4.0, 16.0, 64.0], 10)
    data = run_data(t=[0, NS], signs=np.ones(40))
    data.trade_size, data.impact_after = sizes, data.impact_before + 0.5 * np.sqrt(sizes)
    impact = facts(data)["impact exponent in order size"]
    assert impact.value == pytest.approx(0.5) and impact.n == 40
    data.trade_size = np.ones(40)  # one size only: no slope
    assert facts(data)["impact exponent in order size"].text() == "n/a (n=40)"


def test_too_few_samples_say_too_short_never_a_verdict():
    values = facts(run_data(t=[0, NS], signs=[1.0, -1.0, 1.0]))
    sign = values["trade-sign ACF lag 1"]
    assert not sign.enough and sign.text() == "too short (n=3)" and sign.as_dict()["value"] is None
    c = realism.compare(run_data(t=[0, NS], signs=[1.0] * 3), run_data(t=[0, NS], signs=[1.0] * 3))
    assert {f.agreement for f in c.facts} == {"too short"}
    assert math.isnan(c.score) and c.families == 0
    assert "too short (n=" in realism.format_table(c)


def test_normalised_w1_is_in_real_standard_deviations_on_the_log_scale():
    rng = np.random.default_rng(11)
    real = rng.lognormal(6.0, 1.0, 20_000)  # sizes above the floor of 1 lot
    spec = realism.DISTRIBUTIONS[2]  # limit order size: log10 scale
    assert spec.log
    # ten times larger: the log10 samples move by 1, the real log10 sd is 1 / ln 10
    assert realism.normalised_w1(spec, real, real * 10) == pytest.approx(math.log(10), rel=0.02)
    assert realism.normalised_w1(spec, real, real) == 0
    assert math.isnan(realism.normalised_w1(spec, real, real[:5]))


def test_score_counts_depth_levels_as_one_family():
    rows = [realism.DistanceRow(spec, np.zeros(0), np.zeros(0), w) for spec, w in
            zip(realism.DISTRIBUTIONS, [1.0, 3.0, math.nan, 1.0, 1.0, 1.0, 1.0, 2.0, 4.0, 0.0, 2.0, 2.0])]
    total, families = realism.score(rows)
    assert families == 7 and total == pytest.approx((1 + 3 + 1 + 1 + 1 + 1 + 2) / 7)


# ----------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path, Path]:
    """A run, its own LOBSTER export (messages, order book), and a run of another market."""
    root = tmp_path_factory.mktemp("realism")
    run = make_run(root / "run")
    messages, orderbook, _ = export_run(run, root / "lobster", levels=200)  # every event in the file
    flow = dict(SCENARIO["agents"][0], market_rate=12.0, window=0.05)
    other = make_run(root / "other", {**SCENARIO, "agents": [flow, SCENARIO["agents"][1]]})
    return run, messages, orderbook, other


def test_cli_a_run_against_its_own_export_is_at_distance_zero(runs, capsys):
    run, messages, orderbook, other = runs
    assert main(["realism", str(run), "--against", str(messages), "--orderbook", str(orderbook)]) == 0
    out = capsys.readouterr().out
    assert f"real:      {messages}" in out and f"simulated: {run}" in out
    for name in ("spread", "inter-arrival time", "limit order size", "lifetime to cancel"):
        line = next(x for x in out.splitlines() if x.startswith(name + " "))
        assert line.split()[-1] == "0", line
    assert "trade-sign ACF lag 1" in out and "close" in out
    assert main(["realism", str(other), "--against", str(messages), "--json"]) == 0
    text = capsys.readouterr().out
    assert "NaN" not in text
    report = json.loads(text)
    assert report["score"] > 0.3 and 5 <= report["score_families"] <= 8
    spread = next(d for d in report["distributions"] if d["name"] == "spread")
    assert spread["w1"] > 0.3 and spread["real"]["n"] > 100 and spread["simulated"]["n"] > 100
    assert {f["agreement"] for f in report["facts"]} <= {"close", "far", "too short", "n/a"}
    assert len(report["facts"]) == len(FACTS.facts)


def test_cli_on_a_small_handmade_lobster_file_says_too_short(runs, tmp_path, capsys):
    messages, orderbook = write(tmp_path / "m.csv", MESSAGES), write(tmp_path / "ob.csv", ORDERBOOK)
    assert main(["realism", str(runs[0]), "--against", str(messages), "--orderbook", str(orderbook)]) == 0
    out = capsys.readouterr().out
    assert "too short (n=1)" in out  # one market order in the file
    assert "realism score: n/a" in out


@pytest.mark.parametrize("args, expected", [
    (["realism", "{tmp}/nope", "--against", "{m}"], "nope: no such run directory"),
    (["realism", "{run}", "--against", "{tmp}/missing.csv"], "cannot read"),
    (["realism", "{run}", "--against", "{bad}"], "bad.csv:2: type must be one of 1-7"),
    (["realism", "{run}", "--against", "{m}", "--orderbook", "{short}"], "order-book rows for 7 messages"),
    (["realism", "{run}", "--against", "{m}", "--tick-size", "-1"], "tick size must be a positive number"),
    (["report", "{run}", "--orderbook", "{short}"], "--orderbook needs --against"),
    (["realism", "{run}", "--against", "{m}", "--baseline", "{run}"], "--baseline needs --targets"),
    (["realism", "{run}", "--against", "{m}", "--targets", "--baseline", "{tmp}/nope"],
     "nope: no such run directory"),
    (["report", "{train}", "--against", "{m}"], "a training directory has no market to compare"),
])
def test_bad_input_is_one_line_exit_2(runs, tmp_path, capsys, args, expected):
    names = {"tmp": tmp_path, "run": runs[0], "m": write(tmp_path / "m.csv", MESSAGES),
             "bad": write(tmp_path / "bad.csv", [MESSAGES[0], "34200.5,9,2,5,990200,-1"]),
             "short": write(tmp_path / "short.csv", ORDERBOOK[:3]), "train": tmp_path / "train"}
    names["train"].mkdir()
    write(names["train"] / "learning_curve.csv", ["step,reward", "1,0.5"])
    assert main([a.format(**names) for a in args]) == 2
    captured = capsys.readouterr()
    assert expected in captured.err and captured.err.count("\n") == 1 and not captured.out


def test_report_against_real_data_adds_the_section(runs, capsys):
    run, messages, orderbook, other = runs
    assert main(["report", str(other), "--interval", "1", "--against", str(messages),
                 "--orderbook", str(orderbook)]) == 0
    assert "realism score against" in capsys.readouterr().out
    report = other / "report"
    for stem in ("realism_distributions", "realism_autocorrelation"):
        png = (report / f"{stem}.png").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 20_000, stem
    page = (report / "report.html").read_text()
    assert "Real against simulated" in page and "href='realism_distributions.png'" in page
    saved = json.loads((report / "realism.json").read_text())
    assert saved["real"] == str(messages) and saved["score"] > 0


def test_a_fact_undefined_on_enough_samples_is_n_a_not_too_short():
    no_quotes = run_data(t=np.arange(30) * NS, bid=np.full(30, np.nan), ask=np.full(30, np.nan),
                         signs=np.ones(30), msg_type=np.full(30, 3), msg_id=np.arange(30),
                         msg_size=np.ones(30), msg_price=np.full(30, 100.0), msg_dir=np.ones(30))
    cancels = facts(no_quotes)["cancels at the best per market order"]
    assert cancels.text() == "n/a (n=30)"
    c = realism.compare(no_quotes, no_quotes)
    row = next(f for f in c.facts if f.name == "cancels at the best per market order")
    assert row.agreement == "n/a"


# ----------------------------------------------------------------------- issue 16's targets


def test_facts_of_a_long_regular_flow():
    """A new buy order every 0.5 s, alternately 10 lots at 90 and 100 lots at 91, in a book
    quoted 100 / 102 throughout."""
    n = 400
    data = run_data(t=np.arange(n) * (NS // 2), bid=np.full(n, 100), ask=np.full(n, 102),
                    msg_type=np.ones(n), msg_id=np.arange(n), msg_size=np.where(np.arange(n) % 2, 100, 10),
                    msg_price=90.0 + np.arange(n) % 2, msg_dir=np.ones(n))
    values = facts(data)
    assert values["mean spread (ticks)"].value == 2.0
    assert values["limit order size mean (lots)"].value == 55.0
    assert values["limit order size CV"].value == pytest.approx(45 / 55)
    assert values["event inter-arrival CV"].value == 0.0  # perfectly regular
    assert values["trade-sign ACF lag 1"].text() == "too short (n=0)"


def test_volatility_clustering_band_is_two_over_root_n():
    rng = np.random.default_rng(2)
    t = np.arange(4000, dtype=np.int64) * (NS // 10)  # 400 s
    bid = 1000 + np.cumsum(rng.choice([-1, 1], 4000))
    values = facts(run_data(t=t, bid=bid, ask=bid + 1))
    clustering, band = (values["volatility clustering (ACF |r 1s|, lags 1-10)"],
                        values["volatility clustering above its band 2/sqrt(n)"])
    assert band.n == clustering.n >= 399
    assert band.value == pytest.approx(clustering.value - 2 / math.sqrt(clustering.n))
    assert band.value < 0  # a random walk has no clustering


def stat(value: float, n: int = 1000, min_n: int = 20) -> Statistic:
    return Statistic(value, n, min_n)


def test_target_verdicts_met_not_met_too_short_n_a():
    spread = Target("spread", "mean spread (ticks)")  # the fact's own 30%
    assert verdict(spread, stat(10.0), stat(12.9)) == "met"
    assert verdict(spread, stat(10.0), stat(14.0)) == "not met"
    assert verdict(spread, stat(10.0, n=5), stat(10.0)) == "too short"  # the real side counts
    cancels = Target("cancels", "cancels at the best per market order")  # a factor 2
    assert verdict(cancels, stat(2.0), stat(3.9)) == "met"
    assert verdict(cancels, stat(2.0), stat(4.1)) == "not met"
    arrivals = Target("cv", "event inter-arrival CV", (2.0, math.inf))
    assert verdict(arrivals, stat(3.0), stat(2.0)) == "met"
    assert verdict(arrivals, stat(3.0), stat(1.5)) == "not met"
    assert verdict(arrivals, stat(3.0, n=5), stat(2.5)) == "met"  # bounds ignore the real side
    assert verdict(arrivals, stat(3.0), stat(2.5, n=5)) == "too short"
    assert verdict(arrivals, stat(3.0), stat(math.nan)) == "n/a"
    acf = next(t for t in TARGETS if t.fact == "return ACF lag 1, 1s")
    assert verdict(acf, stat(0.5), stat(-0.1)) == "met" and verdict(acf, stat(0.0), stat(0.15)) == "not met"


def test_score_target_halves_every_baseline_over_the_same_families():
    assert score_verdict((0.5, 8), [(1.0, 8), (1.2, 8)]) == "met"
    assert score_verdict((0.6, 8), [(1.0, 8), (1.2, 8)]) == "not met"
    assert score_verdict((0.1, 8), [(1.0, 7)]) == "n/a"
    assert score_verdict((math.nan, 0), [(1.0, 8)]) == "too short"
    assert score_verdict((0.1, 8), []) == "too short"


def test_cli_targets_against_its_own_export_and_a_baseline(runs, capsys):
    run, messages, orderbook, other = runs
    assert main(["realism", str(run), "--against", str(messages), "--orderbook", str(orderbook),
                 "--targets", "--baseline", str(other), "--json"]) == 0
    rows = {r["target"]: r for r in json.loads(capsys.readouterr().out)["targets"]}
    assert len(rows) == len(TARGETS) + 1
    assert {r["verdict"] for r in rows.values()} <= {"met", "not met", "too short", "n/a"}
    # a run against its own export: the same sizes, and a score of 0 halves any other's
    assert rows["limit order size mean within 30%"]["verdict"] == "met"
    assert rows[realism_targets.SCORE_TARGET]["verdict"] == "met"
    assert main(["realism", str(other), "--against", str(messages), "--targets", "--baseline", str(run)]) == 0
    out = capsys.readouterr().out
    assert "target (issue 16)" in out
    score_line = next(x for x in out.splitlines() if x.startswith(realism_targets.SCORE_TARGET))
    assert " not met " in score_line
