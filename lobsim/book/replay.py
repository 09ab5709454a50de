"""Replay a JSON-lines message file through an :class:`~lobsim.book.orderbook.OrderBook`.

Message lines (``tif`` and ``post_only`` optional)::

    {"op":"limit","id":1,"owner":"a","side":"buy","price":10000,"qty":5,"tif":"gtc","post_only":false}
    {"op":"market","id":2,"owner":"b","side":"sell","qty":3}
    {"op":"cancel","id":1}
    {"op":"modify","id":1,"qty":2,"price":10001}

A line that is not a JSON object, or has no known ``op``, is an :class:`InputError`
naming its line number. Bad *values* in a well-formed line (a float price, an unknown
side, a missing qty) are passed to the book unchanged and come back as rejects.
Blank lines are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from lobsim.book.orderbook import OrderBook
from lobsim.errors import InputError
from lobsim.book.orders import Side, TimeInForce
from lobsim.book.reports import Cancelled, Modified, Rejected, Report, Traded

Message = dict[str, Any]



def read_messages(path: Path, check_first: bool = True) -> Iterator[Message]:
    """An iterator over the messages of ``path``, reading one line at a time: memory stays
    constant in the number of lines.

    With ``check_first`` every line is checked before this returns (the file is then
    read twice), so that a bad line stops a replay before any output; a caller whose
    output is discarded on error anyway (an :func:`lobsim.fileio.atomic_write`) saves the
    first pass. Raises :class:`InputError` for a missing file or a malformed line (the
    iterator too: with ``check_first``, only if the file changed in between)."""
    if check_first:
        with _open(path) as handle:
            for _ in parse_lines(handle, str(path)):
                pass
    else:
        _open(path).close()  # a missing file fails here, not at the first line
    return _stream(path)


def _stream(path: Path) -> Iterator[Message]:
    with _open(path) as handle:
        yield from parse_lines(handle, str(path))


def _open(path: Path) -> IO[str]:
    try:
        return path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None


def parse_lines(lines: Iterable[str], source: str) -> Iterator[Message]:
    """Yield each non-blank line's message; :class:`InputError` names the first bad line."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            message = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{source}:{number}: not valid JSON ({exc.msg if hasattr(exc, 'msg') else exc})") from None
        if not isinstance(message, dict):
            raise InputError(f"{source}:{number}: expected a JSON object, got {type(message).__name__}")
        if message.get("op") not in _APPLY:
            raise InputError(
                f"{source}:{number}: unknown op {message.get('op')!r} (expected one of: {', '.join(_APPLY)})")
        yield message


def apply(book: OrderBook, message: Message) -> Iterable[Report]:
    """Apply one parsed message to ``book`` and return its reports."""
    return _APPLY[message["op"]](book, message)


def _limit(book: OrderBook, m: Message) -> Iterable[Report]:
    return book.limit(m.get("id"), m.get("owner"), Side.parse(m.get("side")), m.get("price"),
                      m.get("qty"), TimeInForce.parse(m.get("tif", "gtc")),
                      m.get("post_only", False))


def _market(book: OrderBook, m: Message) -> Iterable[Report]:
    return book.market(m.get("id"), m.get("owner"), Side.parse(m.get("side")), m.get("qty"))


def _cancel(book: OrderBook, m: Message) -> Iterable[Report]:
    return book.cancel(m.get("id"))


def _modify(book: OrderBook, m: Message) -> Iterable[Report]:
    return book.modify(m.get("id"), qty=m.get("qty"), price=m.get("price"))


_APPLY: dict[str, Callable[[OrderBook, Message], Iterable[Report]]] = {
    "limit": _limit, "market": _market, "cancel": _cancel, "modify": _modify,
}


def event_of(report: Report) -> dict[str, Any]:
    """The event-log form of a report (one JSON object per line in ``lobsim replay``)."""
    if type(report) is Traded:
        return {"event": "trade", "price": report.price, "qty": report.qty,
                "maker": report.maker, "taker": report.taker, "aggressor": report.aggressor.label}
    if type(report) is Cancelled:
        return {"event": "cancel", "id": report.order_id, "qty": report.qty}
    if type(report) is Rejected:
        return {"event": "reject", "id": report.order_id, "reason": report.reason.value}
    if type(report) is Modified:
        return {"event": "modify", "id": report.order_id, "price": report.price, "qty": report.qty}
    raise TypeError(f"not a report: {report!r}")


def replay(messages: Iterable[Message], book: OrderBook | None = None) -> Iterator[dict[str, Any]]:
    """Run ``messages`` through ``book`` (a new one by default), yielding events in order."""
    book = OrderBook() if book is None else book
    for message in messages:
        for report in apply(book, message):
            yield event_of(report)
