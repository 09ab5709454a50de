"""``lobsim calibrate MSG.csv [--orderbook OB.csv] --out SCENARIO.toml [--duration S] [--json]``."""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path

from lobsim.errors import InputError
from lobsim.fileio import atomic_write


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "calibrate", help="estimate an order-flow scenario from a LOBSTER message file",
        description="Estimate the flow of a LOBSTER message file (rates by distance, sizes, "
                    "Hawkes timing, metaorder exponent, volatility and jumps, tick size and "
                    "price level), print the fitted values with standard errors where they "
                    "exist and what could not be estimated, and write a commented scenario "
                    "that runs as it is.")
    parser.add_argument("messages", type=Path, help="LOBSTER message file (CSV)")
    parser.add_argument("--orderbook", type=Path, metavar="OB.csv",
                        help="its LOBSTER order-book file (optional: best quotes from it)")
    parser.add_argument("--out", type=Path, required=True, metavar="SCENARIO.toml",
                        help="the scenario file to write")
    parser.add_argument("--duration", type=float, metavar="S",
                        help="seconds of simulated time (default: the file's span)")
    parser.add_argument("--json", action="store_true", help="print the estimates as JSON")
    parser.set_defaults(func=run)


def symbol_of(path: Path) -> str:
    """The ticker LOBSTER puts first in its file names (``AAPL_2012-...``), else XYZ."""
    match = re.match(r"([A-Za-z][A-Za-z0-9.]*)_\d{4}-\d{2}-\d{2}_", path.name)
    return match.group(1).upper() if match else "XYZ"


def run(args: argparse.Namespace) -> int:
    from lobsim.data import lobster
    from lobsim.analysis.calibration import calibrate
    from lobsim.analysis.scenario_text import scenario_text
    from lobsim.analysis.flow import order_flow

    if args.duration is not None and not (math.isfinite(args.duration) and 0 < args.duration <= 1e7):
        raise InputError(f"--duration: expected seconds in (0, 1e7], got {args.duration!r}")
    messages = lobster.read_messages(args.messages)
    orderbook = lobster.read_orderbook(args.orderbook) if args.orderbook is not None else None
    flow = order_flow(messages, orderbook, source=str(args.messages))
    cal = calibrate(flow, args.duration, symbol_of(args.messages), orderbook)
    with atomic_write(args.out) as handle:
        handle.write(scenario_text(cal))
    if args.json:
        print(json.dumps(cal.as_dict(), indent=2))
    else:
        print(format_estimates(cal))
        print(f"wrote {args.out}")
    return 0


def format_estimates(cal) -> str:  # a calibration.Calibration (imported lazily)
    lines = [f"calibrated from {cal.source}"]
    for name, e in cal.estimates.items():
        value = e.value if not isinstance(e.value, list) or len(e.value) <= 6 else \
            f"[{', '.join(map(str, e.value[:6]))}, ... ({len(e.value)})]"
        se = f" +- {e.se:.3g}" if e.se is not None else ""
        lines.append(f"  {name:<20} {value}{se}    {e.how}")
    lines += ["not estimated:"] + [f"  {k}: {why}" for k, why in cal.missing.items()] \
        if cal.missing else ["everything estimated"]
    return "\n".join(lines)
