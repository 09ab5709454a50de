"""Almgren-Chriss: the discrete schedule (TWAP at no risk aversion, front-loaded with it,
no overflow when steep), and the risk aversion rule of lobsim evaluate."""

from __future__ import annotations

import math

import pytest
from support.agent_harness import FakeSession

from agents.almgren_chriss import AlmgrenChrissExecutor, AlmgrenChrissParams, ac_holdings
from agents.execution import ScheduleParams
from agents.twap import TwapExecutor
from lobsim.rl.evaluation import ac_risk_aversion


def test_no_risk_aversion_is_twap():
    ac = AlmgrenChrissExecutor("a", AlmgrenChrissParams(parent_qty=23, slices=7, risk_aversion=0.0),
                               FakeSession())
    twap = TwapExecutor("t", ScheduleParams(parent_qty=23, slices=7), FakeSession())
    assert ac.lots == twap.lots


def test_risk_aversion_front_loads_and_the_holdings_solve_the_discrete_equation():
    h = ac_holdings(10, 100.0, 0.0025, 0.02, 0.01)
    assert h[0] == pytest.approx(1.0) and h[-1] == pytest.approx(0.0, abs=1e-12)
    trades = [a - b for a, b in zip(h, h[1:])]
    assert all(b < a for a, b in zip(trades, trades[1:]))  # strictly decreasing
    # Almgren & Chriss (2000), eq. (16) without permanent impact: x_{j-1} - 2 x_j + x_{j+1}
    # = kappa_tilde^2 tau^2 x_j with kappa_tilde^2 = lambda sigma^2 / eta
    tau, kt2 = 10.0, 0.0025 * 0.02 ** 2 / 0.01
    for j in range(1, 10):
        assert h[j - 1] - 2 * h[j] + h[j + 1] == pytest.approx(kt2 * tau * tau * h[j], rel=1e-9)


def test_a_steep_schedule_neither_overflows_nor_loses_lots():
    h = ac_holdings(50, 1000.0, 1e6, 10.0, 1e-6)
    assert all(math.isfinite(x) for x in h) and h[1] < 1e-6
    agent = AlmgrenChrissExecutor("a", AlmgrenChrissParams(parent_qty=9, slices=50, horizon=1000.0,
                                                           risk_aversion=1e6, sigma=10.0, eta=1e-6),
                                  FakeSession())
    assert agent.lots[0] == 9 and sum(agent.lots) == 9


def test_the_evaluation_rule_gives_the_urgency_asked_for():
    lam = ac_risk_aversion(0.02, 0.01, 100.0, 10, 1.0)
    tau, kt2 = 10.0, lam * 0.02 ** 2 / 0.01
    kappa = math.acosh(1 + kt2 * tau * tau / 2) / tau
    assert kappa * 100.0 == pytest.approx(1.0, rel=1e-3)


def test_a_market_run_executes_the_parent():
    from lobsim.scenario.loader import from_dict
    from lobsim.sim.market import Market

    data = {
        "simulation": {"duration": 40.0, "seed": 4},
        "market": {"tick_size": 0.01, "initial_price": 100.0},
        "agents": [
            {"name": "flow", "kind": "santa_fe", "limit_rate": 50.0, "market_rate": 4.0,
             "cancel_rate": 0.2, "window": 0.2},
            {"name": "exec", "kind": "almgren_chriss", "side": "sell", "parent_qty": 12,
             "start": 5.0, "horizon": 30.0, "slices": 6, "risk_aversion": 0.01},
        ],
    }
    result = Market(from_dict(data, "<test>"), engine="python").run()
    assert result.summary["audit"]["ok"] and result.summary["agents"]["exec"]["inventory"] == -12
