"""The compiled market engine against the Python (SimPy) one: the same scenario and seed
must give the same event log, snapshots, summary and file bytes; and the engine is taken
only where it applies."""

from __future__ import annotations

import dataclasses
import filecmp

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.scenarios import SCENARIO_DIR, shortened

from agents.santa_fe import SantaFeTrader
from lobsim.bench.market import STANDARD
from lobsim.book import PyOrderBook
from lobsim.book.reports import Cancelled
from lobsim.errors import AuditError, InputError, LivelockError, LobsimError
from lobsim.sim.market import Market, compiled_engine_refusal
from lobsim.sim.output import write_run
from lobsim.sim.recorder import EventColumns
from lobsim.scenario.loader import from_dict, load
from support.markets import (LATENCY, SLOW, SLOW_IN, assert_engines_agree,
                             assert_engines_agree_or_stop_alike, avellaneda_stoikov, fixed_spread,
                             poisson, santa_fe, scenario, unchecked)

CASES = {
    "bench standard": from_dict({**STANDARD, "simulation": {**STANDARD["simulation"], "duration": 1.0}},
                                "<bench>"),
    "shipped santa_fe, zero latency": shortened(load(SCENARIO_DIR / "santa_fe.toml"), 20.0),
    "shipped default": shortened(load(SCENARIO_DIR / "default.toml"), 60.0),
    "shipped latency_race": shortened(load(SCENARIO_DIR / "latency_race.toml"), 60.0),
    "shipped competition_sweep": shortened(load(SCENARIO_DIR / "competition_sweep.toml"), 60.0),
    "shipped shock": shortened(load(SCENARIO_DIR / "shock.toml"), 200.0),
    "shipped adverse_selection": shortened(load(SCENARIO_DIR / "adverse_selection.toml"), 60.0),
    # A slow maker moves quotes that were refused on arrival: their ids were never
    # accepted, so the modifies must be refused unknown_id (the compiled engine once left
    # such ids looking like session 0's orders and refused them not_owner).
    "modifies of refused quotes": scenario(
        santa_fe(market_rate=300.0, window=0.05), poisson(market_fraction=0.5),
        fixed_spread(latency=SLOW_IN, skew_per_lot=0.0, max_inventory=2, quote_size=1),
        avellaneda_stoikov(latency=SLOW_IN, max_inventory=2), seed=0, duration=2.0),
    # A schedule of repeated limits, market orders and cancel_all against a fast insider.
    "scripted and informed": scenario(
        santa_fe(), fixed_spread(),
        {"name": "insider", "kind": "informed", "jump_rate": 20.0, "jump": 0.02, "trade_rate": 50.0,
         "edge": 0.01, "order_size": 2, "latency": LATENCY},
        {"name": "script", "kind": "scripted", "latency": LATENCY, "schedule": [
            {"at": 0.1, "type": "limit", "side": "buy", "qty": 2, "price": 99.9, "repeat": 30,
             "every": 0.03},
            {"at": 0.2, "type": "limit", "side": "sell", "qty": 3, "price": 100.1, "repeat": 20,
             "every": 0.05},
            {"at": 0.5, "type": "market", "side": "sell", "qty": 7, "repeat": 5, "every": 0.1},
            {"at": 1.2, "type": "cancel_all"},
            {"at": 1.5, "type": "limit", "side": "buy", "qty": 1, "price": 99.5}]}),
    # Slow makers against fast, aggressive flow: modifies, post-only quotes and modifies
    # refused (would_cross), modifies of filled quotes, both horizon modes, inventory limits.
    "busy makers": scenario(
        santa_fe(market_rate=300.0, window=0.05), poisson(market_fraction=0.5),
        fixed_spread(latency=SLOW, skew_per_lot=0.0),
        fixed_spread("mm_wide", half_spread=3, requote_ticks=2, latency={**LATENCY, "inbound_ns": 5_000}),
        avellaneda_stoikov(latency=SLOW, sigma=0.0),
        avellaneda_stoikov("mm_rolling", horizon_mode="rolling", max_inventory=3),
        market={"maker_fee": -1, "taker_fee": 1}),
    "fees, two of each, uniform and no jitter": scenario(
        santa_fe(count=2, latency={"inbound_ns": 20_000, "outbound_ns": 30_000, "jitter": "uniform",
                                   "jitter_ns": 5_000}),
        poisson(count=2, placement="geometric", offset_p=0.3,
                latency={"inbound_ns": 10_000, "outbound_ns": 10_000, "jitter": "none", "jitter_ns": 0}),
        market={"maker_fee": -1, "taker_fee": 2}),
    # Market orders into an empty side (their rest cancelled), cancels that a slow trader
    # sends after its order was filled (cancel rejects), limit prices below one tick.
    "thin market near zero": scenario(
        santa_fe(limit_rate=400.0, market_rate=100.0, cancel_rate=20.0, window=0.05,
                 latency={**LATENCY, "inbound_ns": 20_000_000, "outbound_ns": 20_000_000,
                          "jitter_ns": 5_000_000}),
        poisson(order_rate=50.0, market_fraction=0.5, cancel_rate=20.0, mean_size=1.0),
        market={"initial_price": 0.03}, duration=3.0),
}


@pytest.mark.parametrize("sc", CASES.values(), ids=CASES.keys())
def test_engines_agree_row_for_row(sc):
    result = assert_engines_agree(sc)
    assert result.summary["audit"]["ok"] and result.summary["trades"] > 0


def test_the_thin_market_case_reaches_the_rare_paths():
    kinds = {(row[2], row[8]) for row in Market(CASES["thin market near zero"]).run().events}
    assert {("cancelled", "unfilled"), ("cancel_rejected", "unknown_id")} <= kinds


def test_the_scripted_case_cancels_what_it_placed():
    events = Market(CASES["scripted and informed"]).run().events
    cancels = [row for row in events if row[3] == "script" and row[2] == "cancel"]
    assert len(cancels) > 5 and all(1_200_000_000 < row[1] < 1_201_000_000 for row in cancels)
    assert any(row[3] == "insider" and row[2] == "market" for row in events)


def test_the_refused_quotes_case_modifies_ids_that_were_never_accepted():
    events = Market(CASES["modifies of refused quotes"]).run().events
    refused = {row[4] for row in events if row[2] == "rejected"}
    assert any((row[2], row[8]) == ("cancel_rejected", "unknown_id") and row[4] in refused
               for row in events)


def test_the_busy_makers_case_reaches_the_makers_paths():
    events = Market(CASES["busy makers"]).run().events
    kinds = {(row[2], row[8]) for row in events}
    assert {("modify", None), ("modified", None), ("rejected", "would_cross"),
            ("cancel_rejected", "would_cross")} <= kinds
    refused = {row[4] for row in events if (row[2], row[8]) == ("cancel_rejected", "unknown_id")}
    assert any(row[2] == "modify" and row[4] in refused for row in events)


def test_a_rate_too_small_to_wait_for_schedules_nothing():
    """A subnormal rate's mean wait is infinite: no event, on either engine (the Python
    engine used to crash converting it to ns; found by the random test below)."""
    tiny = scenario(santa_fe(limit_rate=0.0, market_rate=0.0, cancel_rate=0.0),
                    poisson(order_rate=2.2e-311, cancel_rate=0.0))
    assert assert_engines_agree(tiny).summary["messages"] == 0


# The edges (issue 20): each value is mostly ordinary, sometimes near where int64 ends
# (latencies up to 2**63 - 1 ns, sizes whose cash, fees whose charge may leave int64),
# where an engine used to wrap silently; the engines must then agree or stop alike.
def at_edge(ordinary, extreme):
    """``ordinary`` three times in four, else ``extreme`` (shrinking to ``ordinary``)."""
    return st.integers(0, 3).flatmap(lambda k: extreme if k == 3 else ordinary)


wide_ns = at_edge(st.integers(0, 100_000), st.integers(2**62, 2**63 - 1))
latencies = st.fixed_dictionaries({
    "inbound_ns": wide_ns, "outbound_ns": wide_ns,
    "jitter": st.sampled_from(["none", "exponential", "uniform"]),
    "jitter_ns": at_edge(st.integers(0, 30_000), st.integers(2**60, 2**62))})
fee = at_edge(st.integers(-2, 2), st.integers(2**58, 2**62).map(lambda f: f * (-1) ** (f & 1)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), zi_latency=latencies, noise_latency=latencies,
       limit_rate=st.floats(0.0, 500.0), market_rate=st.floats(0.0, 100.0),
       zi_cancel=st.floats(0.0, 3.0), window=st.floats(0.01, 0.5),
       order_size=at_edge(st.integers(1, 3), st.integers(2**40, 2**61)),
       order_rate=st.floats(0.0, 200.0), market_fraction=st.floats(0.0, 1.0),
       noise_cancel=st.floats(0.0, 3.0), mean_size=at_edge(st.floats(1.0, 4.0), st.floats(1e12, 1e17)),
       max_offset=at_edge(st.integers(0, 10), st.integers(2**61, 2**63 - 2)),
       placement=st.sampled_from(["uniform", "geometric"]), offset_p=st.floats(0.05, 1.0),
       fees=st.tuples(fee, fee),
       insider=st.tuples(st.floats(0.0, 50.0), st.floats(0.01, 0.1), st.floats(0.0, 50.0),
                         st.floats(0.01, 0.05)))
def test_engines_agree_on_random_flows(seed, zi_latency, noise_latency, limit_rate, market_rate,
                                       zi_cancel, window, order_size, order_rate, market_fraction,
                                       noise_cancel, mean_size, max_offset, placement, offset_p, fees,
                                       insider):
    jump_rate, jump, trade_rate, edge = insider
    sc = scenario(
        santa_fe(limit_rate=limit_rate, market_rate=market_rate, cancel_rate=zi_cancel,
                 window=window),
        poisson(order_rate=order_rate, market_fraction=market_fraction, cancel_rate=noise_cancel,
                placement=placement, offset_p=offset_p),
        {"name": "insider", "kind": "informed", "jump_rate": jump_rate, "jump": jump,
         "trade_rate": trade_rate, "edge": edge},
        seed=seed, duration=0.5)
    assert_engines_agree_or_stop_alike(unchecked(
        sc, market={"maker_fee": fees[0], "taker_fee": fees[1]},
        zi={"order_size": order_size, "latency": zi_latency},
        noise={"mean_size": mean_size, "max_offset": max_offset, "latency": noise_latency},
        insider={"latency": noise_latency}))


def test_a_zero_latency_livelock_stops_both_engines_the_same_way():
    """Sends that never let simulated time move (here a schedule of 20,000 at one instant;
    once, a zero-latency maker answering itself: docs/engine-edges.md) stop both engines at
    the same message: the market's rate cap, said as a loop at one instant."""
    zero = {"inbound_ns": 0, "outbound_ns": 0, "jitter": "none", "jitter_ns": 0}
    loop = {"name": "loop", "kind": "scripted", "latency": zero,
            "schedule": [{"at": 0.1, "type": "market", "repeat": 20_000}]}
    sc = scenario(santa_fe(), poisson(), loop, seed=0, duration=0.5)
    errors = []
    for engine in ("python", "twins"):
        with pytest.raises(LivelockError) as stopped:
            Market(sc, engine=engine).run()
        errors.append(str(stopped.value))
    assert errors[0] == errors[1]
    assert errors[0].startswith("agent 'loop' sent 10,001 messages at t=0.100000000 s without")


# Makers need latency here: with none, some draws livelock (as above), and each costs the
# Python engine 10^4 messages before it stops. Sizes and inventories reach the edges too.
maker_latencies = st.fixed_dictionaries({
    "inbound_ns": at_edge(st.integers(1_000, 100_000), st.integers(2**62, 2**63 - 1)),
    "outbound_ns": at_edge(st.integers(1_000, 100_000), st.integers(2**62, 2**63 - 1)),
    "jitter": st.sampled_from(["none", "exponential", "uniform"]), "jitter_ns": st.integers(0, 30_000)})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), latency=maker_latencies,
       half_spread=at_edge(st.integers(1, 4), st.integers(2**61, 2**63 - 1)),
       quote_size=at_edge(st.integers(1, 5), st.integers(2**40, 2**61)),
       requote_ticks=st.integers(1, 3), skew=st.floats(0.0, 5.0),
       max_inventory=at_edge(st.integers(1, 30), st.integers(2**40, 2**62)),
       gamma=st.floats(0.001, 10.0), sigma=st.floats(0.0, 0.5),
       kappa=st.floats(1.0, 500.0), horizon=st.floats(0.05, 5.0),
       mode=st.sampled_from(["cyclic", "rolling"]), interval=st.floats(0.001, 0.2), fees=st.tuples(fee, fee))
def test_engines_agree_on_random_makers(seed, latency, half_spread, quote_size, requote_ticks, skew,
                                        max_inventory, gamma, sigma, kappa, horizon, mode, interval,
                                        fees):
    sc = scenario(
        santa_fe(), poisson(),
        fixed_spread(requote_ticks=requote_ticks, skew_per_lot=skew),
        avellaneda_stoikov(gamma=gamma, sigma=sigma, kappa=kappa, horizon=horizon, horizon_mode=mode,
                           requote_interval=interval),
        seed=seed, duration=0.5)
    sizes = {"quote_size": quote_size, "max_inventory": max_inventory, "latency": latency}
    assert_engines_agree_or_stop_alike(unchecked(
        sc, market={"maker_fee": fees[0], "taker_fee": fees[1]},
        mm_fixed={**sizes, "half_spread": half_spread}, mm_as=sizes))


def test_the_written_run_is_the_same_bytes(tmp_path):
    sc = CASES["fees, two of each, uniform and no jitter"]
    for engine in ("python", "twins"):
        write_run(Market(sc, engine=engine).run(), tmp_path / engine, "")
    names = sorted(p.name for p in (tmp_path / "python").iterdir())
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "python", tmp_path / "twins", names,
                                               shallow=False)
    assert (mismatch, errors) == ([], []) and "events.parquet" in match


def test_progress_reports_the_same_steps_on_both_engines():
    sc = CASES["bench standard"]
    seen = {"python": [], "twins": []}
    results = {engine: Market(sc, engine=engine).run(progress=lambda d, t, e=engine: seen[e].append((d, t)))
               for engine in seen}
    assert seen["python"] == seen["twins"] and len(seen["python"]) == 100
    assert results["python"].events == results["twins"].events


# ---------------------------------------------------------------------- when it runs


def test_auto_takes_the_twins_only_when_every_agent_has_one_else_the_compiled_build():
    flows = Market(CASES["bench standard"])
    flows.run()
    assert flows.ran_on == "twins"
    mixed = Market(shortened(load(SCENARIO_DIR / "mm_duel.toml"), 1.0))
    assert compiled_engine_refusal(mixed) == "agent 'maker_0' (LearnerSeat) has no compiled twin"
    mixed.run()
    assert mixed.ran_on == "compiled"


def test_asking_for_the_compiled_engine_where_it_cannot_run_is_a_clear_error():
    with pytest.raises(InputError, match="the twins cannot run this scenario: agent 'maker_0'"):
        Market(shortened(load(SCENARIO_DIR / "mm_duel.toml"), 1.0), engine="twins").run()
    with pytest.raises(ValueError, match="engine must be one of"):
        Market(CASES["bench standard"], engine="fast")


class TweakedSantaFe(SantaFeTrader):
    """A subclass may change behaviour: it must not inherit the twin."""


@pytest.mark.parametrize("make, reason", [
    (lambda: Market(scenario(santa_fe()), resolve_kind=lambda kind: TweakedSantaFe),
     "agent 'zi' (TweakedSantaFe) has no compiled twin"),
    (lambda: Market(scenario(santa_fe(rate_limit=1000))), "agent 'zi' has a rate limit"),
    (lambda: Market(scenario(santa_fe(feeds=["l1", "l2"]))), "agent 'zi' subscribes to l2"),
])
def test_what_the_twins_refuse_runs_on_the_compiled_build(make, reason):
    market = make()
    assert compiled_engine_refusal(market) == reason
    market.run()
    assert market.ran_on == "compiled"


def test_lobsim_pure_python_keeps_runs_on_simpy(monkeypatch):
    monkeypatch.setenv("LOBSIM_PURE_PYTHON", "1")
    market = Market(CASES["bench standard"])
    assert compiled_engine_refusal(market) == "LOBSIM_PURE_PYTHON is set"


class LeakyBook(PyOrderBook):
    """Reports a lot more than rests for the orders in ``leaks``."""

    leaks: frozenset = frozenset()

    def remaining(self, order_id):
        return super().remaining(order_id) + (order_id in self.leaks)


class ShortBook(PyOrderBook):
    """Reports one lot fewer cancelled than it took out, for orders in ``short``."""

    short: frozenset = frozenset()

    def cancel(self, order_id):
        return [r._replace(qty=r.qty - 1) if type(r) is Cancelled and r.order_id in self.short
                else r for r in super().cancel(order_id)]


def test_both_engines_check_each_order_as_it_leaves_the_book():
    """Orders leave the book unconserved (their cancel under-reported): both engines find
    them then, keep no record of them, and fail the same audit; the records they still
    hold at the end are the book's live orders."""
    cancelled = [row[4] for row in Market(CASES["bench standard"]).run().events
                 if row[2] == "cancelled" and row[8] == "request"]
    audits = {}
    for engine in ("python", "twins"):
        market = Market(CASES["bench standard"], engine=engine)
        market.exchange.venues["XYZ"].book = book = ShortBook()
        book.short = frozenset(cancelled[::3])
        with pytest.raises(AuditError) as failed:
            market.run()
        audits[engine] = failed.value.result.summary["audit"]
        live = market._compiled.live_orders if engine == "twins" else len(market.exchange.orders)
        assert live == len(book)
    assert audits["python"] == audits["twins"]
    assert audits["python"]["orders_not_conserved"] == sorted(cancelled[::3])[:10]


def test_both_engines_fail_the_same_audit_the_same_way():
    """Both audits name the unconserved orders in id order, also for two orders accepted
    in the other order (ids are given at send time, and latencies differ): the audit is
    kept as running totals, not read back from the event log."""
    accepted = [row[4] for row in Market(CASES["bench standard"]).run().events if row[2] == "accepted"]
    first, later = next((a, b) for a, b in zip(accepted, accepted[1:]) if a > b)
    audits = {}
    for engine in ("python", "twins"):
        market = Market(CASES["bench standard"], engine=engine)
        market.exchange.venues["XYZ"].book = book = LeakyBook()
        book.leaks = frozenset({first, later})
        with pytest.raises(AuditError) as failed:
            market.run()
        audits[engine] = failed.value.result.summary["audit"]
    assert audits["python"] == audits["twins"]
    assert audits["twins"]["orders_not_conserved"] == [later, first]
