"""Parameter sweeps: a scenario's grid of variants times seeds, run locally or on Ray.

``--set KEY=V1,V2,...`` names a value in the scenario's TOML by a dotted key path:
``market.tick_size``, ``simulation.duration``, or ``agents.NAME.KEY`` for the ``[[agents]]``
table named NAME (``agents.3.KEY`` by index also works), e.g. ``agents.maker.count=1,2,4``.
Values are TOML literals (``1``, ``0.5``, ``true``, ``"text"``); bare words are strings.
Several ``--set`` make a full grid (first axis slowest). Each variant is the raw TOML dict
with the values set, validated again by :func:`lobsim.scenario.loader.from_dict`.

Each run is a pure function of (variant, seed): :func:`run_one` returns the run's summary,
so the results are identical whether runs execute serially, in a process pool or as Ray
tasks. Seeds are the scenario's seed, +1, ... (``--seeds K`` of them).

Results: one row per run in ``sweep.parquet``: ``variant``, ``seed``, one column per swept
key, the run's summary flattened with dots (``market.mean_spread``, ``agents.maker_0.pnl``,
price units and lots as in ``summary.json``) and per ``[[agents]]`` table the mean and
sum over its instances (``group.maker.pnl_mean``, ``group.maker.pnl_sum``).
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from lobsim.scenario.config import MAX_SWEEP_RUNS, MAX_SWEEP_SEEDS, MAX_WORKERS
from lobsim.stats import mean_ci95
from lobsim.errors import AuditError, InputError, LobsimError
from lobsim.fanout import Progress, map_calls
from lobsim.fileio import staged_directory

GROUP_FIELDS = ("pnl", "inventory", "spread_capture", "fills", "volume")


@dataclass(frozen=True)
class Axis:
    """One ``--set``: a key path and the values it takes."""

    key: str
    values: tuple[Any, ...]


def parse_value(text: str) -> Any:
    """A TOML literal (``1``, ``0.5``, ``true``, ``"x"``); anything else as a plain string."""
    try:
        return tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        return text.strip()


def parse_values(text: str) -> tuple[Any, ...]:
    """``V1,V2,...`` read as the items of one TOML array, so that a value may itself hold
    commas (``[1,2],[2,3]`` or ``"a,b"``); if that is not TOML, split at every comma and
    read each piece with :func:`parse_value` (bare words such as ``exponential``)."""
    try:
        return tuple(tomllib.loads(f"v = [{text}]")["v"])
    except tomllib.TOMLDecodeError:
        return tuple(parse_value(v) for v in text.split(","))


def parse_set(text: str) -> Axis:
    """``KEY=V1,V2,...`` -> :class:`Axis`; :class:`InputError` if malformed."""
    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not key or not values.strip():
        raise InputError(f"--set {text!r}: expected KEY=V1,V2,... (e.g. agents.maker.count=1,2,4)")
    parsed = parse_values(values)
    if len(set(map(repr, parsed))) != len(parsed):
        raise InputError(f"--set {text!r}: a value is repeated")
    return Axis(key, parsed)


def set_path(data: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` (a dotted path, see the module docstring) in the raw scenario dict."""
    parts = key.split(".")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        where = ".".join(parts[: i + 1])
        if isinstance(node, list):
            node = _agent_table(node, part, where)
        elif isinstance(node, dict):
            if part not in node:
                node[part] = {}
            node = node[part]
        else:
            raise InputError(f"--set {key}: {where} is not a table")
    if not isinstance(node, dict):
        raise InputError(f"--set {key}: {'.'.join(parts[:-1])} is not a table")
    node[parts[-1]] = value


def _agent_table(tables: list, part: str, where: str) -> dict:
    if part.isdigit() and int(part) < len(tables):
        return tables[int(part)]
    for table in tables:
        if isinstance(table, dict) and table.get("name") == part:
            return table
    names = ", ".join(str(t.get("name")) for t in tables if isinstance(t, dict))
    raise InputError(f"--set: no [[agents]] table named {part!r} at {where} (names: {names})")


@dataclass(frozen=True)
class Variant:
    index: int
    values: dict[str, Any]  #: swept key -> value
    data: dict[str, Any]  #: the raw scenario dict with the values set
    seed: int  #: the variant's own seed (its first run's seed)
    source: str = ""  #: the scenario file it varies


def expand(data: Mapping[str, Any], axes: list[Axis], source: str) -> list[Variant]:
    """Every combination of the axes' values (first axis slowest), each validated."""
    from lobsim.scenario.loader import from_dict

    keys = [axis.key for axis in axes]
    if len(set(keys)) != len(keys):
        raise InputError("--set: the same key is swept twice")
    count = math.prod(len(axis.values) for axis in axes)
    if count > MAX_SWEEP_RUNS:  # before building (and validating) any of them
        raise InputError(f"--set: {count:,} variants; at most {MAX_SWEEP_RUNS:,} are allowed")
    variants = []
    for index, combo in enumerate(itertools.product(*(axis.values for axis in axes))):
        raw = copy.deepcopy(dict(data))
        values = dict(zip(keys, combo))
        for key, value in values.items():
            set_path(raw, key, value)
        label = ", ".join(f"{k}={v!r}" for k, v in values.items())
        scenario = from_dict(raw, f"{source} [{label}]" if label else source)  # ScenarioError names the key
        variants.append(Variant(index, values, raw, scenario.simulation.seed, source))
    return variants


def run_one(data: dict[str, Any], source: str, seed: int,
            agent_files: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Run one variant with one seed; its summary (a pure function of the arguments).
    ``agent_files``: the user's ``--agents`` files, loaded first (a Ray worker starts
    without them)."""
    from lobsim import registry
    from lobsim.scenario.loader import from_dict
    from lobsim.sim.market import Market
    from lobsim.sim.recorder import DiscardSink

    for path in agent_files:
        registry.load_agent_file(path)
    scenario = from_dict(data, source).with_seed(seed)
    try:  # only the summary is kept: the rows go nowhere, and memory stays flat
        return Market(scenario, sink=DiscardSink()).run().summary
    except AuditError as exc:  # recorded (audit.ok is false), not fatal to the sweep
        return exc.result.summary  # type: ignore[attr-defined]
    except LobsimError as exc:  # say which run failed; the sweep stops with one line
        raise type(exc)(f"{source}, seed {seed}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a bug or MemoryError in one run: one line, not
        # a worker's chained traceback per process
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise LobsimError(f"{source}, seed {seed}: the run failed: {type(exc).__name__}"
                          f"{': ' + detail if detail else ''}") from None


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts -> one level with dotted keys; lists become JSON text."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = json.dumps(value) if isinstance(value, list) else value
    return flat


def group_metrics(data: Mapping[str, Any], summary: Mapping[str, Any]) -> dict[str, Any]:
    """Per ``[[agents]]`` table: mean and sum over its instances of :data:`GROUP_FIELDS`."""
    out: dict[str, Any] = {}
    agents = summary.get("agents", {})
    for table in data.get("agents", []):
        name, count = table.get("name"), int(table.get("count", 1))
        names = [name] if count == 1 else [f"{name}_{i}" for i in range(count)]
        rows = [agents[n] for n in names if n in agents]
        for f in GROUP_FIELDS:
            values = [float(r[f]) for r in rows if r.get(f) is not None]
            out[f"group.{name}.{f}_mean"] = float(np.mean(values)) if values else None
            out[f"group.{name}.{f}_sum"] = float(np.sum(values)) if values else None
    return out


def run_sweep(scenario_path: Path, axes: list[Axis], seeds: int, workers: int = 2,
              address: str | None = None, progress: Progress | None = None) -> list[dict[str, Any]]:
    """Run every (variant, seed); rows sorted by (variant, seed). ``address``: a Ray
    cluster (each run one Ray task); else ``workers`` local processes (1: in this process)."""
    return run_jobs(plan_sweep(scenario_path, axes, seeds, workers, address), workers, address,
                    progress)


def plan_sweep(scenario_path: Path, axes: list[Axis], seeds: int, workers: int = 2,
               address: str | None = None) -> list[tuple[Variant, int]]:
    """Every (variant, seed) of the sweep, each variant validated, the options checked:
    every input error comes out here, before anything runs (or is overwritten)."""
    from lobsim.scenario.loader import load

    if not 1 <= seeds <= MAX_SWEEP_SEEDS:
        raise InputError(f"--seeds must be from 1 to {MAX_SWEEP_SEEDS:,}, got {seeds}")
    if not address and not 1 <= workers <= MAX_WORKERS:
        raise InputError(f"--workers must be from 1 to {MAX_WORKERS}, got {workers}")
    load(scenario_path)  # validates the file itself first
    with open(scenario_path, "rb") as handle:
        data = tomllib.load(handle)
    variants = expand(data, axes, str(scenario_path))
    if len(variants) * seeds > MAX_SWEEP_RUNS:
        raise InputError(f"a sweep of {len(variants):,} variants x {seeds:,} seeds is "
                         f"{len(variants) * seeds:,} runs; at most {MAX_SWEEP_RUNS:,} are allowed")
    return [(v, v.seed + k) for v in variants for k in range(seeds)]


def run_jobs(jobs: list[tuple[Variant, int]], workers: int = 2, address: str | None = None,
             progress: Progress | None = None) -> list[dict[str, Any]]:
    """Run the (variant, seed) pairs of :func:`plan_sweep`; one row each, in order. Each
    run gets the user's ``--agents`` files, which a Ray worker must load itself."""
    from lobsim import registry

    files = registry.agent_files()
    calls = [(v.data, f"{v.source} {v.values}" if v.values else v.source, seed, files)
             for v, seed in jobs]
    summaries = map_calls(run_one, calls, workers, address, progress)
    rows = []
    for (variant, seed), summary in zip(jobs, summaries):
        rows.append({"variant": variant.index, "seed": seed, **variant.values,
                     **flatten({k: v for k, v in summary.items() if k != "scenario"}),
                     **group_metrics(variant.data, summary)})
    return rows


# ------------------------------------------------------------------------ writing


def to_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows -> a table with every key as a column (missing values null), in first-seen order."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    return pa.table({c: pa.array([row.get(c) for row in rows]) for c in columns})


def default_metrics(rows: list[dict[str, Any]]) -> list[str]:
    """Mean spread and every agent group's mean PnL, when present."""
    keys = dict.fromkeys(k for row in rows for k in row)
    return [k for k in keys if k == "market.mean_spread" or (k.startswith("group.") and k.endswith(".pnl_mean"))]


def confidence(values: np.ndarray) -> tuple[float, float]:
    """(mean, half-width of its 95% Student-t interval) of the finite ``values``. The
    half-width is NaN below two values (one seed has no spread to estimate, and a band of
    width 0 would read as certainty): tables print ``n/a`` and plots draw no band."""
    mean, half = mean_ci95(values)
    return mean, math.nan if half is None else half


def plot(rows: list[dict[str, Any]], axes: list[Axis], chosen: list[str], path: Path) -> None:
    """One panel per metric against the first swept key (one line per combination of the
    others), mean over seeds with a 95% confidence band."""
    from lobsim.analysis.figures import new_figure

    fig, panels = new_figure(1, len(chosen), size=(4.2 * len(chosen), 3.6))
    x_axis = axes[0]
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in x_axis.values)
    xs = np.array(x_axis.values if numeric else range(len(x_axis.values)), dtype=np.float64)
    others = list(itertools.product(*(a.values for a in axes[1:])))
    for metric, ax in zip(chosen, panels):
        for combo in others:
            stats = np.array([confidence(np.array(
                [_num(r.get(metric)) for r in rows if r[x_axis.key] == x
                 and all(r[a.key] == v for a, v in zip(axes[1:], combo))], dtype=np.float64))
                for x in x_axis.values]).reshape(-1, 2)
            label = ", ".join(f"{a.key}={v}" for a, v in zip(axes[1:], combo)) or None
            line, = ax.plot(xs, stats[:, 0], "o-", label=label)
            ax.fill_between(xs, stats[:, 0] - stats[:, 1], stats[:, 0] + stats[:, 1],
                            color=line.get_color(), alpha=0.2)
        if not numeric:
            ax.set_xticks(xs, [str(v) for v in x_axis.values])
        ax.set(xlabel=x_axis.key, title=metric)
        ax.ticklabel_format(axis="y", useOffset=False)
        if len(others) > 1:
            ax.legend(fontsize=7)
    seeds = len({r["seed"] for r in rows})
    band = "with 95% confidence band" if seeds > 1 else "(no confidence band: one seed)"
    fig.suptitle(f"mean over {seeds} seed{'s' * (seeds != 1)} {band}", fontsize=9)
    fig.savefig(path)


def _num(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def write_sweep(rows: list[dict[str, Any]], axes: list[Axis], out_dir: Path,
                chosen: list[str] | None = None, with_plot: bool = True) -> list[Path]:
    """Write ``sweep.parquet`` (and ``sweep.png``) into ``out_dir``, atomically."""
    out_dir = Path(out_dir)
    chosen = chosen or default_metrics(rows)
    known = {k for row in rows for k in row}
    missing = [m for m in chosen if m not in known]
    if missing:
        raise InputError(f"--metric {missing[0]!r}: no such column (e.g. {', '.join(default_metrics(rows))})")
    with staged_directory(out_dir) as staging:
        pq.write_table(to_table(rows), staging / "sweep.parquet", compression="zstd")
        if with_plot and axes and chosen:
            plot(rows, axes, chosen, staging / "sweep.png")
        names = sorted(path.name for path in staging.iterdir())
    return [out_dir / name for name in names]
