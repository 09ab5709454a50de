"""``lobsim bench soak``: one subprocess per size, figures printed, bad sizes refused."""

import dataclasses

import pytest

from lobsim.bench import soak
from lobsim.cli import main
from lobsim.scenario import load
from support.scenarios import SCENARIO_DIR


def test_the_soak_market_is_default_toml():
    default = load(SCENARIO_DIR / "default.toml")
    made = soak._scenario(default.simulation.duration, default.simulation.seed)
    assert made == dataclasses.replace(default, source="<bench soak>")


def test_soak_prints_each_size_and_the_ratio(capsys):
    assert main(["bench", "soak", "--messages", "2e3", "1e4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("scenario: default.toml's market")
    assert lines[1].startswith("2e+03 target:") and lines[2].startswith("1e+04 target:")
    assert "peak RSS" in lines[2] and lines[3].startswith("peak RSS, largest / smallest run:")


@pytest.mark.parametrize("size", ["10", "2e9", "nan"])
def test_soak_refuses_sizes_out_of_range(size, capsys):
    assert main(["bench", "soak", "--messages", size]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--messages" in err
