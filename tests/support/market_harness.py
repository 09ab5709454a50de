"""Small agents and helpers for testing the exchange, gateway and market end to end.

``Probe`` sends what a test tells it to at given times and records everything it
receives, with the time it received it.
"""

from __future__ import annotations

from dataclasses import dataclass

from lobsim.sim.agent import Agent
from lobsim.scenario.config import AgentConfig, LatencyConfig, MarketConfig, Scenario, SimulationConfig
from lobsim.sim.market import Market


@dataclass(frozen=True)
class ProbeParams:
    #: (time_ns, method name, args tuple, kwargs dict) to call on the session
    script: tuple = ()
    feeds: tuple = ()


class Probe(Agent):
    Params = ProbeParams

    def __init__(self, name, params, session):
        super().__init__(name, params, session)
        self.received: list = []
        self.sent_ids: list = []

    def on_start(self):
        for i, _ in enumerate(self.params.script):
            self.session.timer(self.params.script[i][0], i)

    def on_timer(self, tag):
        _, method, args, kwargs = self.params.script[tag]
        result = getattr(self.session, method)(*args, **kwargs)
        if method in ("limit", "market"):
            self.sent_ids.append(result)

    def on_report(self, report):
        self.received.append((self.session.now, report))

    def on_market_data(self, data):
        self.received.append((self.session.now, data))


class PopulationProbe(Probe):
    self_trade_prevention = False


KINDS = {"probe": Probe, "population_probe": PopulationProbe}


def probe(name, script=(), inbound_ns=0, outbound_ns=0, feeds=(), kind="probe", rate_limit=0,
          jitter="none", jitter_ns=0):
    return AgentConfig(name=name, kind=kind, params=ProbeParams(tuple(script)), count=1,
                       latency=LatencyConfig(inbound_ns, outbound_ns, jitter, jitter_ns),
                       feeds=tuple(feeds), rate_limit=rate_limit)


def scenario(*agents, duration=1.0, seed=0, **market):
    return Scenario(SimulationConfig(duration=duration, seed=seed, snapshot_interval=0.1),
                    MarketConfig(**market), tuple(agents))


def run(*agents, **kwargs):
    market = Market(scenario(*agents, **kwargs), resolve_kind=KINDS.__getitem__)
    result = market.run()
    return market, result
