"""The fuzz corpus of issue 20 on both engines: every item ends the same way on SimPy and
on the compiled engine (the same bytes, or the same one-line error with exit 2), as
``expected.toml`` says, with no traceback and no hang. See docs/robustness.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
DRIVE = HERE / "drive.py"
EXPECTED = tomllib.loads((HERE / "expected.toml").read_text())
#: seconds for one kind's whole pass on one engine (a hang is also caught per item)
TIMEOUT = 120


def _pass(kind: str, engine: str, out: Path) -> dict[str, dict]:
    """Run drive.py for ``kind`` on ``engine``; its results by item."""
    env = {k: v for k, v in os.environ.items() if k != "LOBSIM_PURE_PYTHON"}
    if engine == "python":
        env["LOBSIM_PURE_PYTHON"] = "1"
    try:
        done = subprocess.run([sys.executable, str(DRIVE), kind, str(out)], env=env,
                              capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        started = [line for line in (exc.stdout or b"").decode().splitlines() if line.startswith("START")]
        pytest.fail(f"{kind} on {engine}: no end in {TIMEOUT} s; last {started[-1:] or 'none'}")
    assert done.returncode == 0, done.stderr[-2000:]
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {r["item"]: r for r in results}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[tuple[str, str], dict[str, dict]]:
    root = tmp_path_factory.mktemp("corpus")
    return {(kind, engine): _pass(kind, engine, root / f"{kind}-{engine}")
            for kind in EXPECTED for engine in ("python", "compiled")}


def _problems(item: str, expectation: int | str | dict, python: dict, compiled: dict) -> list[str]:
    """What is wrong with one item's two results (empty: nothing). ``expectation``: 0 (exit 0),
    a text the one-line error must hold (exit 2), or a table of those by command."""
    problems = []
    for engine, result in (("python", python), ("compiled", compiled)):
        for c in result["calls"]:
            expected = expectation[c["argv"]] if isinstance(expectation, dict) else expectation
            if c["code"] not in (0, 2):
                problems.append(f"{item} {c['argv']} on {engine}: {c['code']}: {c['stderr'][-300:]}")
            elif c["code"] == 2 and (c["stderr"].count("\n") != 1 or "Traceback" in c["stderr"]):
                problems.append(f"{item} {c['argv']} on {engine}: not one line: {c['stderr'][:300]!r}")
            elif c["code"] == 2 and not (isinstance(expected, str) and expected in c["stderr"]):
                problems.append(f"{item} {c['argv']} on {engine}: expected {expected!r}, got "
                                f"{c['stderr'].strip()[:300]!r}")
            elif c["code"] == 0 and expected != 0:
                problems.append(f"{item} {c['argv']} on {engine}: exit 0, expected {expected!r}")
    if python["calls"] != compiled["calls"] or python["files"] != compiled["files"]:
        problems.append(f"{item}: the engines disagree: {python} != {compiled}")
    return problems


@pytest.mark.parametrize("kind", ["run", "replay", "read", "policy"])
def test_every_item_ends_the_same_on_both_engines(outcomes, kind):
    python, compiled = outcomes[(kind, "python")], outcomes[(kind, "compiled")]
    assert sorted(python) == sorted(EXPECTED[kind]), "every corpus item needs an entry in expected.toml"
    problems = [p for item, expected in EXPECTED[kind].items()
                for p in _problems(item, expected, python[item], compiled[item])]
    assert not problems, "\n".join(problems)


def test_valid_items_write_the_same_files_on_both_engines(outcomes):
    ran = {item: r for item, r in outcomes[("run", "python")].items() if EXPECTED["run"][item] == 0}
    assert ran, "the corpus has valid scenarios at the bounds"
    for item, result in ran.items():
        assert "events.parquet" in result["files"], item
        assert result["files"] == outcomes[("run", "compiled")][item]["files"], item
