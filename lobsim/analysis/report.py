"""``lobsim report``: figures and a self-contained HTML page about one run.

:func:`write_report` reads a run directory (``events.parquet``, ``book.parquet``,
``agents.parquet``, ``summary.json``, and ``learning_curve.csv`` when the run came from
``lobsim train``) and writes ``RUN_DIR/report/``: one PNG per figure and ``report.html``
with every figure embedded (base64) and linked by file name. Everything is staged and
moved into place at the end, so a failure leaves the previous report untouched. With
``against`` (real LOBSTER data), a real-against-simulated section from
:mod:`lobsim.analysis.realism` is added, and ``realism.json``.

Series: the best quotes after every book event (rebuilt from the event log with
:func:`lobsim.data.tape.book_messages`), prices in ticks, times in seconds of simulated time.
matplotlib is an optional extra, imported only here (Agg canvas, no pyplot state).
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lobsim.analysis import metrics, tables, verdicts
from lobsim.analysis.realism import Comparison, compare
from lobsim.analysis.realism import as_dict as realism_dict
from lobsim.analysis.realism_figures import CAPTIONS as REALISM_CAPTIONS
from lobsim.analysis.realism_figures import figures as realism_figures
from lobsim.data.rundata import MAX_SECONDS, RunData, load, load_run
from lobsim.data.rundata import learning_curve as _learning_curve
from lobsim.errors import InputError
from lobsim.analysis.figures import CAPTIONS, fig_learning, figures, new_figure
from lobsim.fileio import staged_directory
from lobsim.units import NS_PER_SECOND as NS

KURTOSIS_HORIZONS_S = (60.0, 300.0, 900.0)  #: 1, 5 and 15 minutes
SCALES_S = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0)


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
    facts: list[verdicts.Fact]


def stylized_facts(data: RunData, interval_s: float = 10.0) -> FactSeries:
    """Compute every fact of :mod:`lobsim.analysis.metrics` for the run (mid returns sampled every
    ``interval_s`` s for the autocorrelations)."""
    t, mid, end = data.t, data.mid, data.duration_ns

    def returns(h: float) -> np.ndarray:
        return metrics.horizon_returns(t, mid, h, 0, end) if len(t) else np.zeros(0)

    base = returns(interval_s)
    by_horizon = {h: returns(h) for h in sorted({interval_s, *KURTOSIS_HORIZONS_S})}
    scales = [s for s in SCALES_S if end / NS / s >= metrics.MIN_RETURNS] or [interval_s]
    at_scale = {s: returns(s) for s in scales}
    per_scale = {s: len(r) for s, r in at_scale.items()}  # what each scale's figure rests on
    kurtosis = {s: metrics.excess_kurtosis(r) for s, r in at_scale.items()}
    signature = metrics.volatility_signature(t, mid, scales, 0, end) if len(t) else np.full(len(scales), np.nan)
    sizes, means, counts = metrics.price_impact(data.trade_size, data.trade_sign,
                                                data.impact_before, data.impact_after)
    imbalance = metrics.queue_imbalance(data.bid_qty, data.ask_qty)
    def nulls(horizons: list[float]) -> dict[float, float] | None:
        return {h: metrics.jump_kurtosis(t, mid, h, 0, end) for h in horizons} if len(t) else None

    facts = [
        verdicts.heavy_tails(by_horizon, nulls(list(by_horizon))),
        verdicts.no_autocorrelation(base, interval_s),
        verdicts.volatility_clustering(base, interval_s),
        verdicts.aggregational_gaussianity(kurtosis, nulls(scales[:1]), per_scale),
        verdicts.signature_fact(scales, signature, per_scale),
        verdicts.trade_sign_memory(data.trade_sign),
        verdicts.impact_fact(sizes, means, counts),
        verdicts.imbalance_fact(imbalance, metrics.next_move(mid)),
    ]
    return FactSeries(interval_s, base, by_horizon, kurtosis, scales, signature, facts)


# ----------------------------------------------------------------------- the page


def _facts_table(facts: list[verdicts.Fact]) -> str:
    mark = {True: "&#10004; ", False: "&#10008; ", None: "&ndash; "}
    rows = "".join(f"<tr><td>{html.escape(f.name)}</td><td>{mark[f.holds]}{html.escape(f.verdict)}</td>"
                   f"<td>{html.escape(f.value)}</td>"
                   f"<td>{html.escape(f.test)}</td></tr>" for f in facts)
    return ("<table><tr><th>stylized fact</th><th>verdict</th><th>measured</th><th>test</th></tr>"
            f"{rows}</table>")


def _summary_table(summary: dict[str, Any]) -> str:
    if "market" not in summary:  # a training summary
        return tables.training_table(summary)
    return tables.run_table(summary)


STYLE = ("body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}"
         "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
         "font-size:90%;text-align:left}figure{margin:1.5em 0}img{max-width:100%}")


def _realism_tables(c: Comparison) -> str:
    """The real-against-simulated distances, score and facts as HTML tables."""
    def cell(values: np.ndarray) -> str:
        return f"{len(values)} / {float(np.median(values)):.4g}" if len(values) else "0"

    rows = "".join(f"<tr><td>{html.escape(r.spec.name)}</td><td>{r.spec.unit}</td><td>{cell(r.real)}</td>"
                   f"<td>{cell(r.simulated)}</td><td>{f'{r.w1:.3g}' if np.isfinite(r.w1) else 'too short'}</td></tr>"
                   for r in c.distances)
    facts = "".join(f"<tr><td>{html.escape(f.name)}</td><td>{html.escape(f.real.text())}</td>"
                    f"<td>{html.escape(f.simulated.text())}</td><td>{f.agreement}</td><td>{f.tolerance}</td></tr>"
                    for f in c.facts)
    score = f"{c.score:.3g}" if np.isfinite(c.score) else "n/a"
    return (f"<p>Real: {html.escape(c.real_source)}. Realism score <b>{score}</b> (mean normalised "
            f"Wasserstein-1 over {c.families} distribution families; 0 = identical).</p>"
            "<table><tr><th>distribution</th><th>unit</th><th>real n / median</th><th>simulated n / median</th>"
            f"<th>W1 (normalised)</th></tr>{rows}</table><table><tr><th>stylized fact</th><th>real</th>"
            f"<th>simulated</th><th>agreement</th><th>tolerance</th></tr>{facts}</table>")


def render_html(title: str, summary: dict[str, Any], facts: list[verdicts.Fact],
                images: dict[str, bytes], realism: Comparison | None = None) -> str:
    """The page: summary, facts table, the real-against-simulated tables when ``realism`` is
    given, then each PNG embedded (and linked by file name)."""
    head = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>")
    parts = [head, "<h2>Summary</h2>", _summary_table(summary)]
    if facts:
        parts += ["<h2>Stylized facts</h2>", _facts_table(facts)]
    if realism is not None:
        parts += ["<h2>Real against simulated</h2>", _realism_tables(realism)]
    parts.append("<h2>Figures</h2>")
    for stem, png in images.items():
        caption = (CAPTIONS.get(stem) or REALISM_CAPTIONS.get(stem)
                   or stem.removeprefix("fact_").replace("_", " ").capitalize())
        data = base64.b64encode(png).decode("ascii")
        parts.append(f"<figure><img src='data:image/png;base64,{data}' alt='{stem}.png'>"
                     f"<figcaption>{html.escape(caption)} (<a href='{stem}.png'>{stem}.png</a>)"
                     "</figcaption></figure>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_report(run_dir: Path, interval_s: float = 10.0, against: Path | None = None,
                 orderbook: Path | None = None, tick_size: float = 0.01) -> Path:
    """Write ``run_dir/report/`` (PNGs, ``facts.json`` and ``report.html``); return the HTML
    path. A ``lobsim train`` directory (a learning curve, no event log) gets its learning
    curves only. With ``against`` (a LOBSTER message file, ``orderbook`` its order-book file,
    ``tick_size`` its tick), a real-against-simulated section is added (and ``realism.json``)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(f"{run_dir}: no such run directory")
    if not SCALES_S[0] <= interval_s <= MAX_SECONDS:  # NaN fails too
        raise InputError(f"--interval must be from {SCALES_S[0]:g} to {MAX_SECONDS:g} seconds, "
                         f"got {interval_s}")
    new_figure()  # fail early, before any work, if matplotlib is missing
    realism = None
    if not (run_dir / "events.parquet").exists() and (run_dir / "learning_curve.csv").exists():
        if against is not None:
            raise InputError(f"{run_dir}: a training directory has no market to compare with --against")
        curve = _learning_curve(run_dir / "learning_curve.csv")
        summary = _read_json(run_dir / "train_summary.json")
        figs, facts, title = {"learning_curve": fig_learning(curve or {})}, [], f"lobsim training report: {run_dir.name}"
    else:
        data = load_run(run_dir)
        series = stylized_facts(data, interval_s)
        summary, figs, facts = data.summary, figures(data, series), series.facts
        title = f"lobsim report: {Path(str(summary.get('scenario', run_dir))).name}, seed {summary.get('seed')}"
        if against is not None:
            real = load(against, orderbook, tick_size)
            realism = compare(data, real)
            figs.update(realism_figures(realism, real, data))
    return _write(run_dir / "report", title, summary, facts, figs, realism)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _write(out: Path, title: str, summary: dict[str, Any], facts: list[verdicts.Fact], figs: dict[str, Any],
           realism: Comparison | None = None) -> Path:
    """Render into a staging directory beside ``out``, then move every file into ``out``."""
    with staged_directory(out, last="report.html") as staging:  # the page last
        images = {}
        for stem, fig in figs.items():
            fig.savefig(staging / f"{stem}.png")
            images[stem] = (staging / f"{stem}.png").read_bytes()
        page = render_html(title, summary, facts, images, realism)
        (staging / "report.html").write_text(page, encoding="utf-8")
        if realism is not None:
            (staging / "realism.json").write_text(json.dumps(realism_dict(realism), indent=2) + "\n")
        (staging / "facts.json").write_text(json.dumps(
            [{"name": f.name, "holds": f.holds, "verdict": f.verdict, "n": f.n, "value": f.value,
              "test": f.test} for f in facts], indent=2) + "\n")
    return out / "report.html"
