"""The ``learner`` agent kind: a learning market maker's seat inside the market.

A :class:`LearnerSeat` is an ordinary agent of the market (it only sends orders through
its :class:`~lobsim.sim.gateway.Session` and learns about its orders from reports, after its
own latency). It does not decide anything by itself: :class:`lobsim.rl.env.MarketEnv` hands
it one action per decision step (:meth:`LearnerSeat.act`) and it turns the action into
post / modify / cancel requests, so queue position, latency, post-only checks and
self-trade prevention all apply to a learner exactly as to any other maker.

Action spaces (``action_space`` parameter):

* ``"grid"`` (default): ``Discrete((n + 1) ** 2)`` with ``n = len(grid)``. Action
  ``a = b * (n + 1) + s``: bid choice ``b``, ask choice ``s``; choice 0 is "no quote"
  on that side, choice ``k >= 1`` quotes ``grid[k - 1]`` ticks from the mid (bid at
  ``ceil(mid) - offset``, ask at ``floor(mid) + offset``; with an odd spread offset 1 is
  the best quote). Quotes are post-only GTC limits of ``quote_size`` lots; a live quote
  is moved with one ``modify``, a side switched to "no quote" is cancelled.
* ``"three"``: the original prototype's ``Discrete(3)``: 0 do nothing, 1 post (or move)
  a bid at the best bid, 2 post (or move) an ask at the best ask.

In both, a side is never quoted when a full fill would take ``|inventory|`` beyond
``max_inventory`` lots.

Reward terms (:meth:`LearnerSeat.reward_terms`, price units; see :mod:`lobsim.rl.env`):
``spread_capture`` realized in the step (the ledger's definition: qty x (mid - price)
for a buy, qty x (price - mid) for a sell), minus ``inventory_penalty``
(``inventory_coef`` x |q| or q^2 x step seconds), plus ``mark_to_market`` (the inventory
held between fills times the mid's moves; only when ``mark_to_market`` is true; with it,
spread capture + mark_to_market is exactly the step's change of PnL before fees), minus
``terminal`` (``terminal_coef`` x |q| at the end of the episode). ``team`` (cooperative
mode) must agree across the scenario's learners.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from lobsim.scenario.config import MAX_REWARD_COEF
from lobsim.sim.messages import (CancelRejected, OrderCancelled, OrderFilled, OrderModified,
                             OrderRejected, Quote, TradePrint)
from lobsim.book.orders import Side

if TYPE_CHECKING:
    from lobsim.scenario.config import Scenario
    from lobsim.sim.gateway import Session
    from lobsim.sim.market import Market

BUY, SELL = Side.BUY, Side.SELL

#: Mid-return lookbacks of the observation, in decision steps.
LOOKBACKS = (1, 5, 20)
#: Book levels whose cumulative imbalance the observation holds.
IMBALANCE_LEVELS = 5
#: Spreads (ticks) with their own one-hot slot in the observation; wider ones share the last.
SPREAD_BUCKETS = 5
#: Names of the observation's components, in order (see :meth:`LearnerSeat.observe`).
OBS_FIELDS = (("spread",) + tuple(f"spread_is_{k}" for k in range(1, SPREAD_BUCKETS + 1))
              + tuple(f"return_{k}" for k in LOOKBACKS)
              + tuple(f"imbalance_{k}" for k in range(1, IMBALANCE_LEVELS + 1))
              + ("bid_lots", "ask_lots", "flow", "inventory")
              + tuple(f"{side}_{what}" for side in ("bid", "ask")
                      for what in ("quoted", "distance", "behind", "ahead"))
              + ("time_left",))
#: Length of the observation vector.
OBS_SIZE = len(OBS_FIELDS)
#: Every observation component is clipped to this (the Box bounds).
OBS_CLIP = 5.0


@dataclass(frozen=True)
class LearnerParams:
    decision_interval: float = field(default=0.1, metadata={
        "gt": 0.0, "unit": "s", "doc": "seconds of simulated time per decision step (same for all learners)"})
    action_space: str = field(default="grid", metadata={
        "choices": ("grid", "three"),
        "doc": "grid: (bid, ask) offsets from the mid incl. no-quote; three: bid / ask / nothing"})
    grid: tuple[int, ...] = field(default=(1, 2, 3, 5), metadata={
        "min": 1, "unit": "ticks", "unique": True, "doc": "ticks from the mid a quote may be placed at (grid space)"})
    quote_size: int = field(default=1, metadata={"min": 1, "unit": "lots", "doc": "lots per quote"})
    max_inventory: int = field(default=10, metadata={
        "min": 1, "unit": "lots", "doc": "lots: a side whose full fill would take |inventory| beyond this is not quoted"})
    inventory_penalty: str = field(default="quadratic", metadata={
        "choices": ("linear", "quadratic"), "doc": "per unit time: coef x |q| (linear) or coef x q^2"})
    inventory_coef: float = field(default=0.001, metadata={
        "min": 0.0, "max": MAX_REWARD_COEF, "doc": "inventory penalty coefficient, price units per lot (or lot^2) per second"})
    mark_to_market: bool = field(default=False, metadata={
        "doc": "add the inventory's mark-to-market change (q x d(mid) between fills) to the reward"})
    terminal_coef: float = field(default=0.01, metadata={
        "min": 0.0, "max": MAX_REWARD_COEF, "doc": "price units per lot of |inventory| left at the end of the episode"})
    team: bool = field(default=False, metadata={
        "doc": "cooperative: every learner gets the sum of all learners' rewards"})


class LearnerSeat:
    """A learning market maker's seat: its actions come from a policy through lobsim.rl.env. Duck-types ``lobsim.sim.agent.Agent``."""

    kind = "learner"
    Params: ClassVar[type] = LearnerParams
    feeds: ClassVar[tuple[str, ...]] = ("l1", "trades")
    self_trade_prevention: ClassVar[bool] = True
    #: a seat :class:`lobsim.rl.env.MarketEnv` drives (see :func:`space_sizes`)
    learning: ClassVar[bool] = True
    #: agent names of this kind's seats in the env: ``maker_0`` ... (the scenario's names)
    role: ClassVar[str] = "maker"

    @staticmethod
    def space_sizes(params: LearnerParams) -> tuple[int, int]:
        """(observation length, number of discrete actions) of a seat with ``params``."""
        return OBS_SIZE, action_count(params)

    @staticmethod
    def meter(params: LearnerParams, index: int) -> RewardMeter:
        """The reward of ledger row ``index`` as this seat measures it (for baselines in it)."""
        return RewardMeter(params, index)

    def __init__(self, name: str, params: LearnerParams, session: Session) -> None:
        self.name = name
        self.params = params
        self.session = session
        self.position = 0  #: lots, from own fills
        #: side -> [order_id, price ticks (target; 0: unknown after a refused modify),
        #: remaining lots]; one quote per side
        self.quotes: dict[Side, list[int] | None] = {BUY: None, SELL: None}
        self.bid: int | None = None  #: best bid as last seen on l1 (ticks)
        self.ask: int | None = None
        self.mid = float(session.initial_price)  #: last two-sided mid seen (ticks)
        self.flow = 0  #: aggressor-signed lots traded since the last observation
        self.sent = 0  #: requests sent (post, modify, cancel)
        self.meter = RewardMeter(params, session.index)
        self._mids: list[float] = []  #: mids (ticks) at the last observations

    # ------------------------------------------------------------------ agent callbacks

    def on_start(self) -> None:
        pass

    def on_timer(self, tag: Hashable) -> None:
        pass

    def on_end(self) -> None:
        pass

    def on_market_data(self, data: Any) -> None:
        kind = type(data)
        if kind is Quote:
            self.bid, self.ask = data.bid, data.ask
            if data.bid is not None and data.ask is not None:
                self.mid = (data.bid + data.ask) / 2
        elif kind is TradePrint:
            self.flow += int(data.aggressor) * data.qty

    def on_report(self, report: Any) -> None:
        kind = type(report)
        if kind is OrderFilled:
            self.position += int(report.side) * report.qty
            quote = self._quote_of(report.order_id)
            if quote is not None:
                side, q = quote
                q[2] = report.left
                if report.left <= 0:
                    self.quotes[side] = None
        elif kind is OrderCancelled or kind is OrderRejected:
            quote = self._quote_of(report.order_id)
            if quote is not None:
                self.quotes[quote[0]] = None
        elif kind is OrderModified:
            quote = self._quote_of(report.order_id)
            if quote is not None:
                quote[1][2] = report.qty
        elif kind is CancelRejected:
            # the order is already gone or unchanged; its own reports say which. A refused
            # modify (e.g. a post-only move that would cross) left the quote where it was:
            # forget the believed price so the next decision sends a fresh modify.
            quote = self._quote_of(report.order_id) if report.request == "modify" else None
            if quote is not None:
                quote[1][1] = 0

    def _quote_of(self, order_id: int) -> tuple[Side, list[int]] | None:
        for side in (BUY, SELL):
            q = self.quotes[side]
            if q is not None and q[0] == order_id:
                return side, q
        return None

    # ------------------------------------------------------------------ actions

    @property
    def n_actions(self) -> int:
        return action_count(self.params)

    def act(self, action: int) -> None:
        """Apply one decision: move, post or cancel the seat's quotes (module docstring)."""
        p = self.params
        action = int(action)
        if p.action_space == "three":
            if action == 1:
                self._set(BUY, self.bid if self.bid is not None else math.ceil(self.mid) - 1)
            elif action == 2:
                self._set(SELL, self.ask if self.ask is not None else math.floor(self.mid) + 1)
            return
        n = len(p.grid) + 1
        b, s = divmod(action, n)
        bid = ask = None
        if b:
            bid = math.ceil(self.mid - 1e-9) - p.grid[b - 1]
            if self.ask is not None:
                bid = min(bid, self.ask - 1)
        if s:
            ask = math.floor(self.mid + 1e-9) + p.grid[s - 1]
            if self.bid is not None:
                ask = max(ask, self.bid + 1)
        # move the side going away from the other first (FIFO: own quotes never meet)
        current_bid = self.quotes[BUY]
        if bid is not None and current_bid is not None and bid > current_bid[1]:
            self._set(SELL, ask)
            self._set(BUY, bid)
        else:
            self._set(BUY, bid)
            self._set(SELL, ask)

    def _set(self, side: Side, price: int | None) -> None:
        p, session = self.params, self.session
        q = self.quotes[side]
        if price is not None and (price < 1 or abs(self.position + int(side) * p.quote_size) > p.max_inventory):
            price = None
        if price is None:
            if q is not None:
                session.cancel(q[0])
                self.quotes[side] = None
                self.sent += 1
        elif q is None:
            order_id = session.limit(side, price, p.quote_size, post_only=True)
            self.quotes[side] = [order_id, price, p.quote_size]
            self.sent += 1
        elif q[1] != price or q[2] != p.quote_size:
            session.modify(q[0], qty=p.quote_size, price=price)
            q[1], q[2] = price, p.quote_size
            self.sent += 1

    # ------------------------------------------------------------------ observation and reward

    def reset_reward(self, market: Market) -> None:
        """Start the reward bookkeeping at the episode's start."""
        self.meter.reset(market)
        venue = market.exchange.venues[market.scenario.market.symbol]
        self._mids = [venue.mid2 / 2]

    def reward_terms(self, market: Market, dt: float, last: bool) -> dict[str, float]:
        """The reward terms of the step just simulated (see :class:`RewardMeter`)."""
        return self.meter.terms(market, dt, last)

    def observe(self, market: Market, time_left: float) -> np.ndarray:
        """The seat's normalized float32 observation (length :data:`OBS_SIZE`).

        Read at the decision time from the exchange's book: what the l1/l2 feeds would
        show with zero latency (the seat's own quotes still travel with its latency). In
        order: spread (ticks / 10); the spread one-hot over 1 .. :data:`SPREAD_BUCKETS`
        ticks (the last slot: that or wider; all zero with a one-sided book), which says
        whether the mid sits on a tick or between two, so which grid offsets join,
        improve or stay behind the best quotes; mid returns over :data:`LOOKBACKS` steps
        (ticks / 5); cumulative L1..L5 depth imbalance; lots at the best bid and the best
        ask (/ 5); trade flow since the last step (aggressor-signed lots / 10); inventory
        / max_inventory; then per side (bid, then ask): whether the seat has a quote
        there, its distance from the mid (ticks / 5), the ticks it sits behind that side's
        best price (/ 5) and the lots ahead of it in its queue (/ 10), each 0 without a
        quote; last, the time left (fraction of the episode).
        """
        venue = market.exchange.venues[market.scenario.market.symbol]
        book = venue.book
        obs, bids, asks = market_features(venue, self._mids)
        mid = venue.mid2 / 2
        obs.append(self.flow / 10.0)
        self.flow = 0
        obs.append(market.ledger.inventory[self.session.index] / self.params.max_inventory)
        for side, best in ((BUY, bids[0][0] if bids else None), (SELL, asks[0][0] if asks else None)):
            q = self.quotes[side]
            info = book.get(q[0]) if q is not None else None
            if info is None:  # no quote, or one still in flight: nothing of it in the book yet
                obs += [0.0, 0.0, 0.0, 0.0]
                continue
            ahead = book.queue_position(q[0])
            behind = (best - info.price) * int(side) if best is not None else 0
            obs += [1.0, abs(info.price - mid) / 5.0, behind / 5.0,
                    ahead[1] / 10.0 if ahead is not None else 0.0]
        obs.append(time_left)
        return clipped(obs)


def clipped(values: list[float]) -> np.ndarray:
    """``values`` as float32, each within +-:data:`OBS_CLIP` (NaN stays NaN). One loop
    clips and stores: numpy calls on a 25-float vector cost more than the loop (``np.clip``
    was a tenth of an env step), and compiled (``seat.pxd`` types ``out`` as a view of
    ``array``) each store is one C assignment."""
    clip = OBS_CLIP
    array = np.empty(len(values), dtype=np.float32)
    out = array
    for i in range(len(values)):
        value = values[i]
        if value > clip:
            value = clip
        elif value < -clip:
            value = -clip
        out[i] = value
    return array


def market_features(venue: Any, mids: list[float]) -> tuple[list[float], list, list]:
    """The market part of a seat's observation, read from ``venue``'s book at the decision
    time: spread (ticks / 10; 1.0 with a one-sided book), its one-hot over 1 ..
    :data:`SPREAD_BUCKETS` ticks, mid returns over :data:`LOOKBACKS` steps (ticks / 5),
    cumulative L1..L5 depth imbalance, lots at the best bid and ask (/ 5): 16 floats.

    ``mids`` (ticks, the seat's own history) gets the current mid appended and is kept to
    the longest lookback. Returns the features and the book's depth (bids, asks) at
    :data:`IMBALANCE_LEVELS` levels. O(levels + lookbacks).
    """
    bids, asks = venue.book.depth(IMBALANCE_LEVELS)
    mid = venue.mid2 / 2
    mids.append(mid)
    if len(mids) > LOOKBACKS[-1] + 1:
        del mids[0]
    spread = (asks[0][0] - bids[0][0]) if bids and asks else 0
    obs = [spread / 10.0 if spread else 1.0]
    onehot = [0.0] * SPREAD_BUCKETS
    if spread:
        onehot[min(spread, SPREAD_BUCKETS) - 1] = 1.0
    obs += onehot
    for k in LOOKBACKS:
        obs.append((mid - mids[max(len(mids) - 1 - k, 0)]) / 5.0)
    cb = ca = 0
    for level in range(IMBALANCE_LEVELS):
        cb += bids[level][1] if level < len(bids) else 0
        ca += asks[level][1] if level < len(asks) else 0
        obs.append((cb - ca) / (cb + ca) if cb + ca else 0.0)
    obs.append(bids[0][1] / 5.0 if bids else 0.0)
    obs.append(asks[0][1] / 5.0 if asks else 0.0)
    return obs, bids, asks


def seat_classes(scenario: Scenario) -> dict[str, type]:
    """Learning seat instance name -> its kind's class, in scenario order (a learning kind:
    a registered class with ``learning = True``)."""
    from lobsim import registry

    out = {}
    for config in scenario.agents:
        cls = registry.load(registry.AGENTS, config.kind)
        if getattr(cls, "learning", False):
            out.update(dict.fromkeys(config.instance_names(), cls))
    return out


def pad_stack(obs: dict[str, np.ndarray], names: list[str], size: int) -> np.ndarray:
    """Observations of ``names`` as one float32 array (agents, size), each zero-padded at
    the end to ``size`` (seats of different kinds observe vectors of different lengths)."""
    out = np.zeros((len(names), size), dtype=np.float32)
    for i, name in enumerate(names):
        o = obs[name]
        out[i, :o.shape[0]] = o
    return out


def action_count(params: LearnerParams) -> int:
    """Size of the discrete action space of a seat with ``params``."""
    return 3 if params.action_space == "three" else side_choices(params) ** 2


def side_choices(params: Any) -> int | None:
    """Choices per side of a ``grid`` seat, ``k = len(grid) + 1``: its action ``b * k + s``
    picks bid choice ``b`` and ask choice ``s`` independently (a learner may factor its
    policy so). None for any other seat (``three``, or not a maker's params)."""
    if not isinstance(params, LearnerParams) or params.action_space != "grid":
        return None
    return len(params.grid) + 1


class RewardMeter:
    """One seat's reward terms per step, from the market's ledger (price units).

    Used by :class:`LearnerSeat` and, for the same reward definition, by the evaluation
    of baseline makers sitting in a learner's seat (``index``: the seat's ledger row).
    Terms of a step of ``dt`` seconds: ``spread_capture`` (change of the ledger's
    realized spread capture: each fill against the mid just before it), ``inventory_penalty``
    (-coef x |q| or q^2 x dt, with q the inventory at the end of the step),
    ``mark_to_market`` (0 unless enabled: the change of the seat's mark-to-market PnL
    before fees that is not spread capture, i.e. the inventory held between fills times
    the mid's moves, fill by fill, so that spread capture + mark_to_market is exactly the
    change of PnL + fees), ``terminal`` (-coef x |q| on the last step), and ``reward``,
    their sum.
    """

    def __init__(self, params: LearnerParams, index: int) -> None:
        self.params = params
        self.index = index
        self._capture2 = 0
        self._value2 = 0  #: 2 x (cash + fees) + q x mid2: PnL before fees, half-tick-lots

    def _value(self, market: Market) -> int:
        ledger, i = market.ledger, self.index
        mid2 = market.exchange.venues[market.scenario.market.symbol].mid2
        return 2 * (ledger.cash[i] + ledger.fees[i]) + ledger.inventory[i] * mid2

    def reset(self, market: Market) -> None:
        self._capture2 = market.ledger.spread_capture2[self.index]
        self._value2 = self._value(market)

    def terms(self, market: Market, dt: float, last: bool) -> dict[str, float]:
        p = self.params
        tick = market.scenario.market.tick_size
        ledger, i = market.ledger, self.index
        capture2, q, value2 = ledger.spread_capture2[i], ledger.inventory[i], self._value(market)
        terms = {"spread_capture": (capture2 - self._capture2) * tick / 2}
        size = abs(q) if p.inventory_penalty == "linear" else q * q
        terms["inventory_penalty"] = -p.inventory_coef * size * dt
        terms["mark_to_market"] = ((value2 - self._value2) - (capture2 - self._capture2)) * tick / 2 \
            if p.mark_to_market else 0.0
        terms["terminal"] = -p.terminal_coef * abs(q) if last else 0.0
        terms["reward"] = sum(terms.values())
        self._capture2, self._value2 = capture2, value2
        return terms
