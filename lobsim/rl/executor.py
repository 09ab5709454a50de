"""The ``executor`` agent kind: a learning execution seat that works a parent order.

An :class:`ExecutorSeat` must buy (or sell) ``parent_qty`` lots between ``start`` and
``start + horizon`` seconds of simulated time. Like the maker seat
(:mod:`lobsim.rl.seat`) it only sends orders through its session and learns of them from
reports after its latency; :class:`lobsim.rl.env.MarketEnv` hands it one action per
decision step.

Actions: ``Discrete(1 + 3 * len(child_sizes))``, one more with ``catch_up``. Action 0
waits (nothing is sent; a resting child stays). Action ``1 + 3 * i + j`` sends a child
order of ``child_sizes[i]`` lots (capped at what is neither filled nor already working)
with aggressiveness ``j``:

* 0, cross: an IOC limit at the opposite best price (takes what rests there, the rest
  is cancelled);
* 1, join: the resting child moves to (or is posted at) the own side's best price;
* 2, deeper: the resting child moves to ``deeper_ticks`` behind the own side's best.

With ``catch_up`` on, one more action (the last) crosses what is behind a straight-line
schedule (:meth:`ExecutorSeat._behind`), as one IOC at the opposite best; nothing when
the seat is on or ahead of it.

Passive children are post-only GTC limits; at most one rests at a time (moved with one
``modify``; a cross cancels it first). Child sizes are capped so that what is executed
plus what is working never exceeds the parent, except for fills racing a cancel or a
modify in flight (the unfilled penalty charges any over-execution too). Before ``start``
and after the horizon every action is a wait; at the first decision after the horizon
the resting child is cancelled.

Reward (price units, :class:`ShortfallMeter`): the negative implementation shortfall
against the arrival mid, step by step: for the step's fills, ``qty x (arrival mid -
price)`` for a buy and ``qty x (price - arrival mid)`` for a sell, fees included
(``execution``); at the step that reaches the horizon (or the episode's end, if
earlier), minus ``unfilled_penalty`` per lot by which the executed quantity misses the
parent (``unfilled``). Summed over an episode: minus the shortfall of what was executed,
minus the penalty. The arrival mid is the mid at the first decision at or after
``start``. With ``shaping`` on, the reward the learner trains on also has the
potential-based term ``shaping`` (:meth:`ShortfallMeter._shaping`), which leaves the
optimal policy unchanged; :func:`without_shaping` gives the scenario that evaluation and
validation score, the task as defined. Core values are integers (ticks, lots, ns,
half-ticks); prices become floats only in the reward.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from lobsim.book.orders import Side, TimeInForce
from lobsim.rl.seat import clipped, market_features
from lobsim.scenario.config import MAX_COEFFICIENT, Scenario
from lobsim.sim.messages import OrderCancelled, OrderFilled, OrderModified, OrderRejected, TradePrint
from lobsim.units import seconds_to_ns

if TYPE_CHECKING:
    from lobsim.sim.gateway import Session
    from lobsim.sim.market import Market

#: Aggressiveness levels of a child order, in action order.
AGGRESSIVENESS = ("cross", "join", "deeper")
#: Names of the observation's own components, after the 16 market features and the flow.
OWN_FIELDS = ("remaining", "time_left", "schedule_lag", "adverse_move", "child_resting",
              "child_behind", "child_ahead", "child_lots", "last_trade")
#: Length of the executor's observation vector.
EXEC_OBS_SIZE = 16 + 1 + len(OWN_FIELDS)


@dataclass(frozen=True)
class ExecutorParams:
    decision_interval: float = field(default=0.1, metadata={
        "gt": 0.0, "unit": "s", "doc": "seconds of simulated time per decision step (same for all learners)"})
    side: str = field(default="buy", metadata={
        "choices": ("buy", "sell"), "doc": "direction of the parent order"})
    parent_qty: int = field(default=20, metadata={
        "min": 1, "max": 1_000_000, "doc": "lots to execute within the horizon"})
    start: float = field(default=0.0, metadata={
        "min": 0.0, "unit": "s", "doc": "seconds of simulated time when the horizon starts (arrival)"})
    horizon: float = field(default=60.0, metadata={
        "gt": 0.0, "unit": "s", "doc": "seconds the parent order may take, from start"})
    child_sizes: tuple[int, ...] = field(default=(1, 2, 4), metadata={
        "min": 1, "unit": "lots", "unique": True, "doc": "lots a child order may have (one action per size and aggressiveness)"})
    deeper_ticks: int = field(default=2, metadata={
        "min": 1, "max": 1000, "doc": "ticks behind the own side's best price of a 'deeper' child"})
    unfilled_penalty: float = field(default=0.05, metadata={
        "min": 0.0, "max": MAX_COEFFICIENT,
        "doc": "price units per lot missing (or over-executed) at the horizon"})
    shaping: bool = field(default=False, metadata={
        "doc": "adds the potential-based shaping term gamma x Phi(s') - Phi(s) (Phi: shaping_potential, "
               "0 once the horizon is reached) to the reward the learner trains on; it leaves the "
               "optimal policy unchanged (Ng, Harada & Russell 1999). Evaluation and validation "
               "score the task without it"})
    shaping_potential: str = field(default="remaining", metadata={
        "choices": ("remaining", "schedule"),
        "doc": "Phi of the shaping: minus the penalty on the lots missing (remaining), or on the "
               "lots by which the order trails a straight line from start to the horizon (schedule)"})
    shaping_discount: float = field(default=0.99, metadata={
        "min": 0.0, "max": 1.0,
        "doc": "gamma of the shaping term: the learner's discount per decision (both learners' default is 0.99)"})
    catch_up: bool = field(default=False, metadata={
        "doc": "adds one action, the last: cross (one IOC at the opposite best) the lots by which "
               "the executed and in-flight quantity is behind a straight-line schedule from start "
               "to the horizon; nothing when on schedule"})
    team: bool = field(default=False, metadata={
        "doc": "must be false: an executor's reward is never pooled with makers' (kept so that "
               "every learning seat has the flag)"})


def executor_action_count(params: ExecutorParams) -> int:
    """Size of the discrete action space of an executor with ``params``."""
    return 1 + len(AGGRESSIVENESS) * len(params.child_sizes) + int(params.catch_up)


def without_shaping(scenario: Scenario) -> Scenario:
    """``scenario`` with every executor's ``shaping`` off: the task as it is defined, which
    evaluation and validation score (the shaped return differs by a policy-dependent
    amount when gamma < 1). The same object when no executor shapes. O(agents)."""
    agents = tuple(replace(a, params=replace(a.params, shaping=False))
                   if isinstance(a.params, ExecutorParams) and a.params.shaping else a
                   for a in scenario.agents)
    if all(a is b for a, b in zip(agents, scenario.agents)):
        return scenario
    return replace(scenario, agents=agents)


class ShortfallMeter:
    """One execution seat's reward terms per step, from the market's ledger (price units).

    Used by :class:`ExecutorSeat` and, for the same definition, by the evaluation of
    TWAP and Almgren-Chriss agents in the executor's seat (``index``: the seat's ledger
    row). In half-tick-lots, the running value ``2 x cash + inventory x arrival_mid2``
    rises by exactly the negative shortfall of each fill, so a step's ``execution`` term
    is its change times tick / 2. O(1) per step.
    """

    def __init__(self, params: ExecutorParams, index: int) -> None:
        self.params, self.index = params, index
        self.sign = 1 if params.side == "buy" else -1
        self.start_ns = seconds_to_ns(params.start)
        self.end_ns = seconds_to_ns(params.start + params.horizon)
        self.arrival2: int | None = None  #: twice the arrival mid, ticks
        self.done = False
        self._value2 = 0
        self._inventory0 = 0
        self._phi = 0.0  #: the shaping potential at the last step (price units)

    def reset(self, market: Market) -> None:
        self.arrival2, self.done = None, False
        self._capture(market)
        self._phi = self._potential(market, False)

    def _capture(self, market: Market) -> None:
        """Fix the arrival mid at the first step boundary at or after ``start``."""
        if self.arrival2 is None and market.now >= self.start_ns:
            self.arrival2 = market.exchange.venues[market.scenario.market.symbol].mid2
            self._inventory0 = market.ledger.inventory[self.index]
            self._value2 = self._value(market)

    def _value(self, market: Market) -> int:
        ledger, i = market.ledger, self.index
        return 2 * ledger.cash[i] + ledger.inventory[i] * (self.arrival2 or 0)

    def executed(self, ledger: Any) -> int:
        """Lots executed in the parent's direction since the arrival (0 before it)."""
        if self.arrival2 is None:
            return 0
        return self.sign * (ledger.inventory[self.index] - self._inventory0)

    def terms(self, market: Market, dt: float, last: bool) -> dict[str, float]:
        """The terms of the step just simulated (``dt`` unused: kept for the makers' meter's call)."""
        tick = market.scenario.market.tick_size
        terms = {"execution": 0.0, "unfilled": 0.0}
        if self.arrival2 is not None and not self.done:
            value2 = self._value(market)
            terms["execution"] = (value2 - self._value2) * tick / 2
            self._value2 = value2
            if last or market.now >= self.end_ns:
                self.done = True
                missing = abs(self.params.parent_qty - self.executed(market.ledger))
                terms["unfilled"] = -self.params.unfilled_penalty * missing
        self._capture(market)
        terms["reward"] = terms["execution"] + terms["unfilled"]
        if self.params.shaping:
            terms["shaping"] = self._shaping(market, last)
            terms["reward"] += terms["shaping"]
        return terms

    def _potential(self, market: Market, last: bool) -> float:
        """Phi: minus the penalty on what is still missing (``schedule``: on what trails
        the straight line); 0 once the task is over."""
        if self.done or last:
            return 0.0
        p = self.params
        missing = abs(p.parent_qty - self.executed(market.ledger))
        if p.shaping_potential == "schedule":  # lots behind the line, at the decision time
            left = min(max((self.end_ns - market.now) / (self.end_ns - self.start_ns), 0.0), 1.0)
            missing = max(missing - p.parent_qty * left, 0.0)
        return -p.unfilled_penalty * missing

    def _shaping(self, market: Market, last: bool) -> float:
        """gamma x Phi(s') - Phi(s) for the step just simulated (price units).

        Why: the penalty comes once a horizon, tens of decisions after the steps that
        avoid it; the shaping moves its credit to those steps (``remaining``: lot by lot
        as they fill; ``schedule``: step by step as the order falls behind the line) and,
        at the horizon, where the potential returns to 0, refunds the penalty charged
        there, while the discounted return differs only by -Phi(s_0), whatever the
        policy. O(1)."""
        phi = self._potential(market, last)
        term = self.params.shaping_discount * phi - self._phi
        self._phi = phi
        return term


class ExecutorSeat:
    """A learning seat that works a parent order (buy or sell ``parent_qty`` lots within a
    horizon) with child orders a policy picks: size, and cross, join the best, post deeper
    or wait; rewarded by minus its implementation shortfall against the arrival mid.
    Driven by lobsim.rl.env (module docstring); duck-types ``lobsim.sim.agent.Agent``."""

    kind = "executor"
    Params: ClassVar[type] = ExecutorParams
    feeds: ClassVar[tuple[str, ...]] = ("l1", "trades")
    self_trade_prevention: ClassVar[bool] = True
    learning: ClassVar[bool] = True
    role: ClassVar[str] = "executor"

    @staticmethod
    def space_sizes(params: ExecutorParams) -> tuple[int, int]:
        """(observation length, number of discrete actions) of a seat with ``params``."""
        return EXEC_OBS_SIZE, executor_action_count(params)

    @staticmethod
    def meter(params: ExecutorParams, index: int) -> ShortfallMeter:
        """The reward of ledger row ``index`` as this seat measures it (for baselines in it)."""
        return ShortfallMeter(params, index)

    def __init__(self, name: str, params: ExecutorParams, session: Session) -> None:
        self.name, self.params, self.session = name, params, session
        self.side = Side.BUY if params.side == "buy" else Side.SELL
        self.working: dict[int, int] = {}  #: order id -> lots not yet filled or cancelled
        self.child: list[int] | None = None  #: the resting child: [order id, price ticks]
        self.flow = 0  #: aggressor-signed lots traded since the last observation
        self.last_sign = 0  #: the last trade's aggressor side (+1 buy, -1 sell; 0 before any)
        self.sent = 0  #: requests sent
        self.meter = ShortfallMeter(params, session.index)
        self._mids: list[float] = []

    # ------------------------------------------------------------------ agent callbacks

    def on_start(self) -> None:
        pass

    def on_timer(self, tag: Hashable) -> None:
        pass

    def on_end(self) -> None:
        pass

    def on_market_data(self, data: Any) -> None:
        # quotes need no bookkeeping: the seat reads the book at decision times (observe);
        # l1 stays subscribed as the makers' seats are, so both see the same deliveries
        if type(data) is TradePrint:
            self.flow += int(data.aggressor) * data.qty
            self.last_sign = int(data.aggressor)

    def on_report(self, report: Any) -> None:
        kind, oid = type(report), report.order_id
        if oid not in self.working:
            return
        if kind is OrderFilled or kind is OrderCancelled:
            self.working[oid] -= report.qty
        elif kind is OrderModified:
            self.working[oid] = report.qty
        elif kind is OrderRejected:
            self.working[oid] = 0
        if self.working[oid] <= 0:
            del self.working[oid]
            if self.child is not None and self.child[0] == oid:
                self.child = None

    # ------------------------------------------------------------------ actions

    def act(self, action: int) -> None:
        """Apply one decision (module docstring), reading the book and the ledger at the
        decision time as the observation does. O(1) requests."""
        exchange = self.session.exchange
        now = self.session.now
        if now < self.meter.start_ns:
            return
        if now >= self.meter.end_ns or self.meter.done:
            self._cancel_child()
            return
        action = int(action)
        if action == 0:
            return
        # lots in IOCs still in flight; the passive child is moved (or, to cross, cancelled)
        working = sum(self.working.values()) - self._child_lots()
        free = self.params.parent_qty - self.meter.executed(exchange.ledger) - working
        if action == len(AGGRESSIVENESS) * len(self.params.child_sizes) + 1:  # catch_up
            level, qty = 0, min(self._behind(now, free), free)
        else:
            size_index, level = divmod(action - 1, len(AGGRESSIVENESS))
            qty = min(self.params.child_sizes[size_index], free)
        bids, asks = exchange.venues[self.session.symbol].book.depth(1)
        own, other = (bids, asks) if self.side is Side.BUY else (asks, bids)
        if level == 0:
            if other and qty > 0:
                self._cancel_child()  # a fill racing this cancel over-executes: penalized
                self._send(self.session.limit(self.side, other[0][0], qty, tif=TimeInForce.IOC), qty)
            return
        if qty <= 0 or not own:
            return
        price = own[0][0] - int(self.side) * (self.params.deeper_ticks if level == 2 else 0)
        if price < 1:
            return
        self._rest(price, qty)

    def _behind(self, now: int, free: int) -> int:
        """Lots by which what is executed or in flight (``parent - free``) trails the
        straight line from 0 at ``start`` to the parent at the horizon, rounded up, at
        ``now`` (ns); integers only."""
        meter, parent = self.meter, self.params.parent_qty
        due = -(-parent * (now - meter.start_ns) // (meter.end_ns - meter.start_ns))
        return due - (parent - free)

    def _cancel_child(self) -> None:
        if self.child is not None:
            self.session.cancel(self.child[0])
            self.working.pop(self.child[0], None)  # its reports, if any, are ignored
            self.child = None
            self.sent += 1

    def _child_lots(self) -> int:
        return self.working.get(self.child[0], 0) if self.child is not None else 0

    def _send(self, order_id: int, qty: int) -> None:
        self.working[order_id] = qty
        self.sent += 1

    def _rest(self, price: int, qty: int) -> None:
        """Post the passive child at ``price`` ticks for ``qty`` lots, or move it there."""
        if self.child is None:
            order_id = self.session.limit(self.side, price, qty, post_only=True)
            self._send(order_id, qty)
            self.child = [order_id, price]
        elif self.child[1] != price or self.working.get(self.child[0]) != qty:
            self.session.modify(self.child[0], qty=qty, price=price)
            self.child[1] = price
            self.working[self.child[0]] = qty
            self.sent += 1

    # ------------------------------------------------------------------ observation and reward

    def reset_reward(self, market: Market) -> None:
        self.meter.reset(market)
        self._mids = [market.exchange.venues[market.scenario.market.symbol].mid2 / 2]

    def reward_terms(self, market: Market, dt: float, last: bool) -> dict[str, float]:
        return self.meter.terms(market, dt, last)

    def observe(self, market: Market, time_left: float) -> np.ndarray:
        """The seat's normalized float32 observation (length :data:`EXEC_OBS_SIZE`).

        The 16 market features of :func:`lobsim.rl.seat.market_features`, the trade flow
        since the last step (aggressor-signed lots / 10), then :data:`OWN_FIELDS`: the
        fraction of the parent not yet executed, the fraction of the horizon left (1 before
        ``start``, 0 after the end; ``time_left``, the episode's, is not used), the schedule
        lag (remaining fraction minus time-left fraction: behind a straight line when
        positive), the mid's move against the parent since the arrival (ticks / 5), and the
        resting child's presence, ticks behind the own best (/ 5), lots ahead in its queue
        (/ 10) and lots (/ parent), and the last trade's sign as delivered to the seat (+1
        a buyer took liquidity, -1 a seller, 0 before any; unlike the flow, it survives a
        step without trades). The book's queue imbalance, which predicts the next
        second's mid move here (docs/learning.md), is among the market features.
        """
        venue = market.exchange.venues[market.scenario.market.symbol]
        obs, bids, asks = market_features(venue, self._mids)
        obs.append(self.flow / 10.0)
        self.flow = 0
        p, meter = self.params, self.meter
        remaining = (p.parent_qty - meter.executed(market.ledger)) / p.parent_qty
        span = meter.end_ns - meter.start_ns
        horizon_left = min(max((meter.end_ns - market.now) / span, 0.0), 1.0)
        adverse = 0.0
        if meter.arrival2 is not None:
            adverse = int(self.side) * (venue.mid2 - meter.arrival2) / 2 / 5.0
        obs += [remaining, horizon_left, remaining - horizon_left, adverse]
        info = venue.book.get(self.child[0]) if self.child is not None else None
        if info is None:
            obs += [0.0, 0.0, 0.0, 0.0]
        else:
            own = bids if self.side is Side.BUY else asks
            behind = (own[0][0] - info.price) * int(self.side) if own else 0
            ahead = venue.book.queue_position(self.child[0])
            obs += [1.0, behind / 5.0, ahead[1] / 10.0 if ahead is not None else 0.0,
                    info.qty / p.parent_qty]
        obs.append(float(self.last_sign))
        return clipped(obs)
