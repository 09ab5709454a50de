"""Out-of-range command-line numbers are one line and exit 2, before any work (issue 20):
the bounds come from lobsim.scenario.config, like the scenario loader's."""

from __future__ import annotations

from pathlib import Path

import pytest

from lobsim.cli import main

SCENARIO = Path(__file__).resolve().parents[1] / "fuzz" / "run-edge-scripted-at-max.toml"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("opts") / "run"
    assert main(["run", str(SCENARIO), "--out", str(out), "--no-progress"]) == 0
    return out


@pytest.mark.parametrize(("argv", "message"), [
    (["run", str(SCENARIO), "--seed", str(2**63)], "--seed: expected an integer from 0 to"),
    (["train", str(SCENARIO), "--algo", "dqn", "--out", "x", "--steps", str(10**13)],
     "--steps: expected an integer from 1 to 1,000,000,000,000"),
    (["train", str(SCENARIO), "--algo", "dqn", "--out", "x", "--workers", "-1"],
     "--workers: expected an integer from 0 to 256"),
    (["evaluate", str(SCENARIO), "--policy", "x", "--episodes", "1000000"],
     "--episodes: expected an integer from 1 to 100,000"),
    (["report", "RUN", "--interval", "inf"], "--interval must be from 1 to 1e+07 seconds, got inf"),
    (["report", "RUN", "--interval", "1e-9"], "--interval must be from 1 to 1e+07 seconds"),
    (["export", "RUN", "--lobster", "LOB", "--levels", "1000000000"],
     "--levels: expected an integer from 0 to 10,000"),
    (["export", "RUN", "--lobster", "LOB", "--start", "-5"], "--start: expected an integer from 0 to 86,400"),
])
def test_out_of_range_options_are_one_line(run_dir, tmp_path, capsys, argv, message):
    argv = [str(run_dir) if a == "RUN" else str(tmp_path / "lob") if a == "LOB" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "lob").exists() and not (run_dir / "report").exists()
