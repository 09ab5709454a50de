"""Warm starts: ``lobsim train --init-from POLICY_DIR`` loads a policy's networks into a
new run on another scenario (docs/learning.md); and the transfer figures of docs/results.md:
when a warm-started run reaches the from-scratch run's final reward (:func:`compare`,
:func:`measure`), plotted for several training seeds (:func:`figure`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from agents.rl.common import VecMarket, load_checkpoint, load_state, payload_obs_sizes
from lobsim.errors import CheckpointError

def warm_start(init_from: Path, algo: str, envs: VecMarket, args: Any,
               networks: dict[str, nn.Module], shape_keys: tuple[str, ...] = ("mode", "hidden")) -> dict:
    """Load the networks of a policy trained on another scenario (``--init-from DIR``).

    ``networks``: state-dict key in the checkpoint -> the module to fill. The checkpoint is
    read with ``torch.load(weights_only=True)``; it must be ``algo``'s, with the same
    settings ``shape_keys`` as ``args`` and, seat by seat, the same observation and action
    sizes as ``envs`` (seat names may differ); otherwise one :class:`CheckpointError`
    line. Only the weights carry over: optimizer, step count and curve start afresh.
    Returns what the training summary records of the source."""
    where = f"--init-from {init_from}"
    payload = load_checkpoint(init_from, algo)
    config = payload["config"]
    for key in shape_keys:
        if config.get(key) != getattr(args, key):
            raise CheckpointError(f"{where}: trained with {key} {config.get(key)!r}, this run "
                                  f"uses {getattr(args, key)!r}")
    theirs = [(int(o), int(a)) for o, a in zip(payload_obs_sizes(payload), payload["n_actions"])]
    ours = [(int(o), int(a)) for o, a in zip(envs.obs_sizes, envs.n_actions)]  # plain ints in the message
    if theirs != ours:
        raise CheckpointError(f"{where}: seat spaces (obs, actions) {theirs} do not match this "
                              f"scenario's {ours}")
    for key, module in networks.items():
        load_state(module, payload["state_dicts"][key], where)
    return {"init_from": str(init_from), "init_from_step": payload["progress"]["step"]}


def running_mean(rows: list[dict], column: str = "reward", window: int = 20) -> tuple[list[int], list[float]]:
    """(step, mean of ``column`` over the last ``window`` finished episodes) after every
    episode of a learning curve (``learning_curve.csv`` rows, in order). O(rows)."""
    steps, means, total = [], [], 0.0
    values = [float(r[column]) for r in rows]
    for i, value in enumerate(values):
        total += value - (values[i - window] if i >= window else 0.0)
        steps.append(int(rows[i]["step"]))
        means.append(total / min(i + 1, window))
    return steps, means


def full_windows(rows: list[dict], column: str = "reward", window: int = 20) -> tuple[list[int], list[float]]:
    """:func:`running_mean` where the window is full, one point per step (episodes that
    end at the same step, one per parallel env, give the last): what :func:`steps_to_reach`
    reads, as plotted."""
    points: dict[int, float] = {}
    for i, (step, mean) in enumerate(zip(*running_mean(rows, column, window))):
        if i + 1 >= window:
            points[step] = mean
    return list(points), list(points.values())


def steps_to_reach(rows: list[dict], target: float, column: str = "reward", window: int = 20) -> int | None:
    """The first env step at which the running mean of ``column`` (``window`` episodes,
    counted only once a full window has finished) reaches ``target``; None if never.

    Only the points of :func:`full_windows` count, the window of the last episode at each
    step: episodes of parallel envs end together, in the envs' order, and a window that
    mixes two such batches is no point of the curve."""
    for step, mean in zip(*full_windows(rows, column, window)):
        if mean >= target:
            return step
    return None


def compare(scratch: list[dict], warm: list[dict], column: str = "reward", window: int = 20) -> dict:
    """The transfer figure: the from-scratch run's final running mean of ``column``, the
    steps each run took to reach it, and their ratio (warm / scratch total steps)."""
    _, means = running_mean(scratch, column, window)
    target = means[-1]
    warm_steps = steps_to_reach(warm, target, column, window)
    total = int(scratch[-1]["step"])
    return {"column": column, "target": target, "scratch_steps": total, "warm_steps": warm_steps,
            "fraction": None if warm_steps is None else warm_steps / total}


def load_run(run_dir: Path) -> tuple[list[dict], list[dict]]:
    """A training directory's finished episodes (``learning_curve.csv`` rows: step, reward,
    reward_0, ...) and its greedy validations (``train_summary.json``: rows of step and
    score, the mean episode reward per seat on the validation episodes; [] without)."""
    import csv
    import json

    with open(Path(run_dir) / "learning_curve.csv", newline="") as handle:
        curve = list(csv.DictReader(handle))
    with open(Path(run_dir) / "train_summary.json") as handle:
        validation = json.load(handle).get("validation") or {}
    return curve, list(validation.get("history", []))


def measure(scratch_dir: Path, warm_dir: Path, seats: int, episodes: int = 8,
            validations: int = 1) -> list[dict]:
    """:func:`compare` of two training directories on every measure: each seat's training
    episodes (``reward_0`` ...), their mean over seats (``reward``), both as running means
    over ``episodes`` finished episodes, and the greedy validations (``score``, the mean
    episode reward per seat, running mean over ``validations``; only if both runs have
    them). Each dict also names its ``measure``."""
    (scratch, scratch_val), (warm, warm_val) = load_run(scratch_dir), load_run(warm_dir)
    columns = [f"reward_{i}" for i in range(seats)] + ["reward"]
    rows = [{"measure": "training episodes", **compare(scratch, warm, c, episodes)} for c in columns]
    if scratch_val and warm_val:
        rows.append({"measure": "greedy validation", **compare(scratch_val, warm_val, "score", validations)})
    return rows


@dataclass(frozen=True)
class Panel:
    """One panel of :func:`plot`: both runs' running means of one column."""

    title: str
    scratch: list[dict]
    warm: list[dict]
    column: str = "reward"
    window: int = 20
    ylabel: str = "episode reward"


def plot(panels: list[Panel], out: Path, title: str, columns: int = 3) -> None:
    """Both runs' running means (:func:`full_windows`), one panel each (``columns`` per row),
    as a PNG; a dotted line marks the from-scratch run's final value (the target), a grey
    one half its steps."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, min(columns, len(panels)), figsize=(4.6 * min(columns, len(panels)),
                             3.3 * rows), squeeze=False)
    for ax, panel in zip(axes.flat, panels):
        for runs, name in ((panel.scratch, "from scratch"), (panel.warm, "warm start")):
            ax.plot(*full_windows(runs, panel.column, panel.window), marker=".", label=name)
        figures = compare(panel.scratch, panel.warm, panel.column, panel.window)
        ax.axhline(figures["target"], color="k", linestyle=":", linewidth=1)
        ax.axvline(figures["scratch_steps"] / 2, color="grey", linewidth=1)
        ax.set_title(panel.title, fontsize=9)
        ax.set_xlabel("env steps")
        ax.set_ylabel(f"{panel.ylabel}, mean of {panel.window}" if panel.window > 1 else panel.ylabel)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / fig.get_figheight()))  # half an inch for the title
    fig.savefig(out, dpi=100)
    plt.close(fig)


def figure(runs: dict[str, tuple[Path, Path]], out: Path, title: str, seats: int = 2,
           episodes: int = 8, validations: int = 1) -> None:
    """The transfer figure of several training seeds: ``runs`` maps a label (e.g. "seed 8")
    to its (from-scratch, warm-start) directories; one row of panels each, every seat's
    training episodes (running mean over ``episodes``) and the greedy validations (over
    ``validations``), as :func:`measure` compares them."""
    panels = []
    for label, (scratch_dir, warm_dir) in runs.items():
        (scratch, scratch_val), (warm, warm_val) = load_run(scratch_dir), load_run(warm_dir)
        panels += [Panel(f"{label}: seat {i}, training episodes", scratch, warm, f"reward_{i}", episodes)
                   for i in range(seats)]
        panels.append(Panel(f"{label}: greedy validation (per seat)", scratch_val, warm_val, "score",
                            validations))
    plot(panels, out, title, columns=seats + 1)
