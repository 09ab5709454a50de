"""End-to-end market throughput on the standard noise-trader scenario.

Santa Fe zero-intelligence flow plus a Poisson noise trader, with latency, run through
the whole stack: agents, gateway, latency, matching, market data, ledger and the
recorder. Prints exchange messages (requests that reached the exchange) per second of
wall time: the run held in memory, and the run streamed to its files as ``lobsim run``
does (end to end). ``--engine`` picks the engine (:mod:`lobsim.sim.market`; by default
the one ``lobsim run`` takes); ``--user-agent`` adds a Python-defined agent
(:mod:`lobsim.bench.user_agent`) that sends about 5% of the messages. Every run also
times the interpreted build (``--engine python``) on a tenth of the duration, for the
ratio of the two in the same run.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from pathlib import Path

from lobsim import registry
from lobsim.bench import progress_of
from lobsim.bench.user_agent import EdgeQuoter
from lobsim.errors import InputError
from lobsim.scenario.config import Scenario
from lobsim.scenario.loader import from_dict, to_toml
from lobsim.sim.market import Market, RunResult
from lobsim.sim.output import run_directory

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
#: The Python-defined agent ``--user-agent`` adds (no latency beyond the noise trader's).
USER_AGENT = {"name": "user", "kind": EdgeQuoter.kind,
              "latency": {"inbound_ns": 80_000, "outbound_ns": 80_000}}
#: Event-log kinds that are requests an agent sent.
REQUESTS = ("limit", "market", "cancel", "modify")
#: simulated seconds: a bench longer than a day is a typo
MAX_DURATION_S = 86_400.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", type=float, default=60.0, help="simulated seconds (default 60)")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best is kept")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--engine", choices=("auto", "twins", "compiled", "python"), default="auto",
                        help="which engine runs the market (default auto, as lobsim run)")
    parser.add_argument("--user-agent", action="store_true",
                        help="add a Python-defined agent that sends about 5 percent of the messages")


def standard(duration: float, seed: int, user_agent: bool) -> Scenario:
    """The standard scenario for ``duration`` simulated seconds (with the user's agent)."""
    agents = [*STANDARD["agents"], *([USER_AGENT] if user_agent else [])]
    data = {**STANDARD, "simulation": {**STANDARD["simulation"], "duration": duration,
                                       "seed": seed}, "agents": agents}
    return from_dict(data, "<bench market>", resolve_kind)


def resolve_kind(kind: str) -> type:
    return EdgeQuoter if kind == EdgeQuoter.kind else registry.load("lobsim.agents", kind)


def _timed(market: Market) -> tuple[float, RunResult]:
    """Wall seconds of ``market.run()``, and its result."""
    gc.collect()
    start = time.perf_counter()
    result = market.run()
    return time.perf_counter() - start, result


def run(args: argparse.Namespace) -> list[str]:
    if args.repeat < 1:
        raise InputError("--repeat must be >= 1")
    if not 0 < args.duration <= MAX_DURATION_S:
        raise InputError(f"--duration must be in (0, {MAX_DURATION_S:g}] simulated seconds")
    scenario = standard(args.duration, args.seed, args.user_agent)
    progress = progress_of(args)
    best_run = best_streamed = float("inf")
    for r in range(args.repeat):
        progress(r, args.repeat + 1, "runs")
        market = Market(scenario, resolve_kind, engine=args.engine)
        seconds, result = _timed(market)
        best_run, engine = min(best_run, seconds), market.ran_on
        user_messages = sum(1 for row in result.events if row[3] == "user" and row[2] in REQUESTS)
        del market, result
        with tempfile.TemporaryDirectory() as tmp:
            gc.collect()
            start = time.perf_counter()
            with run_directory(Path(tmp) / "run", scenario, to_toml(scenario)) as files:
                summary = Market(scenario, resolve_kind, engine=args.engine, sink=files).run().summary
                files.summary = summary
            best_streamed = min(best_streamed, time.perf_counter() - start)
    progress(args.repeat, args.repeat + 1, "runs")
    reference = Market(standard(args.duration / 10, args.seed, args.user_agent), resolve_kind,
                       engine="python")
    seconds, result = _timed(reference)
    reference_rate = result.summary["messages"] / seconds
    messages, events = summary["messages"], summary["events"]
    return [
        f"scenario: santa_fe + poisson noise{' + a Python agent' if args.user_agent else ''}, "
        f"{args.duration:g} simulated s, seed {args.seed}; {engine} engine",
        f"exchange messages {messages:,}, recorded events {events:,}, trades {summary['trades']:,}"
        + (f"; the Python agent sent {user_messages:,} ({user_messages / messages:.1%})"
           if args.user_agent else ""),
        f"run (agents, gateway, matching, market data, ledger, recorder): {best_run:.2f} s "
        f"= {messages / best_run:,.0f} exchange msgs/s ({events / best_run:,.0f} events/s)",
        f"streamed to its run directory (as lobsim run): {best_streamed:.2f} s; end to end "
        f"{messages / best_streamed:,.0f} msgs/s",
        f"interpreted build (--engine python, {args.duration / 10:g} simulated s, in memory): "
        f"{reference_rate:,.0f} msgs/s; {engine} / interpreted: "
        f"{messages / best_run / reference_rate:.1f}x",
    ]
