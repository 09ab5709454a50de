"""Every message and report of a run, in order, ready for ``events.parquet``.

A row is ``(seq, time_ns, kind, agent, order_id, side, price, qty, flag)``:

* ``seq``: global sequence number, the order in which things happened (the row's index);
* ``kind``: a request as it reaches the exchange (``limit``, ``market``, ``cancel``,
  ``modify``) or an outcome (``accepted``, ``rejected``, ``cancel_rejected``, ``fill``,
  ``cancelled``, ``modified``);
* ``side`` +1 buy / -1 sell, ``price`` ticks, ``qty`` lots (null where they do not apply);
* ``flag``: the reject reason, the cancel cause, or ``maker``/``taker`` for fills.

Rows are appended as tuples (one append per row on the hot path) and become columns
only when the run is written. The compiled engine (``lobsim/sim/_cmarket.pyx``) records
columns of integer codes instead: :class:`EventColumns`, which gives the same rows.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np

COLUMNS = ("seq", "time_ns", "kind", "agent", "order_id", "side", "price", "qty", "flag")
#: Every ``kind``, in the order of the compiled engine's codes.
KINDS = ("limit", "market", "cancel", "modify", "accepted", "rejected", "cancel_rejected",
         "fill", "cancelled", "modified")
#: Null in :class:`EventColumns`' integer columns (side: 0; flag: -1).
NULL_INT = np.iinfo(np.int64).min


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


@dataclass(frozen=True)
class EventColumns:
    """An event log as columns (what the compiled engine records), one entry per row.

    ``kind``, ``agent`` and ``flag`` are codes into ``kinds``, ``agents`` and ``flags``
    (flag -1: null); ``order_id``, ``price`` and ``qty`` hold :data:`NULL_INT` for null,
    ``side`` 0. ``seq`` is the row's index.
    """

    time_ns: np.ndarray
    kind: np.ndarray
    kinds: list[str]
    agent: np.ndarray
    agents: list[str]
    order_id: np.ndarray
    side: np.ndarray
    price: np.ndarray
    qty: np.ndarray
    flag: np.ndarray
    flags: list[str]

    def __len__(self) -> int:
        return len(self.time_ns)

    def columns(self) -> dict[str, tuple[np.ndarray, np.ndarray | None, list[str] | None]]:
        """{column: (values, null mask or None, labels for coded strings or None)}, in
        :data:`COLUMNS` order."""
        return {
            "seq": (np.arange(len(self), dtype=np.int64), None, None),
            "time_ns": (self.time_ns, None, None),
            "kind": (self.kind, None, self.kinds),
            "agent": (self.agent, None, self.agents),
            "order_id": (self.order_id, self.order_id == NULL_INT, None),
            "side": (self.side, self.side == 0, None),
            "price": (self.price, self.price == NULL_INT, None),
            "qty": (self.qty, self.qty == NULL_INT, None),
            "flag": (self.flag, self.flag < 0, self.flags),
        }

    def rows(self) -> list[tuple]:
        """The log as the Python :class:`Recorder`'s row tuples."""
        lists = []
        for values, null, labels in self.columns().values():
            column = values.tolist()
            if labels is not None:
                column = [None if code < 0 else labels[code] for code in column]
            elif null is not None:
                column = [None if gone else value for value, gone in zip(column, null.tolist())]
            lists.append(column)
        return list(zip(*lists))
