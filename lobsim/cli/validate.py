"""``lobsim validate NAME``: run a reproduction and print ours beside the published figures.

Reproductions are found by name in the ``lobsim.validations`` entry-point group, so
learners living in ``agents`` (e.g. ``ppo-cj``) are reached without lobsim importing them.
Each is a callable ``(seed, **opts) -> {"rows": [...]}``.
"""

from __future__ import annotations

import argparse
import inspect
import json
from typing import Any

from lobsim import registry
from lobsim.cli.progress import ProgressBar
from lobsim.errors import InputError

GROUP = "lobsim.validations"


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "validate",
        help="reproduce a published result and print ours beside it",
        description="Reproduce a published result. Known names: "
        + (", ".join(registry.names(GROUP)) or "none installed"),
    )
    parser.add_argument("name", help="reproduction name, e.g. as2008, cj2015, ppo-cj")
    parser.add_argument("--json", action="store_true", help='print {"rows": [...]} as JSON')
    parser.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    parser.add_argument("--paths", type=int, default=None, help="Monte Carlo paths")
    parser.add_argument(
        "--set",
        dest="options",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra option for the reproduction (repeatable), e.g. --set fill=poisson",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    func = registry.load(GROUP, args.name)
    opts = _parse_options(args.options)
    if args.paths is not None:
        opts["paths"] = args.paths
    _check_options(args.name, func, opts)
    bar = None
    if not args.no_progress and _accepts(func, "progress"):
        bar = opts["progress"] = ProgressBar(args.name)
    try:
        result = func(args.seed, **opts)
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{args.name} (seed {args.seed})")
        for line in format_table(result["rows"]):
            print(line)
    return 0


def _parse_options(items: list[str]) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise InputError(f"--set expects KEY=VALUE, got {item!r}")
        opts[key.replace("-", "_")] = _coerce(raw)
    return opts


def _coerce(raw: str) -> Any:
    """``"3"`` -> 3, ``"0.5"`` -> 0.5, ``"true"`` -> True, anything else stays a string."""
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return raw


def _accepts(func: Any, option: str) -> bool:
    params = inspect.signature(func).parameters
    return option in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def _check_options(name: str, func: Any, opts: dict[str, Any]) -> None:
    params = inspect.signature(func).parameters
    reserved = ("seed", "progress")  # given by --seed and the CLI itself
    unknown = sorted(k for k in opts if k in reserved or not _accepts(func, k))
    if unknown:
        known = ", ".join(p for p in params if p not in ("seed", "progress"))
        raise InputError(f"{name} has no option {', '.join(unknown)} (options: {known or 'none'})")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1 else f"{value:.2f}"
    return str(value)


def format_table(rows: list[dict]) -> list[str]:
    """Aligned lines: one per row; a metric some row has a published figure for gets an
    ``ours``/``pub`` column pair, any other metric a single ``ours`` column."""
    compared: list[str] = []
    extra: list[str] = []
    for row in rows:
        for key in row.get("published", {}):
            if key not in compared:
                compared.append(key)
    for row in rows:
        for key in row.get("ours", {}):
            if key not in compared and key not in extra:
                extra.append(key)
    # (metric, source) per column after the name column
    columns = [(m, src) for m in compared for src in ("ours", "published")]
    columns += [(m, "ours") for m in extra]
    header = ["name", *["pub" if src == "published" else "ours" for _, src in columns]]
    body = [
        [row["name"], *[_fmt(row.get(src, {}).get(m)) for m, src in columns]] for row in rows
    ]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    groups: list[tuple[str, list[int]]] = []  # metric name over the columns it spans
    for i, (m, _) in enumerate(columns, start=1):
        if groups and groups[-1][0] == m:
            groups[-1][1].append(i)
        else:
            groups.append((m, [i]))
    for m, cols in groups:  # widen the first column when the name is longer than its span
        span = sum(widths[i] for i in cols) + 2 * (len(cols) - 1)
        widths[cols[0]] += max(0, len(m) - span)
    spans = [" " * widths[0]]
    for m, cols in groups:
        span = sum(widths[i] for i in cols) + 2 * (len(cols) - 1)
        spans.append(m.rjust(span) if len(cols) == 1 else m.center(span))
    lines = ["  ".join(spans).rstrip()]
    for cells in [header, *body]:
        parts = [cells[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(cells[1:], widths[1:])]
        lines.append("  ".join(parts).rstrip())
    notes = [f"  {row['name']}: {row['note']}" for row in rows if row.get("note")]
    if notes:
        lines += ["notes:", *notes]
    return lines
