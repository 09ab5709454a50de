"""A scenario wired into a SimPy environment, run, audited and summarized.

``Market(scenario).run()`` is a pure function of the scenario and its seed: one
``SeedSequence``, a named child stream per agent (``agent/NAME``) and per leg of each agent's
latency (``latency/in/NAME``, ``latency/out/NAME``), ties broken by SimPy's global event order.

Engines, with byte-identical results (docs/market.md):

* ``"compiled"``: the engine's modules compiled by Cython from their Python source
  (:mod:`lobsim.sim.build`); runs every scenario, learners and a user's own agents too;
* ``"python"``: the same source interpreted, on SimPy's queue: the reference;
* ``"twins"``: the older compiled engine (``lobsim/sim/_cmarket.pyx``), which restates the
  engine and the scripted kinds by hand; faster, for markets whose agents all have
  twins (:func:`compiled_engine_refusal` gives the rules), and on its way out.

``engine="auto"`` (the default) takes the twins for a whole :meth:`Market.run` when they
can run it, else the compiled build, else (nothing compiled: no C compiler at install, or
``LOBSIM_PURE_PYTHON`` set) the interpreted one, saying so once. A market stepped with
``start``/``advance`` never runs on the twins unless asked (see :meth:`Market.start`).
After a run on the twins, read the :class:`RunResult`: the Python agents and exchange
were blueprints and did not run.
"""

from __future__ import annotations

import importlib
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lobsim import registry, seeding
from lobsim.sim import build
from lobsim.scenario.config import Scenario
from lobsim.errors import AuditError, InputError, LivelockError, ResourceError
from lobsim.sim.exchange import Venue
from lobsim.sim.ledger import INT64_MAX, INT64_MIN, Ledger, in_range
from lobsim.sim.recorder import EventColumns, MemorySink, Samples, Sink
from lobsim.units import HORIZON_NS, NS_PER_SECOND, seconds_to_ns, ticks_to_price

if TYPE_CHECKING:
    from lobsim.sim.gateway import Session

#: Progress callback: (simulated ns done, simulated ns total).
Progress = Callable[[int, int], None]


#: Which engine runs a market; see the module docstring.
ENGINES = ("auto", "python", "compiled", "twins")


@dataclass
class RunResult:
    """What a run produced, in core units. With the default :class:`MemorySink` it holds
    every row (and :func:`lobsim.sim.output.write_run` writes them to files); a run that
    streamed its rows to another sink holds only the summary (``event_log`` None, no rows)."""

    scenario: Scenario
    #: the event log, as the recorder's columns
    event_log: EventColumns | None
    book_rows: list[tuple]  #: (time_ns, side, level, price, qty) L2 snapshots
    agent_rows: list[tuple]  #: (time_ns, agent, cash, inventory, pnl2, spread_capture2, fills)
    summary: dict[str, Any] = field(default_factory=dict)
    _rows: list[tuple] | None = field(default=None, repr=False, compare=False)

    @property
    def events(self) -> list[tuple]:
        """The event log as row tuples (see :mod:`lobsim.sim.recorder`), whichever engine
        ran; built once from the columns (which :mod:`lobsim.sim.output` keeps writing from)."""
        if self.event_log is None:
            raise RuntimeError("this run streamed its events to its sink; run it with a "
                               "MemorySink to read them in memory")
        if self._rows is None:
            self._rows = self.event_log.rows()
        return self._rows


@dataclass
class Totals:
    """What the audit and the summary read at the end of a run, from either engine."""

    venue: Venue
    ledger: Ledger
    messages: int  #: requests that reached the exchange
    events: int  #: rows of the event log
    orders_checked: int  #: accepted orders (those that left the book, checked then, and the live ones)
    orders_not_conserved: list  #: their ids, ascending, where submitted != filled + cancelled + resting


def compiled_engine_refusal(market: Market) -> str | None:
    """Why the twins cannot run ``market`` (not started), or None if they can.

    Its rules: every agent's class declares (itself, not by inheritance: a subclass may
    change what it does) a compiled twin in ``compiled``, as ``"module:Class"``; no agent
    has a rate limit or subscribes to the trades or l2 feed; the extensions are built and
    ``LOBSIM_PURE_PYTHON`` is not set; every fee and cap fits its int64 (a latency floor
    past :data:`HORIZON_NS` is held at it: ``lobsim.sim.latency.Leg``)."""
    if build.pure_python_requested():
        return "LOBSIM_PURE_PYTHON is set"
    config = market.scenario.market
    for key in ("maker_fee", "taker_fee", "max_messages_per_ms"):
        if not INT64_MIN <= getattr(config, key) <= INT64_MAX:
            return f"market.{key} does not fit int64"
    for agent, session in zip(market.agents, market.sessions):
        if not type(agent).__dict__.get("compiled"):
            return f"agent {session.name!r} ({type(agent).__name__}) has no compiled twin"
        if session.rate_limit:
            return f"agent {session.name!r} has a rate limit"
    for feed in ("trades", "l2"):
        if market.exchange.subscribers[feed]:
            return f"agent {market.exchange.subscribers[feed][0].name!r} subscribes to {feed}"
    try:
        importlib.import_module("lobsim.sim._cmarket")
    except ImportError:
        return "the twins are not built"
    return None


def engine_build(engine: str) -> build.Build:
    """The build of the engine's modules that ``engine`` runs on (the twins take theirs
    as blueprints); :class:`InputError` for ``"compiled"`` when it is not built, and a
    warning when ``"auto"`` must run interpreted for that reason."""
    built = build.compiled_is_built()
    if engine == "compiled" and not built:
        raise InputError("the compiled engine is not built (no C compiler when lobsim was "
                         "installed?); use --engine python")
    if engine == "python" or (engine == "auto" and (build.pure_python_requested() or not built)):
        if engine == "auto" and not build.pure_python_requested():
            warnings.warn("lobsim's compiled engine is not built (no C compiler when lobsim "
                          "was installed?); running the interpreted one, with the same results",
                          RuntimeWarning, stacklevel=3)
        return build.interpreted()
    return build.compiled()


def _twin(agent: Any) -> Any:
    """The compiled twin of ``agent``, built from it."""
    module, name = type(agent).compiled.split(":")
    return getattr(importlib.import_module(module), name)(agent)


class Market:
    """Builds the exchange, sessions and agents of ``scenario``; :meth:`run` runs it once."""

    def __init__(self, scenario: Scenario, resolve_kind: Callable[[str], type] | None = None,
                 engine: str = "auto", sink: Sink | None = None) -> None:
        """``sink``: where the run's rows go as it runs (see :mod:`lobsim.sim.recorder`); by
        default a :class:`MemorySink`, whose rows the :class:`RunResult` holds."""
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
        self.scenario = scenario
        self.engine = engine
        self.ran_on: str | None = None  #: the engine that ran (or runs) it (see ENGINES)
        self._compiled: Any = None  # the twins' engine, when it runs this market
        self._compiled_totals: Totals | None = None
        resolve = resolve_kind or (lambda kind: registry.load("lobsim.agents", kind))
        self.build = core = engine_build(engine)
        self.scheduler = core.Scheduler()
        self.env = self.scheduler.env  #: SimPy's environment: processes may run beside agents
        names = [name for config in scenario.agents for name in config.instance_names()]
        self.sink: Sink = sink if sink is not None else MemorySink()
        self.recorder = core.Recorder(names, self.sink)
        self.ledger = core.Ledger(len(names), names)
        self.exchange = core.Exchange(self.scheduler, scenario.market, self.ledger, self.recorder)
        root = seeding.root(scenario.simulation.seed)
        self.sessions: list[Session] = []
        self.agents: list[Any] = []
        for config in scenario.agents:
            kind = core.kind(resolve(config.kind))
            for name in config.instance_names():
                inbound, outbound = core.legs(config.latency,
                                         seeding.generator(root, f"latency/in/{name}"),
                                         seeding.generator(root, f"latency/out/{name}"))
                session = core.Session(name, len(self.sessions), self.exchange, self.scheduler,
                                       inbound, outbound,
                                       core.BatchedRandom(seeding.generator(root, f"agent/{name}")),
                                       self_trade_prevention=kind.self_trade_prevention,
                                       rate_limit=config.rate_limit, seed_root=root)
                agent = kind(name, config.params, session)
                session.attach(agent)
                for feed in (config.feeds if config.feeds is not None else kind.feeds):
                    self.exchange.subscribe(session, feed)
                self.sessions.append(session)
                self.agents.append(agent)
        self.duration_ns = seconds_to_ns(scenario.simulation.duration)
        self.snapshot_ns = seconds_to_ns(scenario.simulation.snapshot_interval)
        if not (0 < self.snapshot_ns and self.duration_ns <= HORIZON_NS):
            raise InputError(f"{scenario.source}: simulation.duration and snapshot_interval "
                             "must be at least 1 ns and at most the int64-ns horizon (292 years)")
        self.samples = Samples(self.sink)  # book and agent rows, mid changes

    def run(self, progress: Progress | None = None) -> RunResult:
        """Run the whole scenario once: :meth:`start`, :meth:`advance` to the end (in 100
        steps with a progress callback), :meth:`finish`. A runaway stops it with a
        :class:`LivelockError` whose ``result`` is the run up to the stop (:meth:`stopped`);
        running out of memory, with a :class:`ResourceError`."""
        self.start(prefer_compiled=True)
        steps = 100 if progress is not None else 1
        try:
            for i in range(1, steps + 1):
                self.advance(self.duration_ns * i // steps)
                if progress is not None:
                    progress(self.now, self.duration_ns)
        except LivelockError as error:
            error.result = self.stopped(str(error))  # type: ignore[attr-defined]
            raise
        except MemoryError:  # from either engine (the compiled one's allocations propagate)
            sent = (self._compiled or self.exchange).messages
            raise ResourceError(f"out of memory at t={self.now / NS_PER_SECOND:.6f} s of "
                                f"simulated time, after {sent:,} messages; run a shorter or "
                                "smaller market") from None
        return self.finish()

    def stopped(self, reason: str) -> RunResult:
        """:meth:`finish` a run stopped early (at :attr:`now`), for diagnosis: its summary
        says when and why under ``"stopped"``, and its audit whether it still conserves."""
        try:
            result = self.finish()
        except AuditError as failed:
            result = failed.result  # type: ignore[attr-defined]
        result.summary["stopped"] = {"at_s": self.now / NS_PER_SECOND, "reason": reason}
        return result

    def start(self, prefer_compiled: bool = False) -> None:
        """Start every agent (in scenario order) and the snapshot timer, at time 0.

        Which engine: ``engine="twins"`` takes the twins (:class:`InputError` if they
        cannot run this market). With ``"auto"``, a caller that steps the market
        (:meth:`advance`) gets the build chosen at construction unless it passes
        ``prefer_compiled``: the twins keep only the ledger, the venue's figures and the
        book up to date as they go, while the Python objects (agents, sessions,
        ``exchange.orders``, ``recorder``) do not run at all, and a caller who reads them
        mid-run would see them frozen. :meth:`run` prefers them, and ``lobsim evaluate``
        does for its baselines, which read only the ledger."""
        if self.engine == "twins" or (self.engine == "auto" and prefer_compiled
                                      and self.build.name == "compiled"):
            refusal = compiled_engine_refusal(self)
            if refusal is None:
                from lobsim.sim._cmarket import Engine

                self._compiled = Engine(self, [_twin(agent) for agent in self.agents])
                self.ran_on = "twins"
                self._compiled.start()
                return
            if self.engine == "twins":
                raise InputError(f"the twins cannot run this scenario: {refusal}")
        self.ran_on = self.build.name
        for agent in self.agents:
            agent.on_start()
        self.scheduler.call_later(0, self._snapshot)

    @property
    def now(self) -> int:
        """Simulated time, ns, on either engine."""
        return self._compiled.now if self._compiled is not None else self.env.now

    def advance(self, until_ns: int) -> None:
        """Process every event before ``until_ns`` (capped at the scenario's end). On the
        twins, ``ledger`` and the venue's figures (``mid2``, ``l1``, trades,
        volume, spread statistics) are brought up to date after it."""
        until = min(until_ns, self.duration_ns)
        if until <= self.now:
            return
        if self._compiled is None:
            self.scheduler.run_until(until)
        else:
            self._compiled.advance(until)
            self._copy_compiled_state()

    @property
    def done(self) -> bool:
        return self.now >= self.duration_ns

    def finish(self) -> RunResult:
        """Close the run: final snapshot, agents' ``on_end``, audit, summary. Raises
        :class:`AuditError` (with the result as ``error.result``) if conservation fails."""
        if self._compiled is not None:
            return self._finish_compiled()
        self._snapshot_now()  # the final state, at the end time
        self.exchange.close_statistics()
        for agent in self.agents:
            agent.on_end()
        self.recorder.flush()
        self.samples.flush()
        return self._result(self.totals())

    def _copy_compiled_state(self) -> None:
        """The twins' ledger and venue figures into ``ledger`` and the venue."""
        engine = self._compiled
        venue = self.exchange.venues[self.scenario.market.symbol]
        venue.l1, venue.l1_since_ns = engine.l1_state
        venue.mid2, venue.trades, venue.volume = engine.mid2, engine.trades, engine.volume
        venue.spread_ns_sum, venue.two_sided_ns = engine.spread_ns_sum, engine.two_sided_ns
        for name, values in engine.account_columns().items():
            setattr(self.ledger, name, values)
        self.ledger.fee_income = engine.fee_income

    def _finish_compiled(self) -> RunResult:
        """:meth:`finish` on the twins (which have no ``on_end``)."""
        engine = self._compiled
        engine.finish()  # hands the rows it holds to the sink
        self._copy_compiled_state()
        venue = self.exchange.venues[self.scenario.market.symbol]
        self._compiled_totals = Totals(venue, self.ledger, engine.messages, engine.recorded,
                                       engine.orders_checked, engine.unconserved_orders())
        return self._result(self._compiled_totals)

    def totals(self) -> Totals:
        """What the audit and the summary read, as it stands now (after a compiled run:
        as the engine left it)."""
        if self._compiled_totals is not None:
            return self._compiled_totals
        exchange = self.exchange
        bad_orders = list(exchange.unconserved)  # checked as they left the book
        for order_id, order in exchange.orders.items():  # the orders still live
            if order.unaccounted() != exchange.venues[order.symbol].book.remaining(order_id):
                bad_orders.append(order_id)
        venue = exchange.venues[self.scenario.market.symbol]
        return Totals(venue, self.ledger, exchange.messages, len(self.recorder),
                      exchange.orders_retired + len(exchange.orders), sorted(bad_orders))

    def _result(self, totals: Totals) -> RunResult:
        """The run's result with its audit and summary (the rows too, if the sink kept
        them); raises :class:`AuditError` (with the result as ``error.result``) if
        conservation fails."""
        sink = self.sink
        if isinstance(sink, MemorySink):
            result = RunResult(self.scenario, sink.event_log, sink.book_rows, sink.agent_rows)
        else:
            result = RunResult(self.scenario, None, [], [])
        audit = self.audit(totals)
        result.summary = self.summarize(totals, audit)
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
        samples = self.samples
        for side, levels in ((1, bids), (-1, asks)):
            for level, (price, qty) in enumerate(levels):
                samples.book.append((now, side, level, price, qty))
        ledger = self.ledger
        for session in self.sessions:
            i = session.index
            pnl2 = 2 * ledger.cash[i] + ledger.inventory[i] * venue.mid2
            if not INT64_MIN <= pnl2 <= INT64_MAX:
                in_range(pnl2, f"the pnl2 of agent {session.name!r}")
            samples.agents.append((now, session.name, ledger.cash[i], ledger.inventory[i], pnl2,
                                   ledger.spread_capture2[i], ledger.fills[i]))
        samples.taken(venue.mid2)

    # ------------------------------------------------------------------ audit and summary

    def audit(self, totals: Totals | None = None) -> dict[str, Any]:
        """Check conservation: per order, submitted = filled + cancelled + resting; across
        agents, inventories sum to 0 and cash plus exchange fees sums to 0; the book's
        invariants hold; every trade's volume was booked on both sides. ``totals``: by
        default :meth:`totals`."""
        totals = totals if totals is not None else self.totals()
        invariant_error = None
        try:
            totals.venue.book.check()
        except Exception as exc:  # noqa: BLE001 - reported in the audit, not raised
            invariant_error = str(exc)
        ledger = totals.ledger
        inventory_sum = sum(ledger.inventory)
        cash_sum = sum(ledger.cash) + ledger.fee_income
        traded = totals.venue.volume
        booked = sum(ledger.volume)
        bad_orders = totals.orders_not_conserved
        ok = not bad_orders and invariant_error is None and inventory_sum == 0 and cash_sum == 0 \
            and booked == 2 * traded
        return {"ok": ok, "orders_checked": totals.orders_checked,
                "orders_not_conserved": bad_orders[:10], "inventory_sum": inventory_sum,
                "cash_plus_fees_sum": cash_sum, "volume_traded": traded,
                "volume_booked_both_sides": booked, "book_invariants": invariant_error or "ok"}

    def summarize(self, totals: Totals, audit: dict[str, Any]) -> dict[str, Any]:
        """The run's headline figures; prices in price units, quantities in lots."""
        tick = self.scenario.market.tick_size
        venue = totals.venue
        mean_spread = round(venue.spread_ns_sum / venue.two_sided_ns * tick, 10) if venue.two_sided_ns else None
        agents = {}
        for session in self.sessions:
            account = totals.ledger.account(session.index)
            agents[session.name] = {
                "pnl": ticks_to_price(account.pnl(venue.mid2), tick, halves=True),
                "inventory": account.inventory,
                "spread_capture": ticks_to_price(account.spread_capture2, tick, halves=True),
                "fills": account.fills,
                "volume": account.volume,
                "cash": ticks_to_price(account.cash, tick),
                "fees": ticks_to_price(account.fees, tick),
            }
        return {
            "scenario": self.scenario.source,
            "seed": self.scenario.simulation.seed,
            "duration_s": self.scenario.simulation.duration,
            "messages": totals.messages,
            "events": totals.events,
            "trades": venue.trades,
            "volume": venue.volume,
            "market": {
                "mean_spread": mean_spread,
                "mid_volatility": self._mid_volatility(),
                "final_mid": ticks_to_price(venue.mid2, tick, halves=True),
                "two_sided_fraction": venue.two_sided_ns / self.now if self.now else 0.0,
            },
            "agents": agents,
            "audit": audit,
        }

    def _mid_volatility(self) -> float | None:
        """Std of mid changes between snapshots, scaled to price units per sqrt(second)."""
        std = self.samples.mid_changes.std(self.scenario.market.tick_size)
        return None if std is None else std / math.sqrt(self.snapshot_ns / NS_PER_SECOND)
