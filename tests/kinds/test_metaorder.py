"""MetaorderTrader: power-law parent lengths, children of one sign at child_rate, long
memory of trade signs; audit and byte-identical reruns."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from support.agent_harness import start_flow, within
from support.flow_harness import run_twice

from agents.metaorder import MetaorderParams, MetaorderTrader, power_law_length
from lobsim.analysis.metrics import autocorrelation


def signs(params, seconds=2000.0, seed=3):
    session, agent = start_flow(MetaorderTrader, "meta", params, seed=seed, quote=None)
    session.run_for(seconds)
    return session, agent, np.array([int(s.side) for s in session.ops("market")])


def test_power_law_lengths_by_inversion():
    u = np.random.default_rng(0).random(200_000)
    lengths = np.array([power_law_length(x, 1.5, 1000) for x in u])
    assert lengths.min() == 1 and lengths.max() == 1000
    for l in (2, 5, 20, 100):
        assert abs(np.mean(lengths >= l) - l ** -1.5) < 5 * np.sqrt(l ** -1.5 / len(u))


def test_children_come_at_child_rate_per_live_parent_and_add_up_to_the_parents():
    params = MetaorderParams(parent_rate=0.5, size_exponent=1.8, max_children=200,
                             child_rate=2.0, child_sizes=(1, 100), child_size_weights=(1.0, 1.0))
    session, agent, s = signs(params, seconds=4000.0)
    mean_length = params.mean_length()
    # parents started at 0.5/s; in the long run the children are parents x mean length
    assert within(len(s) + sum(p[1] for p in agent.parents), 0.5 * 4000 * mean_length, sds=8)
    assert Counter(x.qty for x in session.ops("market")).keys() == {1, 100}
    assert abs(s.mean()) < 0.2  # buy and sell parents equally likely
    assert session.ops("limit") == [] and session.ops("cancel") == []


def test_trade_signs_have_long_memory():
    params = MetaorderParams(parent_rate=0.2, size_exponent=1.5, max_children=5000,
                             child_rate=2.0)
    _, _, s = signs(params, seconds=20_000.0)
    acf = autocorrelation(s.astype(float), [1, 10, 50])
    band = 3 / np.sqrt(len(s))  # a white series' autocorrelation stays within it
    assert acf[0] > 0.4 and acf[1] > max(0.05, band) and acf[2] > band
    assert acf[0] > acf[1] > acf[2]


def test_same_seed_same_orders():
    params = MetaorderParams(parent_rate=1.0, child_rate=3.0)
    a, b, c = (signs(params, 200.0, seed)[2] for seed in (1, 1, 2))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


@pytest.mark.parametrize("field, value", [("size_exponent", 1.0), ("child_rate", 0.0),
                                          ("max_children", 0)])
def test_bad_parameters_are_refused_by_the_scenario_loader(field, value):
    from lobsim.errors import ScenarioError
    from lobsim.scenario import from_dict

    data = {"simulation": {"duration": 1.0},
            "agents": [{"name": "m", "kind": "metaorder", field: value}]}
    with pytest.raises(ScenarioError, match=rf"agents\[0\]\.{field}"):
        from_dict(data, "<t>")


def test_in_a_market_it_passes_the_audit_and_reruns_to_the_same_bytes(tmp_path):
    flow = {"name": "qr", "kind": "queue_reactive", "limit_rates": [3.0, 1.5, 1.0],
            "cancel_rates": [0.3, 0.2, 0.1], "market_rate": 0.5}
    meta = {"name": "meta", "kind": "metaorder", "parent_rate": 0.2, "child_rate": 1.0}
    summary = run_twice(tmp_path, [flow, meta])
    assert summary["agents"]["meta"]["fills"] > 0
