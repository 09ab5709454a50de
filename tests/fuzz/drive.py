"""Run every corpus item of one kind on one engine, in this process, through ``lobsim``'s
command line (:func:`lobsim.cli.main`); print one JSON line per item.

    python tests/fuzz/drive.py KIND OUT_DIR     # KIND: run, replay, read or policy

The engine is chosen by the environment, as for ``lobsim`` itself: ``LOBSIM_PURE_PYTHON=1``
for the interpreted engine and the Python book, unset for the compiled ones (``run`` also
passes ``--engine python``, or ``--engine auto``: the twins where they can run the item,
else the compiled build). ``test_corpus.py`` starts this once per kind
and engine (one interpreter start each, not one per item) under a timeout, and compares
the engines' lines. Each item prints ``START name`` first, so a hang is named by the last
one started; ``SIGALRM`` after ``ITEM_SECONDS`` records a hang in pure Python code too.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import signal
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ITEM_SECONDS = 30


class Hang(BaseException):
    """The item ran longer than ITEM_SECONDS."""


def _alarm(signum: int, frame: object) -> None:
    raise Hang


def items(kind: str) -> list[Path]:
    """The corpus items of ``kind``, sorted by name."""
    if kind == "run":
        return sorted(HERE.glob("run-*.toml"))
    if kind == "replay":
        return sorted(HERE.glob("replay-*.jsonl"))
    folder = HERE / ("checkpoints" if kind == "policy" else "runs")
    return sorted(p for p in folder.iterdir() if p.is_dir())


def commands(kind: str, item: Path, out: Path, engine: str) -> list[list[str]]:
    """The lobsim command lines to run for ``item``, writing under ``out``."""
    if kind == "run":
        return [["run", str(item), "--out", str(out / "run"), "--no-progress", "--engine", engine]]
    if kind == "replay":
        return [["replay", str(item)]]
    if kind == "policy":
        return [["evaluate", str(HERE / "policy-scenario.toml"), "--policy", str(item),
                 "--episodes", "1", "--no-progress"]]
    shutil.copytree(item, out / "run")
    return [["report", str(out / "run")], ["export", str(out / "run"), "--lobster", str(out / "lob")]]


def call(argv: list[str], root: Path) -> dict:
    """One ``lobsim`` command: its exit code, stderr (paths under ``root`` as ``<out>``), a
    digest of stdout without its ``wrote``/``engine`` lines, and a digest per file it wrote."""
    from lobsim.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    signal.alarm(ITEM_SECONDS)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(argv)
    except Hang:
        code, stderr = "hang", io.StringIO(f"no result in {ITEM_SECONDS} s")
    except BaseException:  # noqa: BLE001 - what the corpus exists to catch
        code, stderr = "traceback", io.StringIO(traceback.format_exc())
    finally:
        signal.alarm(0)
    kept = [line for line in stdout.getvalue().splitlines()
            if not line.startswith(("engine:", "wrote"))]
    return {"argv": argv[0], "code": code, "stderr": stderr.getvalue().replace(str(root), "<out>"),
            "stdout": hashlib.sha256("\n".join(kept).encode()).hexdigest()[:16]}


def files(out: Path) -> dict[str, str]:
    """sha256 of every file under ``out`` (relative names), to compare the engines' bytes."""
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()[:16]
            for p in sorted(out.rglob("*")) if p.is_file()}


def main(kind: str, out_root: Path) -> None:
    signal.signal(signal.SIGALRM, _alarm)
    engine = "python" if os.environ.get("LOBSIM_PURE_PYTHON", "") not in ("", "0") else "auto"
    for item in items(kind):
        print(f"START {item.name}", flush=True)
        out = out_root / item.name
        out.mkdir(parents=True)
        calls = [call(argv, out) for argv in commands(kind, item, out, engine)]
        written = files(out / "run") if kind == "run" and (out / "run").exists() else {}
        print(json.dumps({"item": item.name, "calls": calls, "files": written}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
