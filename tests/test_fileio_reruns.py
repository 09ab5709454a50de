"""Interrupted and reused runs (issue 20, section 6): temporaries a killed process left are
recognized and removed, an output directory is replaced as a whole, a foreign directory is
refused, and a failed rerun leaves nothing that looks like its result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from lobsim.cli import main
from lobsim.errors import InputError
from lobsim.fileio import MARKER, atomic_write, claim_output, restore_retired, staged_directory

SCENARIO = Path(__file__).resolve().parent / "fuzz" / "run-edge-scripted-at-max.toml"


def _dead_pid() -> int:
    """The PID of a process that has ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_staging_directory_left_by_a_killed_writer_is_removed_by_the_next_write(tmp_path):
    # a real SIGKILL in the middle of staged_directory
    code = ("import os, signal, sys\nfrom lobsim.fileio import staged_directory\n"
            "with staged_directory(sys.argv[1]) as s:\n"
            "    (s / 'big.bin').write_bytes(b'x' * 1000)\n"
            "    os.kill(os.getpid(), signal.SIGKILL)\n")
    killed = subprocess.run([sys.executable, "-c", code, str(tmp_path / "out")])
    assert killed.returncode == -signal.SIGKILL
    (left,) = [p for p in tmp_path.iterdir()]
    assert left.name.startswith(".out.lobsim-") and (left / "big.bin").exists()
    alive = tmp_path / f".out.lobsim-{os.getpid()}-0000beef"  # a live writer's: kept
    alive.mkdir()
    with staged_directory(tmp_path / "out") as staging:
        (staging / "a.txt").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == [alive.name, "out"]


def test_a_stale_temporary_file_is_removed_by_the_next_atomic_write(tmp_path):
    stale = tmp_path / f".x.json.lobsim-{_dead_pid()}-abcd1234.tmp"
    stale.write_text("half")
    other = tmp_path / ".x.json.notlobsim.tmp"  # not ours by name: never touched
    other.write_text("theirs")
    with atomic_write(tmp_path / "x.json") as handle:
        handle.write("{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == [other.name, "x.json"]


def test_a_rerun_replaces_the_output_directory_as_a_whole(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(SCENARIO), "--out", str(out), "--no-progress"]) == 0
    (out / "report").mkdir()
    (out / "report" / "report.html").write_text("old report")
    (out / "lob").mkdir()
    assert main(["run", str(SCENARIO), "--out", str(out), "--no-progress"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        MARKER, "agents.parquet", "book.parquet", "events.parquet", "scenario.resolved.toml",
        "summary.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # the retired copy is gone too


def test_a_directory_lobsim_did_not_write_is_refused_before_running(tmp_path, capsys, monkeypatch):
    from lobsim.sim.market import Market

    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "chapter1.tex").write_text("precious")
    monkeypatch.setattr(Market, "run", lambda *a, **k: pytest.fail("ran before refusing"))
    assert main(["run", str(SCENARIO), "--out", str(mine), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lobsim did not write" in err
    assert [p.name for p in mine.iterdir()] == ["chapter1.tex"]
    with pytest.raises(InputError, match="not a directory"):
        claim_output(mine / "chapter1.tex")


def test_an_empty_directory_and_a_legacy_output_are_accepted(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with staged_directory(empty) as staging:
        (staging / "a.txt").write_text("a")
    assert sorted(p.name for p in empty.iterdir()) == [MARKER, "a.txt"]
    legacy = tmp_path / "legacy"  # written before the marker: recognized by its summary
    legacy.mkdir()
    (legacy / "summary.json").write_text("{}")
    (legacy / "old.png").write_text("old")
    with staged_directory(legacy) as staging:
        (staging / "b.txt").write_text("b")
    assert sorted(p.name for p in legacy.iterdir()) == [MARKER, "b.txt"]


def test_a_failed_rerun_puts_the_previous_output_back_and_says_so(tmp_path, capsys, monkeypatch):
    from lobsim.sim.market import Market

    out = tmp_path / "run"
    assert main(["run", str(SCENARIO), "--out", str(out), "--no-progress"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()

    def crash(self, progress=None):
        raise KeyboardInterrupt  # Ctrl-C in the middle of the rerun

    monkeypatch.setattr(Market, "run", crash)
    assert main(["run", str(SCENARIO), "--out", str(out), "--no-progress"]) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "interrupted" in err and f"{out.absolute()} is kept" in err
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no hidden copy left beside it
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_rerun_that_succeeds_leaves_no_retired_copy_to_restore(tmp_path):
    out = tmp_path / "out"
    for text in ("first", "second"):
        with staged_directory(out) as staging:
            (staging / "a.txt").write_text(text)
    assert restore_retired() == []
    assert (out / "a.txt").read_text() == "second" and len(list(tmp_path.iterdir())) == 1
