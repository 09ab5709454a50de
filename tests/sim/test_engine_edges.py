"""Both engines at the edges of their range (issue 20, sections 2 and 3): times at the
int64-ns horizon, figures past int64, runaways. Each case ends the same way on both: the
same results, or the same one-line error. docs/engine-edges.md tells each finding.

Values the loader may refuse are put into the configuration after loading (the engines
must still hold them), so these tests keep their meaning whatever the loader bounds.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from support.markets import (LATENCY, forced, assert_engines_agree, avellaneda_stoikov, fixed_spread, poisson,
                          santa_fe, scenario, unchecked)

from agents.scripted import ScheduledOrder
from lobsim.cli import main
from lobsim.errors import LivelockError, RangeError, ResourceError
from lobsim.sim.market import Market, compiled_engine_refusal
from lobsim.book.orders import MAX_PRICE
from lobsim.units import HORIZON_NS

INT64_MAX = (1 << 63) - 1
ENGINES = ("python", "compiled", "twins")


def with_latency(sc, agent, **latency):
    """``sc`` with agent number ``agent``'s latency changed."""
    agents = list(sc.agents)
    agents[agent] = dataclasses.replace(agents[agent], latency=forced(agents[agent].latency, **latency))
    return dataclasses.replace(sc, agents=tuple(agents))


def with_market(sc, **market):
    return dataclasses.replace(sc, market=forced(sc.market, **market))


def script(name, *orders):
    """A scripted agent's table; each order a dict of ScheduledOrder fields."""
    return {"name": name, "kind": "scripted", "latency": LATENCY, "schedule": list(orders)}


def with_schedule(sc, agent, *orders):
    """``sc`` with agent number ``agent``'s (scripted) schedule replaced, unchecked."""
    agents = list(sc.agents)
    params = forced(agents[agent].params, schedule=tuple(forced(ScheduledOrder, **o) for o in orders))
    agents[agent] = dataclasses.replace(agents[agent], params=params)
    return dataclasses.replace(sc, agents=tuple(agents))


def same_error(sc, error=RangeError):
    """Both engines stop ``sc`` with the same ``error``; its message."""
    messages = []
    for engine in ENGINES:
        with pytest.raises(error) as stopped:
            Market(sc, engine=engine).run()
        messages.append(str(stopped.value))
    assert messages[0] == messages[1] and "\n" not in messages[0]
    return messages[0]


# ---------------------------------------------------------------------- times


def test_an_inbound_floor_of_int64_max_never_arrives_on_either_engine():
    """The compiled engine wrapped now + floor and sent 82,518 messages at t=0."""
    sc = with_latency(scenario(santa_fe()), 0, inbound_ns=INT64_MAX)
    assert assert_engines_agree(sc).summary["messages"] == 0


def test_an_outbound_floor_of_int64_max_delivers_nothing_on_either_engine():
    """The compiled engine delivered everything at once and raised a false livelock."""
    sc = with_latency(scenario(santa_fe(), fixed_spread()), 1, outbound_ns=INT64_MAX,
                      jitter="none")
    result = assert_engines_agree(sc)
    sent = [row for row in result.events if row[3] == "mm_fixed" and row[2] == "limit"]
    assert len(sent) == 2  # its first quotes; it never hears of them


def test_exponential_jitter_draws_past_int64_are_cut_not_wrapped():
    """With a mean of 2e18 ns, one draw in ~100 is past int64: the cast made it negative,
    so the message arrived at once; cut at 292 years, it never arrives."""
    sc = with_latency(scenario(santa_fe()), 0, inbound_ns=0, jitter="exponential",
                      jitter_ns=2 * 10**18)
    assert assert_engines_agree(sc).summary["messages"] == 0


def test_a_floor_past_int64_is_held_at_the_horizon_and_never_arrives_on_any_engine():
    sc = with_latency(scenario(santa_fe()), 0, inbound_ns=1 << 64)
    market = Market(sc)
    assert market.sessions[0].inbound.floor_ns == HORIZON_NS
    assert compiled_engine_refusal(market) is None
    assert assert_engines_agree(sc).summary["messages"] == 0


def test_scripted_sends_past_the_horizon_never_come_on_either_engine():
    """``at = 1e12`` s in a 2 s run: the compiled engine sent it at t=0 (a wrapped ns)."""
    sc = with_schedule(scenario(santa_fe(), script("late", {"at": 1.0})), 1,
                       {"at": 1e12, "type": "limit", "price": 100.0},
                       {"at": 1e300, "type": "market"},  # inf ns in Python
                       {"at": 0.5, "type": "market", "repeat": 5, "every": 4e9})  # 1 in the run
    result = assert_engines_agree(sc)
    assert [row[2] for row in result.events if row[3] == "late" and row[2] in ("limit", "market")] \
        == ["market"]


def test_limit_prices_past_the_book_are_not_sent_on_either_engine():
    """Offsets of up to 2**63 - 2 ticks behind the ask: the twin wrapped touch + offset."""
    sc = unchecked(scenario(santa_fe(market_rate=0.0), poisson(market_fraction=0.0)),
                   noise={"max_offset": 2**63 - 2})
    prices = [row[6] for row in assert_engines_agree(sc).events if row[2] == "limit"]
    assert prices and max(prices) < MAX_PRICE


@pytest.mark.parametrize("maker, extreme", [
    (fixed_spread, {"half_spread": 2**63 - 1}),  # quotes at +-9.2e18 ticks
    (avellaneda_stoikov, {"gamma": 5e-324}),  # an infinite spread
    (avellaneda_stoikov, {"horizon": 1e300, "sigma": 0.5}),  # an infinite reservation price
], ids=["fixed_spread half_spread 2**63-1", "AS gamma 5e-324", "AS horizon 1e300"])
def test_makers_quote_nothing_past_the_book_on_either_engine(maker, extreme):
    """The twin raised OverflowError from 4e18 ticks on; Python sent prices up to the
    book's MAX_PRICE (refused there) and crashed on infinities."""
    config = maker()
    sc = unchecked(scenario(santa_fe(), config), **{config["name"]: extreme})
    result = assert_engines_agree(sc)
    assert result.summary["agents"][config["name"]]["fills"] == 0
    assert not [row for row in result.events if row[3] == config["name"] and row[2] == "rejected"]


# ---------------------------------------------------------------------- figures


def crossing(qty, price=100.0, **market):
    """A seller rests ``qty`` lots at ``price``; a buyer takes them at 0.2 s. Sizes and fees
    past the loader's bounds are set after it (:func:`forced`)."""
    sc = scenario(script("seller", {"at": 0.1, "type": "limit", "side": "sell", "qty": 1,
                                    "price": price}),
                  script("buyer", {"at": 0.2, "type": "market", "side": "buy", "qty": 1}))
    sc = with_schedule(sc, 0, {"at": 0.1, "type": "limit", "side": "sell", "qty": qty, "price": price})
    sc = with_schedule(sc, 1, {"at": 0.2, "type": "market", "side": "buy", "qty": qty})
    return with_market(sc, **market)


def test_cash_past_int64_is_the_same_error_on_both_engines():
    """2**61 lots at 100.0: the compiled engine wrapped cash to 0.0 with audit ok."""
    message = same_error(crossing(2**61))
    assert message.startswith("on a fill of 2,305,843,009,213,693,952 lots at 10,000 ticks")
    assert "the cash of agent 'seller'" in message and "int64" in message


@pytest.mark.parametrize("qty, fee, figure", [
    (2, 2**62, "the cash of agent 'buyer'"),
    (2**40, 10**12, "the cash of agent 'buyer'"),
    (3, -(2**62), "the cash of agent 'buyer'"),  # a rebate
])
def test_fees_past_int64_are_the_same_error_on_both_engines(qty, fee, figure):
    """The compiled engine wrapped these and passed the audit in 12 of 13 random cases."""
    assert figure in same_error(crossing(qty, taker_fee=fee))


def test_fee_income_past_int64_names_the_exchange():
    """Every account fits, but the exchange collects from both sides."""
    sc = crossing(1, price=0.01, maker_fee=2**62, taker_fee=2**62)
    assert "the exchange fee income would reach" in same_error(sc)


def test_a_pnl_past_int64_at_a_snapshot_is_the_same_error_on_both_engines():
    """2**60 lots bought at 2 ticks fit every account; once the mid is 10 ticks, twice the
    cash plus the inventory at the mid does not (agents.parquet's pnl2)."""
    sc = scenario(script("seller", {"at": 0.1, "type": "limit", "side": "sell", "qty": 1,
                                    "price": 2.0}),
                  script("buyer", {"at": 0.2, "type": "market", "side": "buy", "qty": 1}),
                  script("quotes", {"at": 0.3, "type": "limit", "side": "buy", "price": 9.0},
                         {"at": 0.3, "type": "limit", "side": "sell", "price": 11.0}),
                  market={"tick_size": 1.0, "initial_price": 2.0})
    sc = with_schedule(sc, 0, {"at": 0.1, "type": "limit", "side": "sell", "qty": 2**60, "price": 2.0})
    sc = with_schedule(sc, 1, {"at": 0.2, "type": "market", "side": "buy", "qty": 2**60})
    assert same_error(sc).startswith("the pnl2 of agent 'seller' would reach "
                                     "-18,446,744,073,709,551,616")


def test_a_fee_past_int64_runs_on_the_compiled_build():
    sc = with_market(crossing(1), maker_fee=1 << 63)
    market = Market(sc)
    assert compiled_engine_refusal(market) == "market.maker_fee does not fit int64"
    with pytest.raises(RangeError, match="the fees of agent 'seller'"):
        market.run()
    assert market.ran_on == "compiled"


def test_lobsim_run_of_a_figure_past_int64_is_one_line_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "huge.toml"
    path.write_text("""[simulation]
duration = 1.0
[market]
tick_size = 0.01
initial_price = 100.0
[[agents]]
name = "seller"
kind = "scripted"
schedule = [{ at = 0.1, type = "limit", side = "sell", qty = 2305843009213693952, price = 100.0 }]
[[agents]]
name = "buyer"
kind = "scripted"
schedule = [{ at = 0.2, type = "market", side = "buy", qty = 2305843009213693952 }]
""")
    for engine in ENGINES:
        out = tmp_path / engine
        assert main(["run", str(path), "--out", str(out), "--engine", engine, "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("lobsim run: error: ") and not out.exists()


# ---------------------------------------------------------------------- runaways


def busy(**market):
    return scenario(santa_fe(limit_rate=2000.0, market_rate=200.0), fixed_spread(),
                    market=market, seed=1)


def test_the_rate_guard_stops_both_engines_at_the_same_message_and_keeps_the_run():
    sc = busy(max_messages_per_ms=2)
    results = {}
    for engine in ENGINES:
        with pytest.raises(LivelockError) as stopped:
            Market(sc, engine=engine).run()
        results[engine] = stopped.value
    python = results["python"]
    for compiled in (results["compiled"], results["twins"]):
        assert str(python) == str(compiled)
        assert python.result.summary == compiled.result.summary
        assert python.result.events == compiled.result.events
        assert python.result.agent_rows == compiled.result.agent_rows
    assert re.match(r"agent '(zi|mm_fixed)' sent 3 messages within the simulated millisecond "
                    r"from t=\d+\.\d{3} s, beyond market.max_messages_per_ms = 2", str(python))
    summary = python.result.summary
    assert summary["stopped"]["reason"] == str(python) and summary["audit"]["ok"]
    assert 0 < summary["stopped"]["at_s"] < sc.simulation.duration


def test_a_loop_at_one_instant_is_said_so_by_the_rate_guard():
    """Twelve sends at one instant, against a cap of ten a millisecond."""
    burst = {**script("burst", {"at": 0.25, "type": "market", "repeat": 12}),
             "latency": {"inbound_ns": 50_000}}
    sc = with_market(scenario(santa_fe(), burst), max_messages_per_ms=10)
    message = same_error(sc, LivelockError)
    assert message.startswith("agent 'burst' sent 11 messages at t=0.250050000 s without "
                              "simulated time moving")


def test_lobsim_run_of_a_runaway_keeps_the_partial_run_and_says_why(tmp_path, capsys):
    text = Path(__file__).resolve().parents[2].joinpath("scenarios", "default.toml").read_text()
    path = tmp_path / "capped.toml"
    path.write_text(text.replace("[market]", "[market]\nmax_messages_per_ms = 1", 1))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "beyond market.max_messages_per_ms = 1" in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stopped"]["at_s"] < summary["duration_s"] and (out / "events.parquet").exists()


def test_the_skewed_maker_no_longer_runs_away_on_either_engine():
    """issue 20's runaway: a skewed fixed_spread maker 10 ns / 1 us from the exchange,
    against Santa Fe flow 1 ms / 50 ms away, chased its own quotes from 100 to 170,000
    ticks in 0.3 s (then ~85,000 messages a simulated microsecond)."""
    slow = {"inbound_ns": 1_000_000, "outbound_ns": 50_000_000, "jitter": "none", "jitter_ns": 0}
    fast = {"inbound_ns": 10, "outbound_ns": 1_000, "jitter": "none", "jitter_ns": 0}
    # window 1.0: one tick of 1.0 (the loader refuses windows that round to 0 ticks)
    sc = scenario(santa_fe(latency=slow, market_rate=200.0, window=1.0),
                  fixed_spread(latency=fast, skew_per_lot=3.3, quote_size=1, half_spread=1,
                               requote_ticks=1, max_inventory=100),
                  market={"tick_size": 1.0, "initial_price": 100.0}, seed=0, duration=2.0)
    summary = assert_engines_agree(sc).summary
    assert summary["messages"] < 5_000 and 50 < summary["market"]["final_mid"] < 200


# ---------------------------------------------------------------------- errors propagate


@pytest.mark.parametrize("engine", ENGINES)
def test_running_out_of_memory_is_one_line(engine, monkeypatch):
    advance = Market.advance

    def exhausted(market, until_ns):
        advance(market, until_ns)
        raise MemoryError("std::bad_alloc")

    monkeypatch.setattr(Market, "advance", exhausted)
    with pytest.raises(ResourceError, match=r"^out of memory at t=2.000000 s of simulated time, "
                                            r"after [\d,]+ messages"):
        Market(scenario(santa_fe()), engine=engine).run()

ROOT = Path(__file__).resolve().parents[2]
#: per compiled source, the noexcept functions that may fail, and why that is right
MAY_FAIL_QUIETLY = {
    "lobsim/sim/_cmarket.pyx": set(), "agents/_cflow.pyx": set(), "agents/_cmaker.pyx": set(),
    # they run while the book is freed (__dealloc__, tp_clear): there is no caller to
    # tell, and an allocation failing there can only leak the references
    "lobsim/book/_cbook.pyx": {"_release_orders", "_release_side"},
}
#: what may fail inside a function: C++ allocation, or any Python object work
CAN_FAIL = re.compile(r"push_back|resize|\.assign\(|insert|emplace|reserve|raise |\bstr\(|"
                      r"\blist\(|\bdict\(|\.append\(")


def noexcept_bodies(path):
    """(name, body) of every ``cdef ... noexcept`` function of ``path``."""
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        match = re.match(r"(\s*)cdef .*?(\w+)\(.*\)\s*noexcept.*:\s*$", line)
        if match:
            indent, body = len(match.group(1)), []
            for inner in lines[i + 1:]:
                if inner.strip() and len(inner) - len(inner.lstrip()) <= indent:
                    break
                body.append(inner)
            yield match.group(2), "\n".join(body)


@pytest.mark.parametrize("source", MAY_FAIL_QUIETLY)
def test_no_compiled_helper_that_can_fail_is_noexcept(source):
    """A ``noexcept`` function's error is printed ("Exception ignored in ...") and the run
    goes on without a queue entry or a log row: one run printed 1.83 M such lines."""
    bodies = dict(noexcept_bodies(ROOT / source))
    assert bodies  # the pattern still finds them
    can_fail = {name for name, body in bodies.items() if CAN_FAIL.search(body)}
    assert can_fail == MAY_FAIL_QUIETLY[source]
