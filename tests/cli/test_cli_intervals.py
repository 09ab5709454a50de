"""Printers of 95% intervals say ``n/a`` below two values, never a zero-width interval."""

from __future__ import annotations

import math

import numpy as np

from lobsim.analysis import sweep
from lobsim.cli.evaluate import format_report
from lobsim.cli.sweep import format_table
from lobsim.stats import ci95


def test_sweep_confidence_has_no_width_below_two_values():
    mean, half = sweep.confidence(np.array([2.5]))
    assert mean == 2.5 and math.isnan(half)
    mean, half = sweep.confidence(np.array([1.0, 3.0]))
    assert mean == 2.0 and half > 0


def test_sweep_table_says_n_a_for_one_seed_and_a_width_for_two():
    axes = [sweep.parse_set("market.tick_size=0.01,0.05")]
    one = [{"variant": 0, "seed": 1, "market.tick_size": 0.01, "market.mean_spread": 2.0},
           {"variant": 1, "seed": 1, "market.tick_size": 0.05, "market.mean_spread": 3.0}]
    table = format_table(one, axes, ["market.mean_spread"], sweep)
    assert table.count("+- n/a") == 2 and "+- 0" not in table
    two = one + [{**row, "seed": 2, "market.mean_spread": row["market.mean_spread"] + 1} for row in one]
    assert "n/a" not in format_table(two, axes, ["market.mean_spread"], sweep)


def test_evaluate_table_says_n_a_for_one_episode():
    stats = {"reward_mean": 0.5, "reward_ci95": ci95([0.5]), "pnl_mean": 1.0,
             "spread_capture_mean": 0.2, "abs_inventory_mean": 3.0, "fills_mean": 4.0}
    report = {"scenario": "duel.toml", "episodes": 1, "team": False,
              "seats": {"maker_0": {"learner": stats}},
              "paired": {"maker_0": {"fixed_spread": {"diff_mean": 0.1, "diff_ci95": ci95([0.1])}}},
              "market": {"learner": {"mean_spread_mean": 2.0, "mid_volatility_mean": None}}}
    table = format_report(report)
    assert table.count("n/a") >= 3  # the seat's interval, the paired one, the missing volatility
    assert "[0.5000, 0.5000]" not in table
