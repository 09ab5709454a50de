"""Per-agent accounts: cash, inventory, fees and realized spread capture, in integers.

Units: cash in tick-lots (price ticks x lots; multiply by tick_size for price units x
lots), inventory in lots, fees in tick-lots, spread capture in half-tick-lots (the mid
may sit between two ticks, so it is kept doubled: ``mid2 = bid + ask``).

Spread capture of a fill = qty x (mid - price) for a buy, qty x (price - mid) for a
sell, with the mid just before the fill: positive when buying below or selling above
the mid.
"""

from __future__ import annotations

from dataclasses import dataclass


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

    def __init__(self, n: int) -> None:
        self.cash = [0] * n
        self.inventory = [0] * n
        self.fees = [0] * n
        self.spread_capture2 = [0] * n
        self.fills = [0] * n
        self.volume = [0] * n
        self.fee_income = 0  #: what the exchange collected, tick-lots

    def fill(self, agent: int, sign: int, price: int, qty: int, mid2: int, fee_per_lot: int) -> None:
        """Book one fill: ``sign`` +1 for a buy, -1 for a sell; ``price`` ticks; ``qty`` lots."""
        self.cash[agent] -= sign * price * qty + fee_per_lot * qty
        self.inventory[agent] += sign * qty
        self.fees[agent] += fee_per_lot * qty
        self.fee_income += fee_per_lot * qty
        self.spread_capture2[agent] += sign * (mid2 - 2 * price) * qty
        self.fills[agent] += 1
        self.volume[agent] += qty

    def account(self, agent: int) -> Account:
        return Account(self.cash[agent], self.inventory[agent], self.fees[agent],
                       self.spread_capture2[agent], self.fills[agent], self.volume[agent])
