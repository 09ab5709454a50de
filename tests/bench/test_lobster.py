"""``lobsim bench lobster``: prints its figures (not timed here), refuses bad options in one line."""

from __future__ import annotations

from pathlib import Path

from support.lobster_files import MESSAGES, ORDERBOOK

from lobsim.cli import main


def write(path: Path, *rows: str) -> Path:
    path.write_text("".join(row + "\n" for row in rows))
    return path


def test_bench_lobster_prints_read_and_replay_figures(tmp_path, capsys):
    m, b = write(tmp_path / "m.csv", *MESSAGES), write(tmp_path / "b.csv", *ORDERBOOK)
    assert main(["bench", "lobster", str(m), "--orderbook", str(b), "--repeat", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{m}: 7 rows, 2 levels" and lines[1].startswith("first read of the process")
    assert lines[2].startswith("read ") and lines[3].startswith("replay ") and "rows/s" in lines[3]
    assert lines[4] == "resyncs 2; match rate per level: 100.00% 100.00%"


def test_bench_lobster_bad_options(tmp_path, capsys):
    m = write(tmp_path / "m.csv", *MESSAGES)
    assert main(["bench", "lobster", str(m), "--repeat", "0"]) == 2
    assert capsys.readouterr().err == "lobsim bench: error: --repeat must be between 1 and 1000, got 0\n"
    assert main(["bench", "lobster", str(tmp_path / "none.csv")]) == 2
    assert "cannot read" in capsys.readouterr().err
