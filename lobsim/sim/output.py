"""Writing a run's directory: events, book and agent series as Parquet, a summary, and
the resolved scenario.

All files are written into a temporary directory beside the target and moved into place
only when every one of them is complete, so a failed run leaves nothing half-written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

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


def _table(rows: list[tuple], schema: pa.Schema, metadata: dict[str, str]) -> pa.Table:
    columns = list(zip(*rows)) if rows else [[] for _ in schema]
    arrays = [pa.array(column, type=f.type) for column, f in zip(columns, schema)]
    return pa.Table.from_arrays(arrays, schema=schema.with_metadata(metadata))


def _events_table(log: list[tuple] | EventColumns, metadata: dict[str, str]) -> pa.Table:
    """The event log as a table: from rows, or straight from the compiled engine's columns
    (the same table, without a Python object per value)."""
    if not isinstance(log, EventColumns):
        return _table(log, EVENTS_SCHEMA, metadata)
    arrays = []
    for f, (values, null, labels) in zip(EVENTS_SCHEMA, log.columns().values()):
        if labels is not None:
            codes = pa.array(values, mask=values < 0)
            arrays.append(pa.array(labels, type=pa.string()).take(codes))
        else:
            arrays.append(pa.array(values, mask=null, type=f.type))
    return pa.Table.from_arrays(arrays, schema=EVENTS_SCHEMA.with_metadata(metadata))


def _write_parquet(table: pa.Table, path: Path) -> None:
    # Fixed writer options: the same table always gives the same bytes.
    pq.write_table(table, path, compression="zstd", use_dictionary=True, write_statistics=True)


def write_run(result: RunResult, out_dir: Path, resolved_toml: str) -> list[Path]:
    """Write the run into ``out_dir`` (created if needed; files there are replaced)."""
    market = result.scenario.market
    metadata = {"lobsim.schema_version": EVENTS_SCHEMA_VERSION,
                "lobsim.tick_size": repr(market.tick_size), "lobsim.symbol": market.symbol,
                "lobsim.units": "price: ticks; qty: lots; time: ns of simulated time"}
    with staged_directory(out_dir) as staging:
        _write_parquet(_events_table(result.event_log, metadata), staging / "events.parquet")
        _write_parquet(_table(result.book_rows, BOOK_SCHEMA, metadata), staging / "book.parquet")
        _write_parquet(_table(result.agent_rows, AGENTS_SCHEMA,
                              {**metadata, "lobsim.units": "cash: tick-lots; pnl2, spread_capture2: "
                                                           "half-tick-lots; inventory: lots"}),
                       staging / "agents.parquet")
        (staging / "summary.json").write_text(json.dumps(result.summary, indent=2) + "\n")
        (staging / "scenario.resolved.toml").write_text(resolved_toml)
        names = sorted(path.name for path in staging.iterdir())
    return [Path(out_dir) / name for name in names]


assert len(COLUMNS) == len(EVENTS_SCHEMA), "recorder rows and the events schema must agree"
