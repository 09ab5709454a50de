"""Per-agent accounts: cash, inventory, fees and realized spread capture, in integers.

Units: cash in tick-lots (price ticks x lots; multiply by tick_size for price units x
lots), inventory in lots, fees in tick-lots, spread capture in half-tick-lots (the mid
may sit between two ticks, so it is kept doubled: ``mid2 = bid + ask``).

Spread capture of a fill = qty x (mid - price) for a buy, qty x (price - mid) for a
sell, with the mid just before the fill: positive when buying below or selling above
the mid.

Every figure fits int64, as both engines and the output files hold it: Python's ints
would grow past it silently and the compiled engine's would wrap, so a fill, volume or
snapshot that would leave the range stops the run with a :class:`RangeError`, decided
here for both engines (:func:`after_fill`, :func:`check_fill`, :func:`in_range`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lobsim.errors import InvariantError, RangeError

#: The range of every integer figure of a run (int64).
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1

#: What :func:`after_fill` returns, in order; the first out of range is the one reported.
FILL_FIGURES = ("cash", "inventory", "fees", "spread_capture2", "volume", "exchange fee income")


def in_range(value: int, what: str) -> int:
    """``value`` if it fits int64, else a :class:`RangeError` naming ``what`` (e.g.
    ``"the pnl2 of agent 'mm'"``)."""
    if INT64_MIN <= value <= INT64_MAX:
        return value
    raise RangeError(f"{what} would reach {value:,}, beyond the int64 range that both engines "
                     "and the output files hold; use smaller sizes, prices or fees")


def after_fill(cash: int, inventory: int, fees: int, spread_capture2: int, volume: int,
               fee_income: int, sign: int, price: int, qty: int, mid2: int,
               fee_per_lot: int) -> tuple[int, ...]:
    """An account's figures (and the exchange's fee income) after one fill, in
    :data:`FILL_FIGURES` order, unchecked: ``sign`` +1 buy, -1 sell; ``price`` ticks;
    ``qty`` lots; ``mid2`` half-ticks; ``fee_per_lot`` ticks. The compiled engine
    restates it in 128-bit integers and calls it only to report a figure out of range."""
    fee = fee_per_lot * qty
    return (cash - sign * price * qty - fee, inventory + sign * qty, fees + fee,
            spread_capture2 + sign * (mid2 - 2 * price) * qty, volume + qty, fee_income + fee)


def check_fill(figures: Sequence[int], agent: str, price: int, qty: int, fee_per_lot: int) -> None:
    """Raise :class:`RangeError` for the first of :func:`after_fill`'s ``figures`` (of
    ``agent``'s fill) outside int64; the caller checked that one is."""
    for figure, value in zip(FILL_FIGURES, figures):
        owner = "" if figure.startswith("exchange") else f" of agent {agent!r}"
        in_range(value, f"on a fill of {qty:,} lots at {price:,} ticks (fee {fee_per_lot:,} "
                        f"ticks a lot), the {figure}{owner}")
    raise InvariantError(f"a fill of agent {agent!r} was said to leave int64, but it does not")


@dataclass(frozen=True)
class Account:
    """One agent's figures at a moment, in core units (see the module docstring)."""

    cash: int
    inventory: int
    fees: int
    spread_capture2: int
    fills: int
    volume: int

    def pnl(self, mid2: int) -> int:
        """Mark-to-market PnL in half-tick-lots: 2 x cash + inventory x mid2."""
        return 2 * self.cash + self.inventory * mid2


class Ledger:
    """Accounts for ``n`` agents, indexed by position. Every update is O(1)."""

    def __init__(self, n: int, names: Sequence[str] = ()) -> None:
        self.names = list(names) or [f"#{i}" for i in range(n)]  #: for error messages
        self.cash = [0] * n
        self.inventory = [0] * n
        self.fees = [0] * n
        self.spread_capture2 = [0] * n
        self.fills = [0] * n
        self.volume = [0] * n
        self.fee_income = 0  #: what the exchange collected, tick-lots

    def fill(self, agent: int, sign: int, price: int, qty: int, mid2: int, fee_per_lot: int) -> None:
        """Book one fill: ``sign`` +1 for a buy, -1 for a sell; ``price`` ticks; ``qty`` lots.
        :class:`RangeError` (and nothing booked) if a figure would leave int64."""
        figures = after_fill(self.cash[agent], self.inventory[agent], self.fees[agent],
                             self.spread_capture2[agent], self.volume[agent], self.fee_income,
                             sign, price, qty, mid2, fee_per_lot)
        if not (INT64_MIN <= min(figures) and max(figures) <= INT64_MAX):
            check_fill(figures, self.names[agent], price, qty, fee_per_lot)
        (self.cash[agent], self.inventory[agent], self.fees[agent], self.spread_capture2[agent],
         self.volume[agent], self.fee_income) = figures
        self.fills[agent] += 1

    def account(self, agent: int) -> Account:
        return Account(self.cash[agent], self.inventory[agent], self.fees[agent],
                       self.spread_capture2[agent], self.fills[agent], self.volume[agent])
