"""LOBSTER, the interchange format of academic limit-order-book data: the format, and reading it.

A LOBSTER *message file* has one row per book event, six comma-separated columns and no
header::

    Time, Type, Order ID, Size, Price, Direction

* Time: seconds after midnight (decimal, ns resolution here);
* Type: 1 new limit order, 2 partial cancel, 3 full delete, 4 execution of a visible
  limit order, 5 execution of a hidden order, 6 cross trade, 7 trading halt;
* Size: shares (lots); Price: dollar price x 10000 (an integer);
* Direction: -1 sell, 1 buy limit order; for an execution, the side of the *resting* order.

The *order-book file* has one row per message: the book after that message, as
``Ask Price 1, Ask Size 1, Bid Price 1, Bid Size 1, ...`` for N levels; an empty level is
written ``9999999999, 0`` (ask) or ``-9999999999, 0`` (bid).

Reading (:func:`read_messages`, :func:`read_orderbook`) takes files as real ones are:
columns after the sixth are ignored, every type 1-7 is accepted, and it is vectorised.
Writing is :mod:`lobsim.data.lobster_export`; rebuilding the book, re-syncing it with an
order-book file and scoring the replay are :mod:`lobsim.data.lobster_sync` and
:mod:`lobsim.data.lobster_score`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np

from lobsim.errors import InputError
from lobsim.book.orders import MAX_PRICE, MAX_QTY
from lobsim.data.tape import CROSS, DELETE, EXECUTE, EXECUTE_HIDDEN, HALT, NEW, PARTIAL_CANCEL, TYPES

__all__ = ["BOOK_TYPES", "CROSS", "DEFAULT_START_S", "DELETE", "EMPTY_ASK", "EMPTY_BID", "EXECUTE",
           "EXECUTE_HIDDEN", "HALT", "NEW", "PARTIAL_CANCEL", "TYPES", "LobsterMessage", "Messages",
           "price_factor", "read_messages", "read_orderbook"]

#: Seconds after midnight that a run's time 0 becomes on export (9:30, the NASDAQ open).
DEFAULT_START_S = 34200
EMPTY_ASK = 9999999999  #: price LOBSTER writes for an empty ask level (size 0)
EMPTY_BID = -9999999999  #: price LOBSTER writes for an empty bid level (size 0)


def price_factor(tick_size: float) -> int:
    """LOBSTER price units (1/10000 of a price unit) per tick; the tick must be a multiple
    of 0.0001."""
    if not (isinstance(tick_size, (int, float)) and math.isfinite(tick_size) and tick_size > 0):
        raise InputError(f"tick size must be a positive number, got {tick_size!r}")
    factor = round(tick_size * 10000)
    if factor < 1 or not math.isclose(factor, tick_size * 10000, rel_tol=1e-9):
        raise InputError(f"tick size {tick_size!r} is not a multiple of 0.0001 (LOBSTER prices "
                         "are price x 10000 integers)")
    return factor


#: Types that change the visible book (the others are only counted).
BOOK_TYPES = (NEW, PARTIAL_CANCEL, DELETE, EXECUTE)
_INT64 = (-(1 << 63), (1 << 63) - 1)


@dataclass(frozen=True)
class LobsterMessage:
    """One parsed message-file row (``row`` is its 1-based line number)."""

    row: int
    time_ns: int  #: nanoseconds after midnight
    type: int
    order_id: int
    size: int  #: lots
    price: int  #: LOBSTER units (price x 10000)
    direction: int

    @property
    def time(self) -> float:
        """Seconds after midnight (a float: for display only; compute with ``time_ns``)."""
        return self.time_ns / 1e9


@dataclass(frozen=True, eq=False)
class Messages(Sequence[LobsterMessage]):
    """A whole message file as int64 columns, one entry per row (blank lines skipped).

    Indexing or iterating gives :class:`LobsterMessage` rows; vectorised code reads the
    columns. ``extra_columns`` counts rows with more than six columns (ignored)."""

    source: str
    rows: np.ndarray  #: 1-based line numbers
    time_ns: np.ndarray  #: nanoseconds after midnight
    type: np.ndarray
    order_id: np.ndarray
    size: np.ndarray  #: lots
    price: np.ndarray  #: LOBSTER units
    direction: np.ndarray
    extra_columns: int = 0

    def columns(self) -> tuple[list[int], ...]:
        """The seven columns as Python lists (row, time_ns, type, id, size, price,
        direction), for row-by-row loops. O(n)."""
        return tuple(a.tolist() for a in (self.rows, self.time_ns, self.type, self.order_id,
                                          self.size, self.price, self.direction))

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int | slice) -> Any:  # type: ignore[override]  # a row, or a list of rows
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return LobsterMessage(*(int(a[i]) for a in (self.rows, self.time_ns, self.type, self.order_id,
                                                    self.size, self.price, self.direction)))

    def __iter__(self) -> Iterator[LobsterMessage]:
        return itertools.starmap(LobsterMessage, zip(*self.columns()))


def _read_text(path: Path) -> bytes:
    """A file's bytes, checked to be non-empty UTF-8; :class:`InputError` for a missing or
    unreadable file, a byte that is not UTF-8 (naming its line) or no rows."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x})") from None
    if not text.strip():
        raise InputError(f"{path}:1: empty file (expected one CSV row per line)")
    return data


def _lines(path: Path, data: bytes) -> list[tuple[int, str]]:
    """The non-blank lines with their 1-based numbers (the slow, exact path)."""
    text = data.decode("utf-8-sig")
    # split("\n"), not splitlines(): form feeds and the like must not shift line numbers
    return [(n, line.rstrip("\r")) for n, line in enumerate(text.split("\n"), start=1) if line.strip()]


def _arrow_columns(data: bytes, types: dict[str, Any]) -> tuple[list[np.ndarray], int] | None:
    """The typed columns ``types`` of a headerless CSV through Arrow's C++ parser, and the
    file's column count; None when it cannot parse them all or the file has blank lines
    (then the Python path reads the file and names the bad line). One row per line is what
    keeps the line numbers exact."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    try:
        table = pacsv.read_csv(pa.BufferReader(data),
                               # one thread: a pool thread still starting when a short command
                               # exits has aborted it ("terminate called ...") on a loaded machine
                               read_options=pacsv.ReadOptions(autogenerate_column_names=True,
                                                              use_threads=False),
                               convert_options=pacsv.ConvertOptions(column_types=types))
    except (pa.ArrowException, ValueError):
        return None
    lines = data.count(b"\n") + (not data.endswith(b"\n"))
    if table.num_rows != lines or table.num_columns < len(types) \
            or any(table.column(name).null_count for name in types):
        return None
    return [table.column(name).to_numpy() for name in types], table.num_columns


def _fast_time_ns(text: np.ndarray) -> np.ndarray | None:
    """Vectorised :func:`_time_ns` for the common ``S.FFFFFFFFF`` form; None otherwise."""
    seconds, _, fraction = np.strings.partition(text.astype(str), ".")
    ok = (np.strings.isdigit(seconds) & (np.strings.str_len(seconds) <= 9)
          & (np.strings.isdigit(fraction) | (fraction == "")) & (np.strings.str_len(fraction) <= 9))
    if not ok.all():
        return None
    return seconds.astype(np.int64) * 1_000_000_000 + np.strings.ljust(fraction, 9, "0").astype(np.int64)


def _int(text: str, what: str, where: str) -> int:
    """An integer field: ``12`` or ``12.0``; :class:`InputError` naming ``where`` otherwise."""
    try:
        value = int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            raise InputError(f"{where}: {what} must be a number, got {text.strip()!r}") from None
        if not number.is_integer():
            raise InputError(f"{where}: {what} must be an integer, got {text.strip()!r}") from None
        value = int(number)
    if not _INT64[0] <= value <= _INT64[1]:
        raise InputError(f"{where}: {what} is out of range, got {text.strip()!r}")
    return value


def _time_ns(text: str) -> int:
    """Decimal seconds -> integer ns, exactly (no float rounding; more than 9 decimals are
    rounded half-even); ValueError unless a number in [0, 1e9) seconds."""
    seconds, dot, fraction = text.strip().partition(".")
    if seconds.isdigit() and len(seconds) <= 9 and (fraction.isdigit() and len(fraction) <= 9
                                                    or not (dot or fraction)):
        return int(seconds) * 1_000_000_000 + int(fraction.ljust(9, "0") or 0)
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite() or value < 0 or value >= 10**9:  # ns must fit int64
        raise ValueError(text)
    return int((value * 1_000_000_000).to_integral_value(ROUND_HALF_EVEN))


def _parse_row(fields: list[str], where: str) -> tuple[int, ...]:
    """One message row's six numbers, or :class:`InputError` naming the bad field."""
    try:
        time = _time_ns(fields[0])
    except ValueError:
        raise InputError(f"{where}: time must be a non-negative number of seconds, got "
                         f"{fields[0].strip()!r}") from None
    names = ("type", "order id", "size", "price", "direction")
    return (time, *(_int(text, name, where) for name, text in zip(names, fields[1:6])))


def _message_columns(path: Path, lines: list[tuple[int, str]]) -> tuple[list[list[str]], list]:
    """Split rows into fields; refuse a row with fewer than six."""
    split = [line.split(",") for _, line in lines]
    for (number, _), fields in zip(lines, split):
        if len(fields) < 6:
            raise InputError(f"{path}:{number}: expected 6 columns (time, type, order id, size, "
                             f"price, direction), got {len(fields)}")
    return split, [n for n, _ in lines]


def _convert(path: Path, split: list[list[str]], numbers: list[int]) -> list[np.ndarray]:
    """Six int64 columns parsed row by row (the exact path, naming the first bad field)."""
    rows = [_parse_row(fields, f"{path}:{n}") for n, fields in zip(numbers, split)]
    return [np.asarray(c, dtype=np.int64) for c in zip(*rows)]


def _first_bad(path: Path, numbers: np.ndarray, checks: list[tuple[np.ndarray, Any]]) -> None:
    """Raise for the earliest row that fails any check (mask, message(i) callable)."""
    found = [(int(np.argmax(bad)), say) for bad, say in checks if bad.any()]
    if found:
        i, say = min(found, key=lambda f: f[0])
        raise InputError(f"{path}:{numbers[i]}: {say(i)}")


def _validate_messages(path: Path, m: Messages) -> None:
    book = np.isin(m.type, BOOK_TYPES)
    back = np.zeros(len(m), dtype=bool)
    back[1:] = m.time_ns[1:] < m.time_ns[:-1]
    _first_bad(path, m.rows, [
        (~np.isin(m.type, TYPES), lambda i: f"type must be one of 1-7, got {m.type[i]}"),
        (book & (np.abs(m.direction) != 1),
         lambda i: f"direction must be 1 (buy) or -1 (sell), got {m.direction[i]}"),
        (book & ((m.size <= 0) | (m.size >= MAX_QTY) | (m.price <= 0) | (m.price >= MAX_PRICE)),
         lambda i: f"size and price must be positive (and below 2**62) for type {m.type[i]}, "
                   f"got size {m.size[i]}, price {m.price[i]}"),
        (back, lambda i: f"time {m.time_ns[i] / 1e9:.9f} goes back before "
                         f"{m.time_ns[i - 1] / 1e9:.9f} (row {m.rows[i - 1]})"),
    ])


def read_messages(path: Path) -> Messages:
    """Read a whole message file. Columns after the sixth (e.g. a market-participant
    attribution) are ignored and counted; all types 1-7 are accepted. Vectorised (Arrow's
    CSV parser; O(rows), ~0.2 s for 40,000 rows here) with an exact row-by-row path for
    anything else, e.g. blank lines or ``12.0``. :class:`InputError` names the file and line
    of the first bad row: fewer than six columns, a field that is not a number, an unknown
    type, a book event (types 1-4) without direction +-1 or positive size and price, time
    going back; also a missing, empty or non-UTF-8 file."""
    import pyarrow as pa

    path = Path(path)
    data = _read_text(path)
    fast = _arrow_columns(data, {f"f{i}": pa.string() if i == 0 else pa.int64() for i in range(6)})
    time_ns = _fast_time_ns(fast[0][0]) if fast is not None else None
    if fast is not None and time_ns is not None:
        rows = np.arange(1, len(time_ns) + 1, dtype=np.int64)
        columns, extra = [time_ns, *fast[0][1:]], len(rows) if fast[1] > 6 else 0
    else:
        split, numbers = _message_columns(path, _lines(path, data))
        rows, columns = np.asarray(numbers, dtype=np.int64), _convert(path, split, numbers)
        extra = sum(len(fields) > 6 for fields in split)
    messages = Messages(str(path), rows, *columns, extra_columns=extra)
    _validate_messages(path, messages)
    return messages


def read_orderbook(path: Path, levels: int | None = None) -> np.ndarray:
    """An order-book file as an int64 array (rows x 4N); the row width fixes N (or must be
    ``4 * levels``). Vectorised as :func:`read_messages`. :class:`InputError` names the
    first bad line: a width that is not a multiple of 4 or differs from the first row's, a
    field that is not an integer, a negative size, a level with lots whose price is not
    positive or a value of 2**62 or more; also a missing, empty or non-UTF-8 file."""
    import pyarrow as pa

    path = Path(path)
    data = _read_text(path)
    first = data.lstrip(b"\xef\xbb\xbf\r\n \t").split(b"\n", 1)[0]
    width = 4 * levels if levels is not None else first.count(b",") + 1
    fast = _arrow_columns(data, {f"f{i}": pa.int64() for i in range(width)}) if width % 4 == 0 else None
    if fast is not None and fast[1] == width:
        book, numbers = np.column_stack(fast[0]), np.arange(1, len(fast[0][0]) + 1)
    else:
        book, numbers = _orderbook_rows(path, _lines(path, data), width)
    prices, sizes = book[:, 0::2], book[:, 1::2]
    _first_bad(path, numbers, [
        ((sizes < 0).any(axis=1), lambda i: "a size is negative"),
        ((sizes >= MAX_QTY).any(axis=1) | ((sizes > 0) & ((prices <= 0) | (prices >= MAX_PRICE))).any(axis=1),
         lambda i: "a level with lots needs a price and a size between 1 and 2**62"),
    ])
    return book.reshape(len(book), width)


def _orderbook_rows(path: Path, lines: list[tuple[int, str]], width: int) -> tuple[np.ndarray, np.ndarray]:
    """The exact row-by-row path of :func:`read_orderbook`."""
    rows = []
    for number, line in lines:
        fields = line.split(",")
        if len(fields) % 4 or len(fields) != width:
            raise InputError(f"{path}:{number}: expected 4 columns per level ({width}), got {len(fields)}")
        rows.append([_int(f, f"column {i + 1}", f"{path}:{number}") for i, f in enumerate(fields)])
    return np.asarray(rows, dtype=np.int64), np.asarray([n for n, _ in lines])


#: Names that moved out of this module, still importable from it (``lobster.export_run``,
#: ``lobster.replay``) for code written before the split; resolved lazily, since those
#: modules import this one.
_MOVED = {"export_run": "lobsim.data.lobster_export", "replay": "lobsim.data.lobster_score",
          "ReplayResult": "lobsim.data.lobster_score"}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
