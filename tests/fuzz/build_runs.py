"""Rebuild ``tests/fuzz/runs/``: run directories that open but hold wrong contents (issue 20,
section 5), each derived from one small run of ``run-edge-scripted-at-max.toml``; and
``tests/fuzz/checkpoints/``: damaged checkpoints of one small DQN on ``policy-scenario.toml``.

    python tests/fuzz/build_runs.py    # then commit tests/fuzz/runs/ and checkpoints/

Each directory is read by ``lobsim report`` and ``lobsim export`` in ``test_corpus.py``,
which expects one line naming the file and exit 2. To add a case, add a function to
``CASES`` that edits the copied run directory.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
RUNS = HERE / "runs"
CHECKPOINTS = HERE / "checkpoints"


def _events(run: Path, edit: Callable[[pa.Table], pa.Table]) -> None:
    path = run / "events.parquet"
    pq.write_table(edit(pq.read_table(path)), path)


def _column(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    i = table.column_names.index(name)
    return table.set_column(i, pa.field(name, values.type), values)


def _tick(value: str) -> Callable[[pa.Table], pa.Table]:
    def edit(table: pa.Table) -> pa.Table:
        meta = dict(table.schema.metadata)
        meta[b"lobsim.tick_size"] = value.encode()
        return table.replace_schema_metadata(meta)
    return edit


def _summary(text: str) -> Callable[[Path], None]:
    return lambda run: (run / "summary.json").write_text(text)


def _side_zero(table: pa.Table) -> pa.Table:
    sides = table.column("side").to_pylist()
    kinds = table.column("kind").to_pylist()
    sides[kinds.index("fill")] = 0
    return _column(table, "side", pa.array(sides, pa.int8()))


CASES: dict[str, Callable[[Path], None]] = {
    "no-accepted": lambda run: _events(run, lambda t: t.filter(pa.compute.not_equal(t["kind"], "accepted"))),
    "reversed-rows": lambda run: _events(run, lambda t: t.take(pa.array(range(len(t) - 1, -1, -1)))),
    "side-zero": lambda run: _events(run, _side_zero),
    "kind-integer": lambda run: _events(run, lambda t: _column(t, "kind", pa.array([0] * len(t), pa.int64()))),
    "price-string": lambda run: _events(run, lambda t: _column(t, "price", t["price"].cast(pa.string()))),
    "tick-nan": lambda run: _events(run, _tick("nan")),
    "tick-inf": lambda run: _events(run, _tick("inf")),
    "tick-zero": lambda run: _events(run, _tick("0")),
    "summary-list": _summary("[1, 2]\n"),
    "summary-string": _summary('"a run"\n'),
    "summary-duration-1e400": _summary('{"duration_s": 1e400}\n'),
    "summary-duration-1e15": _summary('{"duration_s": 1e15}\n'),
    "summary-duration-1e8": _summary('{"duration_s": 1e8}\n'),  # loadable, too long to report
    "summary-not-utf8": lambda run: (run / "summary.json").write_bytes(b'{"duration_s": 2.0, "x": "\xff"}'),
    "events-not-parquet": lambda run: (run / "events.parquet").write_bytes(b"PAR1 not really"),
    "book-qty-float": lambda run: pq.write_table(
        _column(pq.read_table(run / "book.parquet"), "qty",
                pq.read_table(run / "book.parquet")["qty"].cast(pa.float64())), run / "book.parquet"),
}


def _payload(edit: Callable[[dict], None], reseal: bool = True) -> Callable[[Path], None]:
    """A case that edits the checkpoint's payload (sealed again: only the edit is wrong)."""
    def case(folder: Path) -> None:
        import torch

        from lobsim.rl.checkpoint import checksum

        payload = torch.load(folder / "policy.pt", weights_only=True)
        edit(payload)
        if reseal:
            payload["checksum"] = checksum(payload)
        torch.save(payload, folder / "policy.pt")
    return case


def _flip_a_weight(folder: Path) -> None:
    """One flipped bit inside a tensor's bytes: the file still unpickles."""
    import torch

    path = folder / "policy.pt"
    tensor = next(iter(torch.load(path, weights_only=True)["state_dicts"]["q"].values()))
    data = bytearray(path.read_bytes())
    data[bytes(data).find(tensor.contiguous().numpy().tobytes()) + 5] ^= 0x40
    path.write_bytes(bytes(data))


def _nan_weight(payload: dict) -> None:
    next(iter(payload["state_dicts"]["q"].values())).view(-1)[0] = float("nan")


#: Damaged checkpoints for ``lobsim evaluate`` (issue 20, section 5), from one small DQN.
CHECKPOINT_CASES: dict[str, Callable[[Path], None]] = {
    "flipped-byte": _flip_a_weight,
    "nan-weights": _payload(_nan_weight),
    "step-1e18": _payload(lambda p: p["progress"].update(step=10**18)),
    "curve-damaged": _payload(lambda p: p["progress"].update(curve=[{"step": "x"}])),
    "edited-unsealed": _payload(lambda p: p["config"].update(hidden=7), reseal=False),
    "not-a-zip": lambda folder: (folder / "policy.pt").write_bytes(b"PK\x03\x04 not really"),
}


def build_checkpoints() -> None:
    from agents.rl import dqn
    from lobsim.scenario import load

    base = CHECKPOINTS / "_base"
    shutil.rmtree(CHECKPOINTS, ignore_errors=True)
    dqn.train(load(HERE / "policy-scenario.toml"), steps=40, seed=1, out=base, num_envs=2,
              workers=0, learning_starts=20, batch_size=8, train_interval=2, hidden=4)
    for name, edit in CHECKPOINT_CASES.items():
        (CHECKPOINTS / name).mkdir(parents=True)
        shutil.copy(base / "policy.pt", CHECKPOINTS / name / "policy.pt")
        edit(CHECKPOINTS / name)
    shutil.rmtree(base)


def main() -> None:
    build_checkpoints()
    base = RUNS / "_base"
    shutil.rmtree(RUNS, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "lobsim", "run", "run-edge-scripted-at-max.toml",  # no
                    "--out", str(base.relative_to(HERE)), "--no-progress"],  # absolute paths inside
                   check=True, stdout=subprocess.DEVNULL, cwd=HERE)
    for name, edit in CASES.items():
        run = RUNS / name
        shutil.copytree(base, run)
        edit(run)
    shutil.rmtree(base)


if __name__ == "__main__":
    main()
