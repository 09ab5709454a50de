"""Error messages a new user meets: one line on stderr, exit 2, saying what is wrong for
the command at hand, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.scenarios import SCENARIO_DIR

from lobsim.cli import main
from lobsim.errors import InputError
from lobsim.fileio import check_creatable, staged_directory

NO_LEARNERS = SCENARIO_DIR / "default.toml"


def one_line(capsys) -> str:
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1, captured.err
    return captured.err.strip()


def test_evaluate_on_a_scenario_without_learners_says_what_evaluate_needs(tmp_path, capsys):
    assert main(["evaluate", str(NO_LEARNERS), "--policy", str(tmp_path)]) == 2
    err = one_line(capsys)
    assert "to train" not in err
    assert str(NO_LEARNERS) in err and "no agents of kind 'learner'" in err and "policy" in err


def test_export_of_a_missing_run_names_the_path_once(tmp_path, capsys):
    missing = tmp_path / "no_run"
    assert main(["export", str(missing), "--lobster", str(tmp_path / "lob")]) == 2
    err = one_line(capsys)
    assert err.count(str(missing)) == 1 and "no such run directory" in err
    missing.mkdir()
    assert main(["export", str(missing), "--lobster", str(tmp_path / "lob")]) == 2
    err = one_line(capsys)
    assert err.count(str(missing)) == 1 and "no events.parquet" in err
    assert not (tmp_path / "lob").exists()


UNCREATABLE = [Path("/proc/lobsim-test/run"), Path("/proc/lobsim-test")]


@pytest.mark.parametrize("out", UNCREATABLE, ids=str)
@pytest.mark.parametrize("command", ["run", "sweep", "train"])
def test_out_that_cannot_be_created_is_one_line_before_any_work(command, out, capsys):
    scenario = str(SCENARIO_DIR / ("seed_dqn.toml" if command == "train" else "default.toml"))
    argv = {"run": ["run", scenario, "--out", str(out), "--no-progress"],
            "sweep": ["sweep", scenario, "--set", "market.tick_size=0.01", "--out", str(out), "--no-progress"],
            "train": ["train", scenario, "--algo", "dqn", "--out", str(out), "--no-progress"]}[command]
    assert main(argv) == 2
    assert f"cannot create {out}" in one_line(capsys)
    assert not out.exists()


def test_out_under_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match="is not a directory"):
        check_creatable(tmp_path / "file" / "run")
    check_creatable(tmp_path / "new" / "run")  # creatable: nothing raised, nothing made
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize("out", UNCREATABLE, ids=str)
def test_staged_directory_refuses_an_uncreatable_place_in_one_error(out):
    with pytest.raises(InputError, match=f"cannot create"):
        with staged_directory(out):
            pass
