"""Writing a run's directory: events, book and agent series as Parquet, a summary, and
the resolved scenario.

All files are written into a temporary directory beside the target and moved into place
only when every one of them is complete, so a failed run leaves nothing half-written. The
Parquet files are written as the run goes (:class:`RunFiles`, a
:class:`lobsim.sim.recorder.Sink`), in row groups, so a long run needs no more memory than a
short one; a run held in memory is written through the same sink (:func:`write_run`).
"""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from lobsim.scenario.config import Scenario
from lobsim.fileio import staged_directory
from lobsim.sim.market import RunResult
from lobsim.sim.recorder import COLUMNS, EventColumns

#: Bumped whenever a column of events.parquet changes meaning.
EVENTS_SCHEMA_VERSION = "1"

EVENTS_SCHEMA = pa.schema([
    ("seq", pa.int64()), ("time_ns", pa.int64()), ("kind", pa.string()), ("agent", pa.string()),
    ("order_id", pa.int64()), ("side", pa.int8()), ("price", pa.int64()), ("qty", pa.int64()),
    ("flag", pa.string()),
])
BOOK_SCHEMA = pa.schema([("time_ns", pa.int64()), ("side", pa.int8()), ("level", pa.int16()),
                         ("price", pa.int64()), ("qty", pa.int64())])
AGENTS_SCHEMA = pa.schema([("time_ns", pa.int64()), ("agent", pa.string()), ("cash", pa.int64()),
                           ("inventory", pa.int64()), ("pnl2", pa.int64()),
                           ("spread_capture2", pa.int64()), ("fills", pa.int64())])


#: Rows in each Parquet row group (the last one of a file may hold fewer): the unit in
#: which a run's files are written as it goes, and so the bound on the rows a writer holds.
#: Row groups are cut at multiples of it whatever batches the rows come in, so a file's
#: bytes depend only on its rows. Why this size: docs/streaming.md.
ROW_GROUP_ROWS = 1 << 16


def _table(rows: list[tuple], schema: pa.Schema) -> pa.Table:
    """Rows (tuples in ``schema``'s order) as a table. O(rows x columns).

    The collector is paused meanwhile: transposing the rows allocates a column tuple per
    field, and the collections that triggered walked every row again, four fifths of this
    function's time on a 178,000-row log (docs/market.md). Nothing here makes a cycle."""
    paused = gc.isenabled()
    gc.disable()
    try:
        columns = list(zip(*rows)) if rows else [[] for _ in schema]
    finally:
        if paused:
            gc.enable()
    arrays = [pa.array(column, type=f.type) for column, f in zip(columns, schema)]
    return pa.Table.from_arrays(arrays, schema=schema)


def _events_table(log: EventColumns) -> pa.Table:
    """Event rows as a table, straight from the recorder's columns (no Python object per
    value)."""
    arrays = []
    for f, (values, null, labels) in zip(EVENTS_SCHEMA, log.columns().values()):
        if labels is not None:
            codes = pa.array(values, mask=values < 0)
            arrays.append(pa.array(labels, type=pa.string()).take(codes))
        else:
            arrays.append(pa.array(values, mask=null, type=f.type))
    return pa.Table.from_arrays(arrays, schema=EVENTS_SCHEMA)


class _ParquetFile:
    """One Parquet file written as rows arrive: row groups of exactly
    :data:`ROW_GROUP_ROWS` rows, whatever the sizes of the tables given to :meth:`write`
    (the rest waits for more rows, or for :meth:`close`). Each row group is written from
    one contiguous table, so where the batches were cut leaves no trace in the bytes.
    Memory: under 2 x ROW_GROUP_ROWS rows held."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.schema = schema
        # Fixed writer options: the same rows always give the same bytes. Dictionaries
        # for the string columns only, and delta encoding for the ascending ones: integer
        # dictionaries cost more than zstd saves at this row-group size (docs/streaming.md).
        strings = [f.name for f in schema if f.type == pa.string()]
        ascending = {name: "DELTA_BINARY_PACKED" for name in ("seq", "time_ns") if name in schema.names}
        self.writer = pq.ParquetWriter(path, schema, compression="zstd", use_dictionary=strings,
                                       column_encoding=ascending, write_statistics=True)
        self.held: list[pa.Table] = []
        self.held_rows = 0
        self.groups = 0

    def write(self, table: pa.Table) -> None:
        self.held.append(table)
        self.held_rows += table.num_rows
        if self.held_rows >= ROW_GROUP_ROWS:
            whole = pa.concat_tables(self.held)
            cut = whole.num_rows - whole.num_rows % ROW_GROUP_ROWS
            for start in range(0, cut, ROW_GROUP_ROWS):
                self._group(whole.slice(start, ROW_GROUP_ROWS))
            rest = whole.slice(cut)
            self.held, self.held_rows = ([rest] if rest.num_rows else []), rest.num_rows

    def _group(self, table: pa.Table) -> None:
        self.writer.write_table(table.combine_chunks(), row_group_size=ROW_GROUP_ROWS)
        self.groups += 1

    def close(self) -> None:
        """Write the rows still held (an empty file still gets one empty row group, as
        ``pyarrow.parquet.write_table`` gives) and the footer."""
        if self.held_rows or not self.groups:
            self._group(pa.concat_tables(self.held) if self.held else self.schema.empty_table())
        self.held = []
        self.writer.close()


class RunFiles:
    """The file sink (:class:`lobsim.sim.recorder.Sink`): a run's events, book and agent rows
    written to ``events.parquet``, ``book.parquet`` and ``agents.parquet`` in ``directory``
    as the run hands them over. Open it with :func:`run_directory`."""

    #: rows an engine holds before handing them over: one row group's worth
    batch_rows = ROW_GROUP_ROWS

    def __init__(self, directory: Path, metadata: dict[str, str]) -> None:
        units = {**metadata, "lobsim.units": "cash: tick-lots; pnl2, spread_capture2: "
                                             "half-tick-lots; inventory: lots"}
        self._events = _ParquetFile(directory / "events.parquet", EVENTS_SCHEMA.with_metadata(metadata))
        self._book = _ParquetFile(directory / "book.parquet", BOOK_SCHEMA.with_metadata(metadata))
        self._agents = _ParquetFile(directory / "agents.parquet", AGENTS_SCHEMA.with_metadata(units))
        #: what ``summary.json`` will hold; the caller sets it once the run is over
        self.summary: dict[str, Any] | None = None

    def events(self, log: EventColumns) -> None:
        self._events.write(_events_table(log))

    def book(self, rows: list[tuple]) -> None:
        self._book.write(_table(rows, BOOK_SCHEMA))

    def agents(self, rows: list[tuple]) -> None:
        self._agents.write(_table(rows, AGENTS_SCHEMA))

    def close(self) -> None:
        for file in (self._events, self._book, self._agents):
            file.close()


def _metadata(scenario: Scenario) -> dict[str, str]:
    market = scenario.market
    return {"lobsim.schema_version": EVENTS_SCHEMA_VERSION,
            "lobsim.tick_size": repr(market.tick_size), "lobsim.symbol": market.symbol,
            "lobsim.units": "price: ticks; qty: lots; time: ns of simulated time"}


@contextlib.contextmanager
def run_directory(out_dir: Path, scenario: Scenario, resolved_toml: str) -> Iterator[RunFiles]:
    """A :class:`RunFiles` sink writing into a staged directory
    (:func:`lobsim.fileio.staged_directory`). When the block ends, with the sink's
    ``summary`` set, the files are completed, ``summary.json`` and
    ``scenario.resolved.toml`` written, and all of them moved into ``out_dir`` (created if
    needed; files there are replaced). On any error, or without a summary, nothing is
    moved: a failed run never leaves files that look complete."""
    with staged_directory(out_dir) as staging:
        files = RunFiles(staging, _metadata(scenario))
        try:
            yield files
        finally:
            files.close()  # the writers let go of their files either way
        if files.summary is None:
            raise RuntimeError("run_directory: the block ended without setting the summary")
        (staging / "summary.json").write_text(json.dumps(files.summary, indent=2) + "\n")
        (staging / "scenario.resolved.toml").write_text(resolved_toml)


def write_run(result: RunResult, out_dir: Path, resolved_toml: str) -> list[Path]:
    """Write a run held in memory (a :class:`~lobsim.sim.recorder.MemorySink`'s result) into
    ``out_dir`` (created if needed; files there are replaced): the same bytes as the run
    streamed to :func:`run_directory`. Returns the files' paths."""
    if result.event_log is None:
        raise ValueError("write_run: this run streamed its rows elsewhere; it holds none")
    with run_directory(out_dir, result.scenario, resolved_toml) as files:
        files.events(result.event_log)
        files.book(result.book_rows)
        files.agents(result.agent_rows)
        files.summary = result.summary
    return [Path(out_dir) / name for name in RUN_FILES]


#: The files of a run directory, in name order.
RUN_FILES = ("agents.parquet", "book.parquet", "events.parquet", "scenario.resolved.toml",
             "summary.json")


assert len(COLUMNS) == len(EVENTS_SCHEMA), "recorder rows and the events schema must agree"
