"""The market end to end: determinism, independence of random streams, the audit on
every shipped scenario, and the Santa Fe model's known depth profile."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from support.market_harness import probe, run
from support.scenarios import SCENARIO_DIR, SCENARIOS, shortened

from lobsim import Side
from lobsim.sim.market import Market
from lobsim.scenario.loader import from_dict, load

@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_shipped_scenario_passes_its_audit(path):
    scenario = load(path)
    result = Market(shortened(scenario, 30.0)).run()
    audit = result.summary["audit"]
    assert audit["ok"], audit
    assert audit["orders_checked"] > 0 and result.summary["trades"] > 0


def test_same_seed_same_events_different_seed_different():
    scenario = shortened(load(SCENARIO_DIR / "default.toml"), 20.0)
    first = Market(scenario).run().events
    again = Market(scenario).run().events
    other = Market(scenario.with_seed(scenario.simulation.seed + 1)).run().events
    assert first == again
    assert first != other


def test_adding_an_agent_does_not_change_another_agents_latency_draws():
    script = [(1_000 + 10_000 * i, "limit", (Side.BUY, 9_000 + i, 1), {}) for i in range(50)]
    alone, _ = run(probe("a", script, inbound_ns=1_000, jitter="exponential", jitter_ns=20_000))
    crowd, _ = run(probe("b", script, inbound_ns=1_000, jitter="exponential", jitter_ns=20_000),
                   probe("a", script, inbound_ns=1_000, jitter="exponential", jitter_ns=20_000))
    arrival = lambda m: [t for t, item in next(x for x in m.agents if x.name == "a").received]
    assert arrival(alone) == arrival(crowd)


def test_progress_callback_reaches_the_end_and_changes_nothing():
    scenario = shortened(load(SCENARIO_DIR / "default.toml"), 5.0)
    seen = []
    with_bar = Market(scenario).run(progress=lambda done, total: seen.append((done, total)))
    assert seen[-1][0] == seen[-1][1] and len(seen) == 100
    assert with_bar.events == Market(scenario).run().events


def test_santa_fe_depth_far_from_the_quotes_is_limit_rate_over_cancel_rate():
    """SFGK 2003: away from the spread (but inside the placement window) market orders
    rarely reach, so each price's depth relaxes to alpha / delta shares per price unit:
    here 500 / 1 per price unit = 5 lots per tick of 0.01."""
    data = {"simulation": {"duration": 40.0, "seed": 3},
            "market": {"tick_size": 0.01, "initial_price": 100.0},
            "agents": [{"name": "zi", "kind": "santa_fe", "limit_rate": 500.0, "market_rate": 20.0,
                        "cancel_rate": 1.0, "window": 0.2, "order_size": 1}]}
    market = Market(from_dict(data, "<test>"))
    market.start()
    book = market.exchange.venues["XYZ"].book
    depths = []
    for k in range(10, 80):  # every 0.5 s after 5 s (5 relaxation times)
        market.advance(k * 500_000_000)
        bid, ask = book.bid_price, book.ask_price
        for offset in range(8, 15):  # 8-14 ticks beyond the opposite quote, window is 20
            if ask - offset < bid:
                depths.append(sum(q for _, q in book.queue(Side.BUY, ask - offset)))
            if bid + offset > ask:
                depths.append(sum(q for _, q in book.queue(Side.SELL, bid + offset)))
    assert market.finish().summary["audit"]["ok"]
    mean, stderr = np.mean(depths), np.std(depths) / np.sqrt(len(depths))
    assert abs(mean - 5.0) < max(4 * stderr, 0.25), (mean, stderr)


def test_audit_detects_broken_conservation():
    # The Python engine's state, mutated after the run (for the compiled engine's audit,
    # see test_cmarket.test_both_engines_fail_the_same_audit_the_same_way)
    market = Market(shortened(load(SCENARIO_DIR / "default.toml"), 5.0), engine="python")
    market.run()
    assert market.audit()["ok"]
    order_id = next(iter(market.exchange.orders))
    market.exchange.orders[order_id].submitted += 1  # a lot that appears from nowhere
    audit = market.audit()
    assert not audit["ok"] and audit["orders_not_conserved"] == [order_id]
    market.exchange.orders[order_id].submitted -= 1
    market.ledger.inventory[0] += 1
    audit = market.audit()
    assert not audit["ok"] and audit["inventory_sum"] == 1
