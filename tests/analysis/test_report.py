"""``lobsim report``: figures exist and are non-empty, the HTML embeds and names them,
learning curves appear when the run has them, and a missing matplotlib is one clear error."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from lobsim.scenario import loader as scenario_module
from lobsim.cli import main
from lobsim.errors import MissingExtraError
from lobsim.sim.market import Market
from lobsim.sim.output import write_run
from support.scenarios import SCENARIO, make_run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return make_run(tmp_path_factory.mktemp("report") / "run")


def test_report_writes_every_figure_and_a_self_contained_page(run_dir, capsys):
    (run_dir / "learning_curve.csv").write_text("step,episode_reward,loss\n0,-1.0,0.5\n10,0.5,0.3\n20,1.5,\n")
    assert main(["report", str(run_dir), "--interval", "1"]) == 0
    out = capsys.readouterr().out
    assert "heavy tails" in out and "wrote" in out
    report = run_dir / "report"
    pngs = sorted(p.name for p in report.glob("*.png"))
    expected = {"mid_price", "spread", "depth_heatmap", "imbalance", "agents", "learning_curve",
                "fact_heavy_tails", "fact_return_acf", "fact_volatility_clustering",
                "fact_aggregational_gaussianity", "fact_volatility_signature", "fact_trade_signs",
                "fact_price_impact", "fact_queue_imbalance"}
    assert set(pngs) == {f"{stem}.png" for stem in expected}
    page = (report / "report.html").read_text()
    for name in pngs:
        data = (report / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5000, name
        assert f"href='{name}'" in page
    assert page.count("src='data:image/png;base64,") == len(pngs)  # embedded: opens anywhere
    facts = json.loads((report / "facts.json").read_text())
    assert [f["name"] for f in facts] == [
        "heavy tails", "no linear autocorrelation", "volatility clustering", "aggregational gaussianity",
        "volatility signature", "trade-sign autocorrelation", "price impact vs size",
        "queue imbalance predicts next move"]
    assert all(f["holds"] in (True, False, None) and f["value"] for f in facts)
    for fact in facts:
        assert fact["name"] in page
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".report.")]  # staging cleaned


def test_short_run_without_learning_curve(tmp_path):
    from lobsim.analysis import report

    run = make_run(tmp_path / "run", {**SCENARIO, "simulation": {"duration": 3.0, "seed": 1}})
    data = report.load_run(run)
    facts = report.stylized_facts(data, interval_s=10.0)
    assert data.learning is None
    assert [f.holds for f in facts.facts][:3] == [None, None, None]  # too short to say
    figs = report.figures(data, facts)  # built without error on a tiny run
    assert "learning_curve" not in figs and "mid_price" in figs
    figs["fact_heavy_tails"].savefig(tmp_path / "h.png")  # log scale with nothing to show
    assert (tmp_path / "h.png").stat().st_size > 0


def test_missing_run_dir_and_missing_matplotlib(tmp_path, capsys, monkeypatch):
    assert main(["report", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and err.count("\n") == 1
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    from lobsim.analysis.figures import new_figure
    with pytest.raises(MissingExtraError, match=r"pip install lobsim\[plots\]"):
        new_figure()
    tmp_path.joinpath("run").mkdir()
    assert main(["report", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "lobsim[plots]" in err and err.count("\n") == 1


def test_training_directory_gets_its_learning_curves(tmp_path):
    train = tmp_path / "train"
    train.mkdir()
    rows = "".join(f"{i},{i * 100},{1 / i:.3f},{i / 10:.3f}\n" for i in range(1, 30))
    (train / "learning_curve.csv").write_text("episode,step,abs_inventory,reward\n" + rows)
    (train / "train_summary.json").write_text('{"algo": "dqn", "steps": 2900}')
    assert main(["report", str(train)]) == 0
    report = train / "report"
    assert sorted(p.name for p in report.iterdir()) == [".lobsim", "facts.json", "learning_curve.png", "report.html"]
    page = (report / "report.html").read_text()
    assert "href='learning_curve.png'" in page and "dqn" in page and "Stylized facts" not in page


def test_report_on_a_run_where_nothing_happened(tmp_path):
    from support.market_harness import KINDS, probe
    from support.market_harness import scenario as harness_scenario

    scenario = harness_scenario(probe("idle"), duration=1.0)
    write_run(Market(scenario, resolve_kind=KINDS.__getitem__).run(), tmp_path / "run", "")
    assert main(["report", str(tmp_path / "run")]) == 0
    facts = json.loads((tmp_path / "run" / "report" / "facts.json").read_text())
    assert {f["holds"] for f in facts} == {None}


def test_malformed_learning_curve_is_read_or_refused_in_one_line(tmp_path):
    from lobsim.errors import InputError
    from lobsim.analysis.report import _learning_curve
    path = tmp_path / "learning_curve.csv"
    path.write_text("step,episode_reward\n1,2,3\n2,4\n")  # an extra field on one row
    curve = _learning_curve(path)
    assert list(curve["step"]) == [1.0, 2.0] and list(curve["episode_reward"]) == [2.0, 4.0]
    path.write_bytes(b"step\n\xff\xfe\n")
    with pytest.raises(InputError, match="learning_curve.csv: cannot read"):
        _learning_curve(path)
