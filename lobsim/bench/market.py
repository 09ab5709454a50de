"""End-to-end market throughput on the standard noise-trader scenario.

Santa Fe zero-intelligence flow plus a Poisson noise trader, with latency, run through
the whole stack: agents, gateway, latency, matching, market data, ledger and the
recorder. Prints exchange messages (requests that reached the exchange) per second of
wall time: the run held in memory, and the run streamed to its files as ``lobsim run``
does (end to end). ``--engine`` picks the
engine (:mod:`lobsim.sim.market`): by default the compiled one, which runs this scenario;
``--engine python`` measures SimPy's.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from pathlib import Path

from lobsim.bench import progress_of
from lobsim.errors import InputError

#: The standard scenario, as a TOML-shaped dict (validated like any scenario file).
STANDARD = {
    "simulation": {"duration": 60.0, "seed": 0, "snapshot_interval": 1.0},
    "market": {"symbol": "XYZ", "tick_size": 0.01, "initial_price": 100.0, "depth_levels": 10},
    "agents": [
        {"name": "zi", "kind": "santa_fe", "limit_rate": 2000.0, "market_rate": 200.0,
         "cancel_rate": 0.5, "window": 0.5, "order_size": 1,
         "latency": {"inbound_ns": 50_000, "outbound_ns": 50_000, "jitter": "exponential",
                     "jitter_ns": 10_000}},
        {"name": "noise", "kind": "poisson", "order_rate": 200.0, "market_fraction": 0.1,
         "cancel_rate": 0.5, "mean_size": 2.0, "max_offset": 10,
         "latency": {"inbound_ns": 80_000, "outbound_ns": 80_000}},
    ],
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", type=float, default=60.0, help="simulated seconds (default 60)")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best is kept")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--engine", choices=("compiled", "python"), default="compiled",
                        help="which engine runs the market (default compiled)")


def run(args: argparse.Namespace) -> list[str]:
    from lobsim.sim.market import Market
    from lobsim.sim.output import run_directory
    from lobsim.scenario.loader import from_dict, to_toml

    if args.repeat < 1:
        raise InputError("--repeat must be >= 1")
    data = {**STANDARD, "simulation": {**STANDARD["simulation"], "duration": args.duration,
                                       "seed": args.seed}}
    scenario = from_dict(data, "<bench market>")
    progress = progress_of(args)
    best_run = best_streamed = float("inf")
    for r in range(args.repeat):
        progress(r, args.repeat, "runs")
        market = Market(scenario, engine=args.engine)
        gc.collect()
        start = time.perf_counter()
        result = market.run()
        best_run = min(best_run, time.perf_counter() - start)
        del market, result
        with tempfile.TemporaryDirectory() as tmp:
            gc.collect()
            start = time.perf_counter()
            with run_directory(Path(tmp) / "run", scenario, to_toml(scenario)) as files:
                summary = Market(scenario, engine=args.engine, sink=files).run().summary
                files.summary = summary
            best_streamed = min(best_streamed, time.perf_counter() - start)
    messages, events = summary["messages"], summary["events"]
    return [
        f"scenario: santa_fe + poisson noise, {args.duration:g} simulated s, seed {args.seed}; "
        f"{args.engine} engine",
        f"exchange messages {messages:,}, recorded events {events:,}, trades {summary['trades']:,}",
        f"run (agents, gateway, matching, market data, ledger, recorder): {best_run:.2f} s "
        f"= {messages / best_run:,.0f} exchange msgs/s ({events / best_run:,.0f} events/s)",
        f"streamed to its run directory (as lobsim run): {best_streamed:.2f} s; end to end "
        f"{messages / best_streamed:,.0f} msgs/s",
    ]
