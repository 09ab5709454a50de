"""Training on a grid: settings x training seeds of ``lobsim train``, each cell evaluated
against the baselines on held-out seeds (:mod:`lobsim.rl.evaluation`), fanned out in local
processes or as Ray tasks (:mod:`lobsim.fanout`, the fan-out ``lobsim sweep`` uses).

``--set KEY=V1,V2,...`` takes two kinds of key (:func:`plan`): a learner setting (a field
of the learner's ``Args``, e.g. ``learning_rate``, ``batch_size``, ``mode``: no dot) or a
scenario key path as ``lobsim sweep`` reads it (``agents.maker.inventory_coef``,
``market.tick_size``: dotted). A key given one value is a fixed setting. The grid is
every combination (first ``--set`` slowest) times the training seeds ``seed``, ``seed +
1``, ... A cell is one (variant, training seed).

A cell is a pure function of its arguments (:func:`train_cell`): it trains with the
simulations in its own process (``workers = 0``: the cells are what runs in parallel;
a learner's results do not depend on its number of simulation processes), then evaluates
the policy on ``eval_episodes`` held-out seeds of ``eval_seed``. It returns its files as
bytes, so a Ray worker on another host needs no shared file system; this process writes
each cell's directory (``DIR/cells/NAME``) as soon as the cell is done.

An interrupted grid keeps its finished cells: the same command again trains only the
cells without ``evaluation.json``, as long as ``DIR/plan.json`` (everything that decides
the results) is unchanged; another plan in the same directory is refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
import os
import shutil
import signal
import tempfile
import threading
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lobsim.analysis.sweep import Axis, expand
from lobsim.errors import InputError, LobsimError
from lobsim.fanout import Progress, map_calls
from lobsim.stats import ci95, mean_ci95

#: Learner settings the grid itself decides, with the option that sets them.
RESERVED = {"seed": "--seed and --seeds", "total_steps": "--steps",
            "workers": "cells simulate in their own process"}
CELLS = "cells"
PLAN = "plan.json"
EVALUATION = "evaluation.json"
TRAIN_SUMMARY = "train_summary.json"
TIME_PREFIX = "time."  #: wall-time columns: the only ones that differ from run to run


@dataclass(frozen=True)
class Cell:
    """One (variant, training seed) of the grid."""

    name: str  #: its directory under DIR/cells: ``v{variant}-seed{seed}``
    variant: int
    values: dict[str, Any]  #: swept key -> value
    seed: int
    data: dict[str, Any] = field(repr=False)  #: the raw scenario with the scenario keys set
    settings: dict[str, Any] = field(repr=False)  #: the learner settings set


@dataclass(frozen=True)
class Plan:
    """Everything that decides a grid's results (:meth:`record` is ``plan.json``)."""

    algo: str
    source: str
    axes: list[Axis]
    cells: list[Cell]
    steps: int | None
    eval_episodes: int
    eval_seed: int

    def record(self) -> dict[str, Any]:
        digest = hashlib.sha256(json.dumps([c.data for c in self.cells], sort_keys=True,
                                           default=str).encode()).hexdigest()
        return {"algo": self.algo, "scenario": self.source, "scenario_sha256": digest,
                "axes": [[a.key, list(a.values)] for a in self.axes],
                "seeds": sorted({c.seed for c in self.cells}), "steps": self.steps,
                "eval_episodes": self.eval_episodes, "eval_seed": self.eval_seed}


def plan(scenario_path: Path, algo: str, axes: list[Axis], seeds: int, seed: int = 1,
         steps: int | None = None, eval_episodes: int = 20, eval_seed: int = 12345) -> Plan:
    """The grid's cells, every input checked first (one line each): the learner, the
    scenario and each variant of it, each setting against the learner's ``Args``.
    O(variants) scenario validations."""
    from lobsim import registry
    from lobsim.rl.env import load_scenario, require_learners
    from lobsim.scenario.config import MAX_SEED, MAX_SWEEP_RUNS, MAX_SWEEP_SEEDS
    from lobsim.scenario.loader import from_dict

    if not 1 <= seeds <= MAX_SWEEP_SEEDS:
        raise InputError(f"--seeds must be from 1 to {MAX_SWEEP_SEEDS:,}, got {seeds}")
    if not 0 <= seed <= MAX_SEED - seeds:
        raise InputError(f"--seed must be from 0 to {MAX_SEED - seeds:,}, got {seed}")
    keys = [a.key for a in axes]
    if len(set(keys)) != len(keys):
        raise InputError("--set: the same key is swept twice")
    learner = registry.load("lobsim.learners", algo)
    require_learners(load_scenario(scenario_path), "to train")
    check = getattr(learner, "check_settings", None)  # a learner record of lobsim's shape
    for axis in axes:
        if "." not in axis.key:
            if axis.key in RESERVED:
                raise InputError(f"--set {axis.key}: not a grid setting ({RESERVED[axis.key]})")
            if check is None:
                raise InputError(f"--set {axis.key}: learner {algo!r} does not list its settings")
            for value in axis.values:
                check({axis.key: value}, f"--set {axis.key}={value!r}")
    count = math.prod(len(a.values) for a in axes) * seeds
    if count > MAX_SWEEP_RUNS:
        raise InputError(f"a grid of {count:,} cells; at most {MAX_SWEEP_RUNS:,} are allowed")
    with open(scenario_path, "rb") as handle:
        data = tomllib.load(handle)
    scenario_axes = [a for a in axes if "." in a.key]
    variants = {tuple(v.values.values()): v for v in expand(data, scenario_axes, str(scenario_path))}
    for v in variants.values():
        require_learners(from_dict(v.data, str(scenario_path)), f"to train ({v.values})")
    cells = []
    for index, combo in enumerate(itertools.product(*(a.values for a in axes))):
        values = dict(zip(keys, combo))
        variant = variants[tuple(values[a.key] for a in scenario_axes)]
        settings = {k: v for k, v in values.items() if "." not in k}
        cells += [Cell(f"v{index}-seed{s}", index, values, s, variant.data, settings)
                  for s in range(seed, seed + seeds)]
    return Plan(algo, str(scenario_path), list(axes), cells, steps, eval_episodes, eval_seed)


def train_cell(name: str, data: dict[str, Any], source: str, algo: str, settings: dict[str, Any],
               seed: int, steps: int | None, eval_episodes: int, eval_seed: int,
               agent_files: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Train one cell and evaluate it: ``{"summary", "evaluation", "files": {name: bytes}}``
    (``{"interrupted": True}`` if Ctrl-C stopped the training). A pure function of its
    arguments except the summary's wall times. An error is one line naming the cell."""
    try:
        return _train_cell(data, source, algo, settings, seed, steps, eval_episodes, eval_seed,
                           agent_files)
    except LobsimError as exc:
        raise type(exc)(f"cell {name}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a bug or MemoryError in one cell: one line
        detail = " ".join(str(exc).split())[:200]
        raise LobsimError(f"cell {name}: training failed: {type(exc).__name__}"
                          f"{': ' + detail if detail else ''}") from None


def _train_cell(data: dict[str, Any], source: str, algo: str, settings: dict[str, Any], seed: int,
                steps: int | None, eval_episodes: int, eval_seed: int,
                agent_files: tuple[Path, ...]) -> dict[str, Any]:
    from lobsim import registry
    from lobsim.rl.evaluation import evaluate, load_policy
    from lobsim.scenario.loader import from_dict

    for path in agent_files:  # a spawned process or a Ray worker starts without them
        registry.load_agent_file(path)
    scenario = from_dict(data, source)
    learner = registry.load("lobsim.learners", algo)
    with _scratch() as tmp:
        summary = learner.train(scenario, steps=steps, seed=seed, out=Path(tmp), resume=None,
                                progress=None, **{**settings, "workers": 0})
        if summary.get("interrupted"):
            return {"interrupted": True}
        policy, payload = load_policy(Path(tmp))
        report = evaluate(scenario, policy, payload, eval_episodes, eval_seed, where=source)
        files = {p.name: p.read_bytes() for p in sorted(Path(tmp).iterdir()) if p.is_file()}
    summary.pop("out", None)  # a temporary directory of the worker
    return {"summary": summary, "evaluation": report, "files": files}


@contextlib.contextmanager
def _scratch() -> Iterator[str]:
    """A temporary directory for one cell's training, removed afterwards, also when a
    stopped grid ends the pool's worker with SIGTERM (which then exits at once: a
    SystemExit would be caught by the pool's worker loop, which would go on)."""
    tmp = tempfile.mkdtemp(prefix="lobsim-cell-")

    def end(*_: Any) -> None:
        shutil.rmtree(tmp, ignore_errors=True)
        os._exit(143)

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, end) if main else None
    try:
        yield tmp
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(tmp, ignore_errors=True)


def metrics(report: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    """One cell's figures: per seat the learner's mean reward (``reward.SEAT``), its
    shortfall for executors (``shortfall.SEAT``) and its reward minus each other
    controller's, paired by seed (``vs_KIND.SEAT``); each averaged over the seats that have
    it (``reward``, ``vs_KIND``); the validation's best score; and wall times
    (``time.*``)."""
    out: dict[str, Any] = {}
    for seat, rows in report["seats"].items():
        out[f"reward.{seat}"] = rows["learner"]["reward_mean"]
        if "shortfall_mean" in rows["learner"]:
            out[f"shortfall.{seat}"] = rows["learner"]["shortfall_mean"]
    for seat, kinds in report["paired"].items():
        for kind, diff in kinds.items():
            out[f"vs_{kind}.{seat}"] = diff["diff_mean"]
    for head in dict.fromkeys(k.split(".")[0] for k in list(out)):
        values = [v for k, v in out.items() if k.startswith(head + ".")]
        out[head] = sum(values) / len(values)
    validation = summary.get("validation") or {}
    out["validation"] = validation.get("best_score")
    out["time.train_seconds"] = summary.get("seconds")
    out["time.steps_per_second"] = summary.get("steps_per_second")
    return out


def varying(axes: list[Axis]) -> list[Axis]:
    """The axes with more than one value (the others are fixed settings), or the first
    axis if none varies: what tables and plots lay out."""
    return [a for a in axes if len(a.values) > 1] or axes[:1]


def default_metrics(rows: list[dict[str, Any]]) -> list[str]:
    """What the table and the plot show by default: the seat-averaged reward and
    learner-minus-controller columns."""
    keys = dict.fromkeys(k for row in rows for k in row)
    return [k for k in keys if k == "reward" or (k.startswith("vs_") and "." not in k)]


def summarize(rows: list[dict[str, Any]], axes: list[Axis]) -> list[dict[str, Any]]:
    """Per variant: its values, its training seeds, and per numeric column the mean over
    those seeds with its 95% t-interval (:mod:`lobsim.stats`; None below two seeds)."""
    out = []
    for variant in dict.fromkeys(r["variant"] for r in rows):
        picked = [r for r in rows if r["variant"] == variant]
        numeric = [k for k in picked[0] if k not in ("variant", "seed", "cell")
                   and k not in {a.key for a in axes}]
        stats = {}
        for key in numeric:
            values = [r[key] for r in picked if isinstance(r.get(key), (int, float))]
            stats[key] = {"mean": mean_ci95(values)[0] if values else None,
                          "ci95": ci95(values) if values else None}
        out.append({"variant": variant, "values": {a.key: picked[0][a.key] for a in axes},
                    "seeds": [r["seed"] for r in picked], "metrics": stats})
    return out


# ------------------------------------------------------------------------ running


def run(plan: Plan, out: Path, workers: int = 2, address: str | None = None,
        progress: Progress | None = None,
        on_cell: Callable[[Cell, dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Train and evaluate the cells of ``plan`` that ``out`` does not hold yet
    (:func:`open_output`), ``workers`` at a time (1: in this process) or as Ray tasks on
    ``address``; write each cell's directory as it finishes and call ``on_cell(cell, row)``.
    Returns every cell's row (:func:`cell_row`), in the plan's order."""
    from lobsim import registry

    finished = open_output(plan, out)
    todo = [c for c in plan.cells if c.name not in finished]
    files = registry.agent_files()
    calls = [(c.name, c.data, plan.source, plan.algo, c.settings, c.seed, plan.steps,
              plan.eval_episodes, plan.eval_seed, files) for c in todo]

    def done(index: int, result: dict[str, Any]) -> None:
        if result.get("interrupted"):  # Ctrl-C reached a training: stop the grid here
            raise KeyboardInterrupt
        save_cell(out, todo[index], result)
        result.pop("files")  # on disk now: a long grid does not hold every policy in memory
        if on_cell is not None:
            on_cell(todo[index], cell_row(out, todo[index]))

    def counted(count: int, total: int) -> None:
        if progress is not None:
            progress(len(finished) + count, len(plan.cells))

    if progress is not None:
        progress(len(finished), len(plan.cells))
    map_calls(train_cell, calls, workers, address, counted, done, start="spawn")  # cells run torch
    return [cell_row(out, c) for c in plan.cells]


def open_output(plan: Plan, out: Path) -> set[str]:
    """Make ``out`` the grid's directory; the names of the cells it already holds.

    A directory with the same ``plan.json`` is continued (its cells with an
    ``evaluation.json`` are finished); one with another plan is refused in one line (a
    typo must not throw away hours of training); any other output of lobsim's is replaced
    as a whole, as every command does (:func:`lobsim.fileio.claim_output`)."""
    from lobsim.fileio import MARKER, atomic_write, claim_output

    record = json.loads(json.dumps(plan.record()))  # as it reads back from the file
    path = out / PLAN
    if path.is_file():
        try:
            old = json.loads(path.read_text())
        except (OSError, ValueError):
            old = {}
        differs = [k for k in record if not isinstance(old, dict) or old.get(k) != record[k]]
        if differs:
            raise InputError(f"{out} holds another train-sweep ({PLAN} differs in "
                             f"{', '.join(differs)}); choose another --out or remove it")
        return {c.name for c in plan.cells if (out / CELLS / c.name / EVALUATION).is_file()}
    claim_output(out)
    try:
        (out / CELLS).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {out}: {exc.strerror or exc}") from None
    (out / MARKER).write_text("written by lobsim train-sweep: finished cells are kept while "
                              "plan.json is unchanged\n")
    with atomic_write(path) as handle:
        json.dump(record, handle, indent=2)
    return set()


def save_cell(out: Path, cell: Cell, result: dict[str, Any]) -> None:
    """``out``/cells/NAME: the training's files, ``train_summary.json`` and
    ``evaluation.json``, installed whole (a cell is either finished or absent)."""
    from lobsim.fileio import staged_directory

    with staged_directory(out / CELLS / cell.name) as staging:
        for name, blob in result["files"].items():
            (staging / name).write_bytes(blob)
        (staging / TRAIN_SUMMARY).write_text(json.dumps(result["summary"], indent=2))
        (staging / EVALUATION).write_text(json.dumps(result["evaluation"], indent=2))


def cell_row(out: Path, cell: Cell) -> dict[str, Any]:
    """A finished cell's row: its name, variant, seed, swept values and :func:`metrics`."""
    where = out / CELLS / cell.name
    try:
        report = json.loads((where / EVALUATION).read_text())
        summary = json.loads((where / TRAIN_SUMMARY).read_text())
        figures = metrics(report, summary)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{where}: not a finished cell ({type(exc).__name__}: "
                         f"{' '.join(str(exc).split())[:120]}); remove it to train it again") from None
    return {"cell": cell.name, "variant": cell.variant, "seed": cell.seed, **cell.values, **figures}


def write_tables(rows: list[dict[str, Any]], plan: Plan, out: Path, chosen: list[str],
                 with_plot: bool = True) -> list[Path]:
    """``train_sweep.csv`` (one row per cell), ``train_sweep.json`` (the plan, the rows and
    per variant the mean and 95% interval over training seeds) and ``train_sweep.png``
    (``chosen`` against the first key that takes several values, one line per combination
    of the others: :func:`lobsim.analysis.sweep.plot`)."""
    import csv

    from lobsim.analysis.sweep import plot
    from lobsim.fileio import atomic_write

    columns = list(dict.fromkeys(k for row in rows for k in row))
    written = [out / "train_sweep.csv", out / "train_sweep.json"]
    with atomic_write(written[0]) as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows({k: json.dumps(v) if isinstance(v, (list, dict)) else v
                          for k, v in row.items()} for row in rows)
    with atomic_write(written[1]) as handle:
        json.dump({"plan": plan.record(), "rows": rows, "variants": summarize(rows, plan.axes)},
                  handle, indent=2)
    if with_plot and chosen:
        written.append(out / "train_sweep.png")
        with atomic_write(written[2], "wb") as handle:
            plot(rows, varying(plan.axes), chosen, handle)
    return written
