"""Who owns each accepted order id, for the whole run, in 4 bytes an id.

The exchange drops an order's record when the order leaves the book (see
``Exchange._retire``), so that a long run's memory does not grow with every order it
ever accepted. A cancel or modify that names a finished order must still get the answer
it always got: ``not_owner`` from anyone but its owner, the book's ``unknown_id`` from
its owner. That needs the owner only, so this table keeps just that: the owning
session's index (an int32) per id, in fixed blocks of :data:`BLOCK` ids, so that
growing it never copies what it already holds. The compiled engine keeps the same
table in C (``Engine.owner_blocks`` in ``lobsim/sim/_cmarket.pyx``).

Ids come from the exchange's counter (1, 2, ...), so they are dense and the blocks
nearly full. Costs: O(1) per :meth:`Owners.set` and :meth:`Owners.get`; memory 4 B per
id up to the largest accepted one, rounded up to a block (256 KiB).
"""

from __future__ import annotations

from array import array
from collections.abc import Hashable

BLOCK_BITS = 16
BLOCK = 1 << BLOCK_BITS  #: ids per block
_NO_ORDER = array("i", [-1]) * BLOCK  # a block in which no id was accepted


class Owners:
    """Order id -> index of the session that owns it (-1: no order accepted under it)."""

    def __init__(self) -> None:
        self._blocks: list[array] = []

    def set(self, order_id: int, index: int) -> None:
        """Session ``index`` (0 <= index < 2**31) owns the accepted order ``order_id`` (an
        int >= 1, from the exchange's counter). Amortized O(1)."""
        block = order_id >> BLOCK_BITS
        blocks = self._blocks
        while len(blocks) <= block:
            blocks.append(array("i", _NO_ORDER))
        blocks[block][order_id & (BLOCK - 1)] = index

    def get(self, order_id: Hashable) -> int:
        """The owner's session index, or -1 if no order was accepted under ``order_id``.

        Any value may be asked about, as a dict lookup would be: one equal to an int id
        as a dict key (``True``, ``1.0``) finds that id; anything else finds nothing. O(1).
        """
        if type(order_id) is not int:
            order_id = _as_int(order_id)
            if order_id is None:
                return -1
        block = order_id >> BLOCK_BITS
        if order_id <= 0 or block >= len(self._blocks):
            return -1
        return self._blocks[block][order_id & (BLOCK - 1)]

    def __len__(self) -> int:
        """Ids the table has room for (a multiple of :data:`BLOCK`)."""
        return len(self._blocks) * BLOCK


def _as_int(value: Hashable) -> int | None:
    """The int that ``value`` equals as a dict key (same hash, ==), or None."""
    try:
        number = int(value)  # type: ignore[call-overload]
        return number if number == value and hash(number) == hash(value) else None
    except (TypeError, ValueError, ArithmeticError):
        return None
