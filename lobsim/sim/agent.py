"""The ``Agent`` base: what every trader and learner in a lobsim market is.

An agent acts only by sending orders through its :class:`~lobsim.sim.gateway.Session`
(``self.session``) and learns about the world only through the callbacks below, each
delivered after the agent's own latency. It never touches the book.

Subclasses declare:

* ``kind``: the name a scenario's ``kind = "..."`` uses for it, when the class comes from a
  file given with ``--agents FILE.py`` (:func:`lobsim.registry.load_agent_file`); kinds
  installed by a package are named by their entry point instead.
* ``Params``: a frozen dataclass of the scenario parameters of this kind. The scenario
  loader builds it from the agent's ``[[agents]]`` table and validates every value against
  the field's type and ``metadata`` (``min``, ``max``, ``choices``, ``doc``); prices
  are in price units and times in seconds of simulated time (floats at the edge), the
  agent converts them with ``session.ticks``/``session.ns``. Every number needs an upper
  bound: a ``max``, or a ``unit`` ("s", "ns", "ticks", "lots", "rate", "price") that
  implies one (:data:`lobsim.scenario.config.UNIT_BOUNDS`; "price" is checked in ticks of the
  market). ``Params`` may also define ``expected_messages(duration_s, market) -> float``
  (requests one instance sends in a run, an upper estimate; the loader bounds the sum)
  and ``check_market(market)`` (limits that depend on the market, raising
  ``ValueError("KEY: why")``); see :mod:`lobsim.scenario.scale` and docs/robustness.md.
* ``feeds``: the market-data feeds it subscribes to by default ("trades", "l1", "l2").
* ``self_trade_prevention``: False for a population of independent traders (zero
  intelligence, Poisson noise) whose orders may trade with each other.
* ``compiled`` (optional): ``"module:Class"``, a compiled twin that does exactly what this
  class does, for lobsim's compiled engine (see :mod:`lobsim.sim.market`). It is read from
  the class itself, never inherited, so a subclass that changes behaviour runs as Python.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from lobsim.sim.gateway import Session
    from lobsim.sim.messages import MarketData, OrderReport


@dataclass(frozen=True)
class NoParams:
    """For kinds without parameters."""


class Agent:
    """Base class of all agents; every callback does nothing by default."""

    kind: ClassVar[str | None] = None
    Params: ClassVar[type] = NoParams
    feeds: ClassVar[tuple[str, ...]] = ()
    self_trade_prevention: ClassVar[bool] = True
    compiled: ClassVar[str | None] = None

    def __init__(self, name: str, params: object, session: Session) -> None:
        self.name = name
        self.params = params
        self.session = session

    def on_start(self) -> None:
        """Called once at time 0, before any market data: set timers, post first orders."""

    def on_market_data(self, data: MarketData) -> None:
        """A subscribed feed's message arrived (TradePrint, Quote or Depth)."""

    def on_report(self, report: OrderReport) -> None:
        """A report on one of this agent's orders arrived."""

    def on_timer(self, tag: Hashable) -> None:
        """A timer set with ``session.timer(delay_ns, tag)`` fired."""

    def on_end(self) -> None:
        """Called once when the run ends (no more orders will be processed)."""
