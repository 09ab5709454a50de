"""HawkesTrader: queue-reactive choices at the points of an exact Hawkes process; bursts
(count variance over mean ~ 1/(1-n)^2), the long-run rate kept; audit and reruns."""

from __future__ import annotations

import math

import numpy as np
from support.agent_harness import start_flow
from support.flow_harness import run_twice

from agents.hawkes import HawkesParams, HawkesTrader
from lobsim.book.orders import Side

BUY = Side.BUY


def arrival_times(branching, seconds=2000.0, seed=5, decay=5.0):
    """Times (s) of limit orders from a Hawkes flow of 5 events/s with no cancels."""
    params = HawkesParams(limit_rates=(2.5,), inside_rate=0.0, cancel_rates=(0.0,),
                          market_rate=0.0, branching=branching, decay=decay)
    session, _ = start_flow(HawkesTrader, "hx", params, seed=seed)
    session.run_for(seconds)
    return np.array([s.at for s in session.ops("limit")]) / 1e9


def fano(times, seconds, window=20.0):
    counts = np.histogram(times, bins=np.arange(0.0, seconds + window, window))[0]
    return counts.var() / counts.mean()


def test_the_long_run_rate_stays_the_queue_reactive_rate():
    for branching in (0.0, 0.6):
        times = arrival_times(branching)
        # 10,000 expected; the count's sd is sqrt(fano * mean), at most ~250 here
        assert abs(len(times) - 10_000) < 5 * math.sqrt(10_000) / (1 - branching)


def test_events_come_in_bursts_as_the_branching_ratio_says():
    poisson, hawkes = arrival_times(0.0), arrival_times(0.6)
    assert 0.7 < fano(poisson, 2000.0) < 1.4
    # counts over windows >> 1/decay: variance / mean -> 1 / (1 - n)^2 = 6.25
    assert 3.5 < fano(hawkes, 2000.0) < 10.0
    gaps_p, gaps_h = np.diff(poisson), np.diff(hawkes)
    assert 0.9 < gaps_p.std() / gaps_p.mean() < 1.1
    assert gaps_h.std() / gaps_h.mean() > 1.4  # bursty: inter-arrival CV above 1


def test_excitement_decays_at_the_decay_rate():
    fast, slow = arrival_times(0.6, decay=50.0), arrival_times(0.6, decay=0.5)
    # the same branching: bursts of the same mean size, shorter with a faster decay
    short = lambda t: float(np.mean(np.diff(t) < 0.02))
    assert short(fast) > short(slow)


def test_same_seed_same_orders():
    assert np.array_equal(arrival_times(0.5, 100.0, seed=2), arrival_times(0.5, 100.0, seed=2))
    assert not np.array_equal(arrival_times(0.5, 100.0, seed=2), arrival_times(0.5, 100.0, seed=3))


def test_in_a_market_it_passes_the_audit_and_reruns_to_the_same_bytes(tmp_path):
    agent = {"name": "hx", "kind": "hawkes", "limit_rates": [3.0, 1.5, 1.0], "inside_rate": 1.0,
             "cancel_rates": [0.6, 0.3, 0.1], "market_rate": 2.0, "branching": 0.8,
             "decay": 20.0, "market_sizes": [1, 5], "market_size_weights": [3.0, 1.0]}
    summary = run_twice(tmp_path, [agent])
    assert summary["agents"]["hx"]["fills"] > 0
