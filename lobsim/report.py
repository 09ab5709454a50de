"""``lobsim report``: figures and a self-contained HTML page about one run.

:func:`write_report` reads a run directory (``events.parquet``, ``book.parquet``,
``agents.parquet``, ``summary.json``, and ``learning_curve.csv`` when the run came from
``lobsim train``) and writes ``RUN_DIR/report/``: one PNG per figure and ``report.html``
with every figure embedded (base64) and linked by file name. Everything is staged and
moved into place at the end, so a failure leaves the previous report untouched.

Series: the best quotes after every book event (rebuilt from the event log with
:func:`lobsim.tape.book_messages`), prices in ticks, times in seconds of simulated time.
matplotlib is an optional extra, imported only here (Agg canvas, no pyplot state).
"""

from __future__ import annotations

import base64
import csv
import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from lobsim import metrics
from lobsim.errors import InputError
from lobsim.figures import CAPTIONS, fig_learning, figures, new_figure
from lobsim.fileio import staged_directory
from lobsim.tape import Depth, book_messages, read_run_events, read_summary, read_table
from lobsim.timebase import NS_PER_SECOND as NS

KURTOSIS_HORIZONS_S = (60.0, 300.0, 900.0)  #: 1, 5 and 15 minutes
SCALES_S = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0)
#: points of a sampled mid series: a longer run (over 1e7 s, 116 days at 1 s) would need
#: gigabytes for the facts, so it is refused in one line instead
MAX_GRID_POINTS = 10**7


@dataclass
class RunData:
    """What the figures need, as numpy arrays; prices in ticks, times in ns."""

    tick_size: float
    duration_ns: int
    summary: dict[str, Any]
    t: np.ndarray  #: time of each book event
    bid: np.ndarray  #: best bid after it (nan: empty)
    ask: np.ndarray
    bid_qty: np.ndarray  #: lots at the best bid after it
    ask_qty: np.ndarray
    trade_t: np.ndarray  #: one entry per incoming (taker) order that traded
    trade_sign: np.ndarray  #: +1 buyer-initiated, -1 seller-initiated
    trade_size: np.ndarray  #: lots
    trade_price: np.ndarray  #: volume-weighted ticks
    impact_before: np.ndarray  #: mid (ticks) just before the order
    impact_after: np.ndarray  #: mid (ticks) just after it
    book: dict[str, np.ndarray] = field(default_factory=dict)  #: book.parquet columns
    agents: dict[str, np.ndarray] = field(default_factory=dict)  #: agents.parquet columns
    learning: dict[str, np.ndarray] | None = None  #: learning_curve.csv columns

    @property
    def mid(self) -> np.ndarray:
        return (self.bid + self.ask) / 2


def load_run(run_dir: Path) -> RunData:
    """Read everything :func:`write_report` plots from ``run_dir``."""
    run_dir = Path(run_dir)
    summary = read_summary(run_dir / "summary.json")
    events = read_run_events(run_dir)
    depth = Depth()
    t, best, groups = [], [], []
    for message in book_messages(events.columns, depth):
        t.append(message[0])
        groups.append(message[6])
        best.append(depth.best())
    quotes = np.array([[np.nan if b is None else b, bq, np.nan if a is None else a, aq]
                       for b, bq, a, aq in best], dtype=np.float64).reshape(-1, 4)
    data = RunData(events.tick_size, round(summary.get("duration_s", 0) * NS), summary,
                   np.asarray(t, dtype=np.int64), quotes[:, 0], quotes[:, 2], quotes[:, 1],
                   quotes[:, 3], *_taker_orders(events.columns, np.asarray(groups, dtype=np.int64),
                                                (quotes[:, 0] + quotes[:, 2]) / 2))
    from lobsim.output import AGENTS_SCHEMA, BOOK_SCHEMA

    data.book = _columns(run_dir / "book.parquet", BOOK_SCHEMA, "a lobsim book file")
    data.agents = _columns(run_dir / "agents.parquet", AGENTS_SCHEMA, "a lobsim agents file")
    data.learning = _learning_curve(run_dir / "learning_curve.csv")
    if not data.duration_ns and len(data.t):
        data.duration_ns = int(data.t[-1])
    if data.duration_ns / NS / SCALES_S[0] > MAX_GRID_POINTS:  # the facts sample a grid
        raise InputError(f"{run_dir / 'summary.json'}: duration_s: a report samples the mid every "
                         f"{SCALES_S[0]:g} s, at most {MAX_GRID_POINTS:,} times; got "
                         f"{data.duration_ns / NS:.6g} s")
    return data


def _taker_orders(events: dict[str, list], groups: np.ndarray, mid: np.ndarray) -> list[np.ndarray]:
    """Per incoming order that traded: time, sign, lots, vwap, mid before and after."""
    seq = np.asarray(events["seq"], dtype=np.int64)
    kind = np.asarray(events["kind"], dtype=object)
    is_request = np.isin(kind, ["limit", "market", "cancel", "modify"])
    request = np.maximum.accumulate(np.where(is_request, seq, -1)) if len(seq) else seq
    taker = np.flatnonzero((kind == "fill") & (np.asarray(events["flag"], dtype=object) == "taker"))
    orders: dict[tuple[int, int], list] = {}
    for i in taker:
        key = (int(request[i]), int(events["order_id"][i]))
        qty, price = events["qty"][i], events["price"][i]
        entry = orders.setdefault(key, [events["time_ns"][i], events["side"][i], 0, 0])
        entry[2] += qty
        entry[3] += qty * price
    keys = list(orders)
    first = np.searchsorted(groups, [k[0] for k in keys], side="left")
    last = np.searchsorted(groups, [k[0] for k in keys], side="right") - 1
    before = np.where(first > 0, mid[np.maximum(first - 1, 0)], np.nan) if keys else np.zeros(0)
    after = mid[np.maximum(last, 0)] if keys else np.zeros(0)
    values = np.array([orders[k] for k in keys], dtype=np.float64).reshape(-1, 4)
    return [values[:, 0].astype(np.int64), values[:, 1], values[:, 2], values[:, 3] / np.maximum(values[:, 2], 1),
            before, after]


def _columns(path: Path, schema: pa.Schema, what: str) -> dict[str, np.ndarray]:
    """The columns of ``schema`` in the Parquet file at ``path`` (checked by name and type)."""
    table = read_table(path, schema, what)
    return {name: np.asarray(table.column(name).to_pylist()) for name in schema.names}


def _learning_curve(path: Path) -> dict[str, np.ndarray] | None:
    if not path.exists():
        return None
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            names = [name for name in (reader.fieldnames or ()) if name]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read the learning curve: {exc}") from None
    columns: dict[str, np.ndarray] = {}
    for name in names:
        try:
            columns[name] = np.array([float(r[name]) if r.get(name) not in ("", None) else np.nan
                                      for r in rows])
        except (TypeError, ValueError):
            continue  # a text column: not plotted
    if "step" not in columns:
        raise InputError(f"{path}: expected a 'step' column")
    return columns


# ----------------------------------------------------------------------- the facts


@dataclass
class FactSeries:
    """The series behind the stylized-fact figures and table rows."""

    interval_s: float
    returns: np.ndarray  #: mid log returns every ``interval_s``
    by_horizon: dict[float, np.ndarray]  #: log returns at each horizon (s)
    kurtosis: dict[float, float]  #: excess kurtosis at each scale (s)
    scales: list[float]
    signature: np.ndarray  #: realized variance per second at each scale
    facts: list[metrics.Fact]


def stylized_facts(data: RunData, interval_s: float = 10.0) -> FactSeries:
    """Compute every fact of :mod:`lobsim.metrics` for the run (mid returns sampled every
    ``interval_s`` s for the autocorrelations)."""
    t, mid, end = data.t, data.mid, data.duration_ns

    def returns(h: float) -> np.ndarray:
        return metrics.horizon_returns(t, mid, h, 0, end) if len(t) else np.zeros(0)

    base = returns(interval_s)
    by_horizon = {h: returns(h) for h in sorted({interval_s, *KURTOSIS_HORIZONS_S})}
    scales = [s for s in SCALES_S if end / NS / s >= metrics.MIN_RETURNS] or [interval_s]
    kurtosis = {s: metrics.excess_kurtosis(returns(s)) for s in scales}
    signature = metrics.volatility_signature(t, mid, scales, 0, end) if len(t) else np.full(len(scales), np.nan)
    sizes, means, counts = metrics.price_impact(data.trade_size, data.trade_sign,
                                                data.impact_before, data.impact_after)
    imbalance = metrics.queue_imbalance(data.bid_qty, data.ask_qty)
    def nulls(horizons: list[float]) -> dict[float, float] | None:
        return {h: metrics.jump_kurtosis(t, mid, h, 0, end) for h in horizons} if len(t) else None

    facts = [
        metrics.heavy_tails(by_horizon, nulls(list(by_horizon))),
        metrics.no_autocorrelation(base, interval_s),
        metrics.volatility_clustering(base, interval_s),
        metrics.aggregational_gaussianity(kurtosis, nulls(scales[:1])),
        metrics.signature_fact(scales, signature),
        metrics.trade_sign_memory(data.trade_sign),
        metrics.impact_fact(sizes, means, counts),
        metrics.imbalance_fact(imbalance, metrics.next_move(mid)),
    ]
    return FactSeries(interval_s, base, by_horizon, kurtosis, scales, signature, facts)


# ----------------------------------------------------------------------- the page


def _facts_table(facts: list[metrics.Fact]) -> str:
    mark = {True: "&#10004; holds", False: "&#10008; does not hold", None: "&ndash; not enough data"}
    rows = "".join(f"<tr><td>{html.escape(f.name)}</td><td>{mark[f.holds]}</td><td>{html.escape(f.value)}</td>"
                   f"<td>{html.escape(f.test)}</td></tr>" for f in facts)
    return ("<table><tr><th>stylized fact</th><th>verdict</th><th>measured</th><th>test</th></tr>"
            f"{rows}</table>")


def _summary_table(summary: dict[str, Any]) -> str:
    if "market" not in summary:  # a training summary: its keys as they are
        return "<table>" + "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
                                   for k, v in summary.items()) + "</table>"
    market = summary.get("market", {})
    head = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
                   for k, v in [("scenario", summary.get("scenario")), ("seed", summary.get("seed")),
                                ("duration (s)", summary.get("duration_s")), ("trades", summary.get("trades")),
                                ("volume (lots)", summary.get("volume")), *market.items()])
    agents = "".join(
        f"<tr><td>{html.escape(name)}</td>" + "".join(f"<td>{html.escape(str(a.get(k)))}</td>"
                                                      for k in ("pnl", "inventory", "spread_capture", "fills"))
        + "</tr>" for name, a in summary.get("agents", {}).items())
    return (f"<table>{head}</table><h3>Agents</h3><table><tr><th>agent</th><th>pnl</th><th>inventory</th>"
            f"<th>spread capture</th><th>fills</th></tr>{agents}</table>")


STYLE = ("body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}"
         "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
         "font-size:90%;text-align:left}figure{margin:1.5em 0}img{max-width:100%}")


def render_html(title: str, summary: dict[str, Any], facts: list[metrics.Fact],
                images: dict[str, bytes]) -> str:
    """The page: summary, facts table, then each PNG embedded (and linked by file name)."""
    head = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>")
    parts = [head, "<h2>Summary</h2>", _summary_table(summary)]
    if facts:
        parts += ["<h2>Stylized facts</h2>", _facts_table(facts)]
    parts.append("<h2>Figures</h2>")
    for stem, png in images.items():
        caption = CAPTIONS.get(stem, stem.removeprefix("fact_").replace("_", " ").capitalize())
        data = base64.b64encode(png).decode("ascii")
        parts.append(f"<figure><img src='data:image/png;base64,{data}' alt='{stem}.png'>"
                     f"<figcaption>{html.escape(caption)} (<a href='{stem}.png'>{stem}.png</a>)"
                     "</figcaption></figure>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_report(run_dir: Path, interval_s: float = 10.0) -> Path:
    """Write ``run_dir/report/`` (PNGs, ``facts.json`` and ``report.html``); return the HTML
    path. A ``lobsim train`` directory (a learning curve, no event log) gets its learning
    curves only."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(f"{run_dir}: no such run directory")
    if not SCALES_S[0] <= interval_s <= MAX_GRID_POINTS * SCALES_S[0]:  # NaN fails too
        raise InputError(f"--interval must be from {SCALES_S[0]:g} to {MAX_GRID_POINTS * SCALES_S[0]:g} "
                         f"seconds, got {interval_s}")
    new_figure()  # fail early, before any work, if matplotlib is missing
    if not (run_dir / "events.parquet").exists() and (run_dir / "learning_curve.csv").exists():
        curve = _learning_curve(run_dir / "learning_curve.csv")
        summary = _read_json(run_dir / "train_summary.json")
        figs, facts, title = {"learning_curve": fig_learning(curve or {})}, [], f"lobsim training report: {run_dir.name}"
    else:
        data = load_run(run_dir)
        series = stylized_facts(data, interval_s)
        summary, figs, facts = data.summary, figures(data, series), series.facts
        title = f"lobsim report: {Path(str(summary.get('scenario', run_dir))).name}, seed {summary.get('seed')}"
    return _write(run_dir / "report", title, summary, facts, figs)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _write(out: Path, title: str, summary: dict[str, Any], facts: list[metrics.Fact], figs: dict[str, Any]) -> Path:
    """Render into a staging directory beside ``out``, then move every file into ``out``."""
    with staged_directory(out, last="report.html") as staging:  # the page last
        images = {}
        for stem, fig in figs.items():
            fig.savefig(staging / f"{stem}.png")
            images[stem] = (staging / f"{stem}.png").read_bytes()
        (staging / "report.html").write_text(render_html(title, summary, facts, images), encoding="utf-8")
        (staging / "facts.json").write_text(json.dumps(
            [{"name": f.name, "holds": f.holds, "value": f.value, "test": f.test} for f in facts], indent=2) + "\n")
    return out / "report.html"
