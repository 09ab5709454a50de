"""End-to-end checks shared by the order-flow kinds' tests: a scenario of some
``[[agents]]`` tables run through ``lobsim run`` twice with one seed and once with
another; the audit must pass and the two same-seed event logs must be the same bytes."""

from __future__ import annotations

import json
from pathlib import Path

import tomli_w

from lobsim.cli import main


def write_scenario(folder: Path, agents: list[dict], duration: float = 20.0, seed: int = 1,
                   tick_size: float = 0.01, initial_price: float = 100.0) -> Path:
    """A scenario file with ``agents`` in ``folder``; returns its path."""
    data = {"simulation": {"duration": duration, "seed": seed, "snapshot_interval": 1.0},
            "market": {"symbol": "XYZ", "tick_size": tick_size, "initial_price": initial_price,
                       "depth_levels": 10},
            "agents": agents}
    path = folder / "flow.toml"
    path.write_text(tomli_w.dumps(data))
    return path


def run_twice(folder: Path, agents: list[dict], duration: float = 20.0) -> dict:
    """Run the scenario with seeds 7, 7 and 8; assert the audit passed and that only the
    seed changes the bytes of events.parquet. Returns the first run's summary."""
    scenario = write_scenario(folder, agents, duration)
    for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        code = main(["run", str(scenario), "--seed", seed, "--out", str(folder / name),
                     "--no-progress"])
        assert code == 0
    a, b, c = ((folder / n / "events.parquet").read_bytes() for n in "abc")
    assert a == b and a != c
    summary = json.loads((folder / "a" / "summary.json").read_text())
    assert summary["audit"]["ok"] and summary["trades"] > 0
    return summary
