"""A scenario wired into a SimPy environment, run, audited and summarized.

``Market(scenario).run()`` is a pure function of the scenario and its seed: one
``SeedSequence``, a named child stream per agent (``agent/NAME``) and per leg of each agent's
latency (``latency/in/NAME``, ``latency/out/NAME``), ties broken by SimPy's global event order.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from lobsim import registry, seeding
from lobsim.config import Scenario
from lobsim.errors import AuditError
from lobsim.exchange import CANCELLED, FILLED, SUBMITTED, Exchange
from lobsim.gateway import Session
from lobsim.latency import legs
from lobsim.ledger import Ledger
from lobsim.recorder import Recorder
from lobsim.scheduler import Environment, Scheduler
from lobsim.streams import BatchedRandom
from lobsim.timebase import NS_PER_SECOND, seconds_to_ns

def to_price(ticks: int, tick_size: float, halves: bool = False) -> float:
    """Integer ticks (or half-ticks) x lots -> price units x lots, without float dust
    (rounded to 10 decimals, far below any tick size)."""
    return round(ticks * tick_size / (2 if halves else 1), 10)


#: Progress callback: (simulated ns done, simulated ns total).
Progress = Callable[[int, int], None]


@dataclass
class RunResult:
    """What a run produced, in core units; :mod:`lobsim.output` writes it to files."""

    scenario: Scenario
    events: list[tuple]  #: recorder rows, see :mod:`lobsim.recorder`
    book_rows: list[tuple]  #: (time_ns, side, level, price, qty) L2 snapshots
    agent_rows: list[tuple]  #: (time_ns, agent, cash, inventory, pnl2, spread_capture2, fills)
    summary: dict[str, Any] = field(default_factory=dict)


class Market:
    """Builds the exchange, sessions and agents of ``scenario``; :meth:`run` runs it once."""

    def __init__(self, scenario: Scenario, resolve_kind: Callable[[str], type] | None = None) -> None:
        self.scenario = scenario
        resolve = resolve_kind or (lambda kind: registry.load("lobsim.agents", kind))
        self.env = Environment()
        self.scheduler = Scheduler(self.env)
        names = [name for config in scenario.agents for name in config.instance_names()]
        self.recorder = Recorder()
        self.ledger = Ledger(len(names))
        self.exchange = Exchange(self.scheduler, scenario.market, self.ledger, self.recorder)
        root = seeding.root(scenario.simulation.seed)
        self.sessions: list[Session] = []
        self.agents: list[Any] = []
        for config in scenario.agents:
            kind = resolve(config.kind)
            for name in config.instance_names():
                inbound, outbound = legs(config.latency,
                                         seeding.generator(root, f"latency/in/{name}"),
                                         seeding.generator(root, f"latency/out/{name}"))
                session = Session(name, len(self.sessions), self.exchange, self.scheduler,
                                  inbound, outbound,
                                  BatchedRandom(seeding.generator(root, f"agent/{name}")),
                                  self_trade_prevention=kind.self_trade_prevention,
                                  rate_limit=config.rate_limit)
                agent = kind(name, config.params, session)
                session.attach(agent)
                for feed in (config.feeds if config.feeds is not None else kind.feeds):
                    self.exchange.subscribe(session, feed)
                self.sessions.append(session)
                self.agents.append(agent)
        self.duration_ns = seconds_to_ns(scenario.simulation.duration)
        self.snapshot_ns = seconds_to_ns(scenario.simulation.snapshot_interval)
        self.book_rows: list[tuple] = []
        self.agent_rows: list[tuple] = []
        self.mids2: list[int] = []  # twice the mid at each snapshot, ticks

    def run(self, progress: Progress | None = None) -> RunResult:
        """Run the whole scenario once: :meth:`start`, :meth:`advance` to the end,
        :meth:`finish`."""
        self.start()
        steps = 100 if progress is not None else 1
        for i in range(1, steps + 1):
            self.advance(self.duration_ns * i // steps)
            if progress is not None:
                progress(self.env.now, self.duration_ns)
        return self.finish()

    def start(self) -> None:
        """Start every agent (in scenario order) and the snapshot timer, at time 0."""
        for agent in self.agents:
            agent.on_start()
        self.scheduler.call_later(0, self._snapshot)

    def advance(self, until_ns: int) -> None:
        """Process every event before ``until_ns`` (capped at the scenario's end)."""
        until = min(until_ns, self.duration_ns)
        if until > self.env.now:
            self.env.run(until=until)

    @property
    def done(self) -> bool:
        return self.env.now >= self.duration_ns

    def finish(self) -> RunResult:
        """Close the run: final snapshot, agents' ``on_end``, audit, summary. Raises
        :class:`AuditError` (with the result as ``error.result``) if conservation fails."""
        self._snapshot_now()  # the final state, at the end time
        self.exchange.close_statistics()
        for agent in self.agents:
            agent.on_end()
        result = RunResult(self.scenario, self.recorder.rows, self.book_rows, self.agent_rows)
        audit = self.audit()
        result.summary = self.summarize(audit)
        if not audit["ok"]:
            error = AuditError(f"audit failed: {audit}")
            error.result = result  # type: ignore[attr-defined]
            raise error
        return result

    # ------------------------------------------------------------------ snapshots

    def _snapshot(self, _: Any = None) -> None:
        self._snapshot_now()
        self.exchange.publish_depth(self.scenario.market.depth_levels)
        if self.env.now + self.snapshot_ns < self.duration_ns:
            self.scheduler.call_later(self.snapshot_ns, self._snapshot)

    def _snapshot_now(self) -> None:
        now = self.env.now
        venue = self.exchange.venues[self.scenario.market.symbol]
        bids, asks = venue.book.depth(self.scenario.market.depth_levels)
        for side, levels in ((1, bids), (-1, asks)):
            for level, (price, qty) in enumerate(levels):
                self.book_rows.append((now, side, level, price, qty))
        self.mids2.append(venue.mid2)
        ledger = self.ledger
        for session in self.sessions:
            i = session.index
            pnl2 = 2 * ledger.cash[i] + ledger.inventory[i] * venue.mid2
            self.agent_rows.append((now, session.name, ledger.cash[i], ledger.inventory[i], pnl2,
                                    ledger.spread_capture2[i], ledger.fills[i]))

    # ------------------------------------------------------------------ audit and summary

    def audit(self) -> dict[str, Any]:
        """Check conservation: per order, submitted = filled + cancelled + resting; across
        agents, inventories sum to 0 and cash plus exchange fees sums to 0; the books'
        invariants hold; every trade's volume was booked on both sides."""
        bad_orders = []
        for order_id, order in self.exchange.orders.items():
            resting = self.exchange.venues[order[1]].book.remaining(order_id)
            if order[SUBMITTED] != order[FILLED] + order[CANCELLED] + resting:
                bad_orders.append(order_id)
        invariant_error = None
        for venue in self.exchange.venues.values():
            try:
                venue.book.check()
            except Exception as exc:  # noqa: BLE001 - reported in the audit, not raised
                invariant_error = str(exc)
        ledger = self.ledger
        inventory_sum = sum(ledger.inventory)
        cash_sum = sum(ledger.cash) + ledger.fee_income
        traded = sum(v.volume for v in self.exchange.venues.values())
        booked = sum(ledger.volume)
        ok = not bad_orders and invariant_error is None and inventory_sum == 0 and cash_sum == 0 \
            and booked == 2 * traded
        return {"ok": ok, "orders_checked": len(self.exchange.orders),
                "orders_not_conserved": bad_orders[:10], "inventory_sum": inventory_sum,
                "cash_plus_fees_sum": cash_sum, "volume_traded": traded,
                "volume_booked_both_sides": booked, "book_invariants": invariant_error or "ok"}

    def summarize(self, audit: dict[str, Any]) -> dict[str, Any]:
        """The run's headline figures; prices in price units, quantities in lots."""
        tick = self.scenario.market.tick_size
        venue = self.exchange.venues[self.scenario.market.symbol]
        mean_spread = round(venue.spread_ns_sum / venue.two_sided_ns * tick, 10) if venue.two_sided_ns else None
        agents = {}
        for session in self.sessions:
            account = self.ledger.account(session.index)
            agents[session.name] = {
                "pnl": to_price(account.pnl(venue.mid2), tick, halves=True),
                "inventory": account.inventory,
                "spread_capture": to_price(account.spread_capture2, tick, halves=True),
                "fills": account.fills,
                "volume": account.volume,
                "cash": to_price(account.cash, tick),
                "fees": to_price(account.fees, tick),
            }
        return {
            "scenario": self.scenario.source,
            "seed": self.scenario.simulation.seed,
            "duration_s": self.scenario.simulation.duration,
            "messages": self.exchange.messages,
            "events": len(self.recorder.rows),
            "trades": venue.trades,
            "volume": venue.volume,
            "market": {
                "mean_spread": mean_spread,
                "mid_volatility": self._mid_volatility(),
                "final_mid": to_price(venue.mid2, tick, halves=True),
                "two_sided_fraction": venue.two_sided_ns / self.duration_ns if self.duration_ns else 0.0,
            },
            "agents": agents,
            "audit": audit,
        }

    def _mid_volatility(self) -> float | None:
        """Std of mid changes between snapshots, scaled to price units per sqrt(second)."""
        if len(self.mids2) < 3:
            return None
        changes = np.diff(np.asarray(self.mids2, dtype=np.float64) / 2 * self.scenario.market.tick_size)
        return float(np.std(changes) / math.sqrt(self.snapshot_ns / NS_PER_SECOND))
