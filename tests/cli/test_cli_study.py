"""``lobsim study collusion``: the whole pipeline on ``--quick`` (train, evaluate against the
competitive benchmark, table, figure), what it wrote, and one-line errors."""

from __future__ import annotations

import csv
import json

import pytest
from support.scenarios import SCENARIO_DIR

from lobsim.cli import main
from lobsim.rl.studies.collusion_table import columns

BASE = SCENARIO_DIR / "collusion.toml"


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """One ``--quick`` study (N = 1, 2; ticks 1x and 5x; 2 seeds; 2 episodes of 3 s)."""
    out = tmp_path_factory.mktemp("study") / "collusion"
    code = main(["study", "collusion", "--base", str(BASE), "--quick", "--out", str(out),
                 "--no-progress"])
    assert code == 0
    with open(out / "collusion.csv") as handle:
        rows = list(csv.DictReader(handle))
    return out, rows


def test_quick_study_writes_the_table_figure_runs_and_policies(quick):
    out, rows = quick
    assert (out / "collusion.png").stat().st_size > 10_000
    assert list(rows[0]) == columns()
    cells = [(r["tick_factor"], r["makers"], r["mode"]) for r in rows]
    assert cells == [(t, n, m) for t in ("1", "5") for n, modes in (("1", ("individual",)),
                     ("2", ("individual", "team"))) for m in (*modes, "competitive")]
    assert {r["tick_size"] for r in rows} == {"0.01", "0.05"}
    for row in rows:
        assert row["n"] == "2"
        assert row["interval_over"] == ("evaluation episodes" if row["mode"] == "competitive"
                                        else "training seeds")
        lo, mean, hi = (float(row[f"spread_{s}"]) for s in ("lo", "mean", "hi"))
        assert 0 < mean and lo <= mean <= hi
    study = json.loads((out / "runs.json").read_text())
    assert len(study["eval_seeds"]) == 2
    for cell in study["cells"]:
        if cell["cell"]["mode"] != "competitive":
            assert [run["seed"] for run in cell["runs"]] == [1, 2]
            for run in cell["runs"]:
                assert (out / "policies" / cell["name"] / f"seed-{run['seed']}" / "policy.pt").is_file()
                assert len(run["episodes"]) == 2


def test_a_coarser_tick_widens_the_competitive_spread(quick):
    """Makers at the tightest quote the grid allows keep the fine market's spread within
    a few of its ticks, below one tick of the coarse market (0.05 price units), where no
    spread can be narrower: the coarser tick gives the wider spread, for every N."""
    _, rows = quick
    benchmark = {(r["tick_factor"], r["makers"]): r for r in rows if r["mode"] == "competitive"}
    for n in ("1", "2"):
        fine, coarse = benchmark["1", n], benchmark["5", n]
        assert float(coarse["spread_mean"]) >= 0.05 > float(fine["spread_mean"])


def one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


@pytest.mark.parametrize("argv, says", [
    (["--budget", "0"], "--budget"),
    (["--seeds", "0"], "--seeds"),
    (["--duration", "nan"], "--duration"),
    (["--duration", "1e12"], "collusion.toml [tick1x-n1-individual]: simulation.duration"),
    (["--base", str(SCENARIO_DIR / "default.toml")], "default.toml: the collusion study needs"),
    (["--base", str(SCENARIO_DIR / "no_such.toml")], "no_such.toml"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, argv, says):
    out = tmp_path / "out"
    base = [] if "--base" in argv else ["--base", str(BASE)]
    assert main(["study", "collusion", *base, *argv, "--out", str(out), "--no-progress"]) == 2
    assert says in one_line(capsys)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_the_default_base_outside_a_checkout_says_how_to_name_one(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no scenarios/ here
    assert main(["study", "collusion", "--quick", "--out", "out", "--no-progress"]) == 2
    assert "pass --base" in one_line(capsys)
    assert list(tmp_path.iterdir()) == []
