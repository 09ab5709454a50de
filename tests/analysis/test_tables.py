"""The report's summary tables: rounded floats with units, a training summary as a table,
and who drove the learner seats."""

from __future__ import annotations

import re

from lobsim.analysis import tables
from lobsim.analysis.report import render_html

RUN = {"scenario": "scenarios/mm_duel.toml", "seed": 7, "duration_s": 600.0, "messages": 23893,
       "trades": 2339, "volume": 2339,
       "market": {"mean_spread": 0.0210654475, "mid_volatility": 0.008887194282911851,
                  "final_mid": 100.04, "two_sided_fraction": 0.99999991912},
       "agents": {"maker_0": {"pnl": -5.950000001, "inventory": -23, "spread_capture": -6.505,
                              "fills": 1885, "volume": 1885, "fees": 0.0}},
       "learners": {"seats": ["maker_0", "maker_1"], "policy": "runs/dqn", "algo": "dqn"}}
TRAINING = {"algo": "dqn", "steps": 20000, "total_steps": 40000, "seconds": 61.23456,
            "steps_per_second": 326.6123, "episodes": 40, "running_reward": 0.512345678,
            "gradient_steps": 2500, "out": "runs/dqn",
            "validation": {"seeds": [1, 2], "best_step": 40000, "best_score": 0.55123456,
                           "history": [{"step": 20000, "score": 0.4}, {"step": 40000, "score": 0.55123456}],
                           "seconds": 3.2}}

LONG_FLOAT = re.compile(r"\d\.\d{5,}")


def test_run_table_rounds_floats_and_names_units():
    page = tables.run_table(RUN)
    assert not LONG_FLOAT.search(page), LONG_FLOAT.search(page).group(0)
    for shown in ("mean spread (price units)</td><td>0.0211", "mid volatility (price units / sqrt(s))",
                  "volume (lots)</td><td>2,339", "100.00", "PnL (price units)", "<td>-5.95</td>",
                  "inventory (lots)", "<td>1,885</td>"):
        assert shown in page, shown


def test_run_table_says_which_policy_drove_the_learner_seats():
    assert "maker_0, maker_1 driven by the greedy dqn policy of runs/dqn" in tables.run_table(RUN)
    idle = {**RUN, "learners": {"seats": ["maker_0"], "policy": None, "algo": None}}
    assert "maker_0 idle (no --policy)" in tables.run_table(idle)
    assert "learner seats" not in tables.run_table({k: v for k, v in RUN.items() if k != "learners"})


def test_training_report_shows_a_table_not_a_dict():
    page = render_html("t", TRAINING, [], {})
    assert "{'" not in page and "[{" not in page
    assert not LONG_FLOAT.search(page)
    for shown in ("env steps trained (this session)</td><td>20,000", "env steps trained (in all)</td><td>40,000",
                  "wall time (s)</td><td>61", "running reward (mean per seat and episode)</td><td>0.5123",
                  "policy saved: the network of env step</td><td>40,000", "<h3>Validations</h3>",
                  "<td>20,000</td><td>0.4000</td>"):
        assert shown in page, shown


def test_missing_and_odd_values_read_as_n_a_or_text():
    fmt = tables.number(".4f")
    assert fmt(None) == "n/a" and fmt(float("nan")) == "n/a" and fmt("x") == "x" and fmt(True) == "True"
    assert tables.lookup({"a": {"b": 1}}, "a.b") == 1 and tables.lookup({"a": 1}, "a.b") is None
