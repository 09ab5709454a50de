"""Peak memory of long runs: does it stay flat as the run grows?

Runs the default.toml market (Santa Fe and Poisson flow, a fixed-spread and an
Avellaneda-Stoikov maker) for as long as it takes to send about each ``--messages``
count (default 10^6 and 10^7 exchange messages), streaming its files as ``lobsim run``
does, and prints each run's peak resident memory. Each size runs in a fresh
subprocess, so one size's peak cannot mix with another's. The simulated duration per
size comes from a short pilot run's message rate. ``--sink memory`` holds every row until
the end instead (what runs did before streaming), for comparison. Target: peak memory
within 1.5x from 10^6 to 10^7 messages (docs/streaming.md).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lobsim.bench import progress_of
from lobsim.errors import InputError, LobsimError

#: default.toml's market, as a TOML-shaped dict (validated like any scenario file).
SOAK: dict[str, Any] = {
    "simulation": {"duration": 300.0, "seed": 1, "snapshot_interval": 1.0},
    "market": {"symbol": "XYZ", "tick_size": 0.01, "initial_price": 100.0, "depth_levels": 10},
    "agents": [
        {"name": "zi", "kind": "santa_fe", "limit_rate": 50.0, "market_rate": 4.0,
         "cancel_rate": 0.2, "window": 0.2,
         "latency": {"inbound_ns": 50_000, "outbound_ns": 50_000, "jitter": "exponential",
                     "jitter_ns": 10_000}},
        {"name": "noise", "kind": "poisson", "order_rate": 1.0, "market_fraction": 0.2,
         "cancel_rate": 0.1, "mean_size": 2.0, "max_offset": 5,
         "latency": {"inbound_ns": 80_000, "outbound_ns": 80_000, "jitter": "exponential",
                     "jitter_ns": 20_000}},
        {"name": "mm_fixed", "kind": "fixed_spread", "half_spread": 2, "quote_size": 5,
         "requote_ticks": 1, "skew_per_lot": 0.05, "max_inventory": 50,
         "latency": {"inbound_ns": 20_000, "outbound_ns": 20_000, "jitter": "uniform",
                     "jitter_ns": 5_000}},
        {"name": "mm_as", "kind": "avellaneda_stoikov", "gamma": 0.1, "sigma": 0.01,
         "kappa": 100.0, "horizon": 60.0, "horizon_mode": "cyclic", "quote_size": 5,
         "requote_interval": 0.1, "max_inventory": 50,
         "latency": {"inbound_ns": 20_000, "outbound_ns": 20_000, "jitter": "uniform",
                     "jitter_ns": 5_000}},
    ],
}
PILOT_SECONDS = 1000.0  #: simulated seconds of the pilot run that sets the message rate
MAX_MESSAGES = 10**9  #: a larger soak would not fit this machine's time, let alone memory


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--messages", type=float, nargs="+", default=[1e6, 1e7],
                        help="exchange messages per run, one run each (default: 1e6 1e7)")
    parser.add_argument("--engine", choices=("compiled", "python"), default="compiled",
                        help="which engine runs the market (default compiled)")
    parser.add_argument("--sink", choices=("files", "memory"), default="files",
                        help="files (default): stream to Parquet as lobsim run does; memory: "
                             "hold every row, then write")
    parser.add_argument("--seed", type=int, default=1)


def run(args: argparse.Namespace) -> list[str]:
    sizes = _checked_sizes(args.messages)
    progress = progress_of(args)
    rate = _pilot_rate(args.engine, args.seed)
    lines = [f"scenario: default.toml's market, seed {args.seed}; {args.engine} engine, "
             f"{args.sink} sink; pilot: {rate:,.1f} exchange msgs per simulated s"]
    peaks = []
    for i, size in enumerate(sizes):
        progress(i, len(sizes), "runs")
        figures = _measure(size / rate, args)
        peaks.append(figures["peak_mib"])
        lines.append(
            f"{size:.0e} target: {figures['messages']:,} msgs, {figures['events']:,} events in "
            f"{size / rate:,.0f} sim s: {figures['seconds']:.1f} s "
            f"({figures['messages'] / figures['seconds']:,.0f} msgs/s end to end), "
            f"peak RSS {figures['peak_mib']:,.0f} MiB (before the run {figures['start_mib']:,.0f} MiB)")
    if len(peaks) > 1:
        lines.append(f"peak RSS, largest / smallest run: {peaks[-1] / peaks[0]:.2f}x "
                     f"(target: within 1.5x from 1e6 to 1e7 messages)")
    return lines


def _checked_sizes(sizes: list[float]) -> list[int]:
    for size in sizes:
        if not 1e3 <= size <= MAX_MESSAGES:  # also refuses NaN
            raise InputError(f"--messages: expected counts from 1e3 to {MAX_MESSAGES:.0e}, got {size}")
    return sorted(int(size) for size in sizes)


def _pilot_rate(engine: str, seed: int) -> float:
    """Exchange messages per simulated second of the soak market (in this process)."""
    from lobsim.sim.market import Market
    from lobsim.sim.recorder import DiscardSink

    summary = Market(_scenario(PILOT_SECONDS, seed), engine=engine, sink=DiscardSink()).run().summary
    return summary["messages"] / PILOT_SECONDS


def _scenario(duration: float, seed: int) -> Any:
    from lobsim.scenario import from_dict

    data = {**SOAK, "simulation": {**SOAK["simulation"], "duration": round(duration, 3), "seed": seed}}
    return from_dict(data, "<bench soak>")


def _measure(duration: float, args: argparse.Namespace) -> dict[str, Any]:
    """One soak run in a fresh interpreter; its figures."""
    request = json.dumps({"duration": duration, "seed": args.seed, "engine": args.engine,
                          "sink": args.sink})
    done = subprocess.run([sys.executable, "-m", "lobsim.bench.soak", request],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise LobsimError(f"bench soak: the {duration:,.0f} s run failed: {last}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _child(request: dict[str, Any]) -> dict[str, Any]:
    """Run one soak as ``lobsim run`` would (or held in memory, then written)."""
    from lobsim.sim.market import Market
    from lobsim.sim.output import run_directory, write_run
    from lobsim.scenario import to_toml

    scenario = _scenario(request["duration"], request["seed"])
    start_mib = _peak_mib()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        if request["sink"] == "memory":
            result = Market(scenario, engine=request["engine"]).run()
            write_run(result, out, to_toml(scenario))
        else:
            with run_directory(out, scenario, to_toml(scenario)) as files:
                result = Market(scenario, engine=request["engine"], sink=files).run()
                files.summary = result.summary
    seconds = time.perf_counter() - start
    summary = result.summary
    return {"messages": summary["messages"], "events": summary["events"], "seconds": seconds,
            "peak_mib": _peak_mib(), "start_mib": start_mib}


if __name__ == "__main__":
    print(json.dumps(_child(json.loads(sys.argv[1]))))
