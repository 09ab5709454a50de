"""Every message and report of a run, in order, ready for ``events.parquet``.

A row is ``(seq, time_ns, kind, agent, order_id, side, price, qty, flag)``:

* ``seq``: global sequence number, the order in which things happened (the row's index);
* ``kind``: a request as it reaches the exchange (``limit``, ``market``, ``cancel``,
  ``modify``) or an outcome (``accepted``, ``rejected``, ``cancel_rejected``, ``fill``,
  ``cancelled``, ``modified``);
* ``side`` +1 buy / -1 sell, ``price`` ticks, ``qty`` lots (null where they do not apply);
* ``flag``: the reject reason, the cancel cause, or ``maker``/``taker`` for fills.

Rows are appended as tuples (one append per row on the hot path) and become columns
only when the run is written.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

COLUMNS = ("seq", "time_ns", "kind", "agent", "order_id", "side", "price", "qty", "flag")


def _plain_int(value: Any) -> int | None:
    """An int field of a request as recorded: anything that is not an int becomes null,
    so that an agent's malformed order (a float price, say) cannot break the log."""
    return value if type(value) is int else None


class Recorder:
    """Collects event rows; see the module docstring."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []

    def row(self, time_ns: int, kind: str, agent: str, order_id: Hashable, side: int | None,
            price: int | None, qty: int | None, flag: str | None) -> None:
        rows = self.rows
        rows.append((len(rows), time_ns, kind, agent, _plain_int(order_id),
                          None if side is None else int(side), price, qty, flag))

    def request(self, time_ns: int, agent: str, request: tuple) -> None:
        """Record a request as it reaches the exchange (values are checked later)."""
        op, order_id = request[0], request[1]
        rows = self.rows
        if op in ("limit", "market"):
            side = request[3]
            side = int(side) if type(side) is not bool and side in (1, -1) else None
            rows.append((len(rows), time_ns, op, agent, _plain_int(order_id), side,
                              _plain_int(request[4]), _plain_int(request[5]), None))
        elif op == "modify":
            rows.append((len(rows), time_ns, op, agent, _plain_int(order_id), None,
                              _plain_int(request[3]), _plain_int(request[2]), None))
        else:
            rows.append((len(rows), time_ns, op, agent, _plain_int(order_id), None,
                              None, None, None))
