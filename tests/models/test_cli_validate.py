"""``lobsim validate``: entry-point lookup, JSON and table output, errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lobsim import registry
from lobsim.cli import main
from lobsim.cli.validate import format_table

@pytest.fixture
def registered():
    """The reproductions as pyproject.toml registers them (an installed lobsim)."""
    assert set(registry.names("lobsim.validations")) >= {"as2008", "cj2015", "ppo-cj"}


def test_json_output_has_the_documented_rows(registered, capsys) -> None:
    code = main(["validate", "as2008", "--json", "--paths", "50", "--seed", "2", "--no-progress"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    names = [row["name"] for row in result["rows"]]
    assert names[0] == "gamma=0.1/inventory" and len(names) == 6
    assert set(result["rows"][0]["ours"]) == {"profit_mean", "profit_std", "q_std"}


def test_table_shows_ours_beside_published(registered, capsys) -> None:
    assert main(["validate", "cj2015", "--paths", "20", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "closed_form_policy_mc" in out and "risk_neutral" in out and "68.67" in out


def test_options_reach_the_reproduction(registered, capsys) -> None:
    args = ["validate", "as2008", "--json", "--paths", "20", "--no-progress"]
    main([*args, "--set", "fill=poisson"])
    poisson = capsys.readouterr().out
    main(args)
    assert poisson != capsys.readouterr().out


def test_unknown_name_and_option_are_one_line_errors(registered, capsys) -> None:
    assert main(["validate", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "as2008" in err
    assert main(["validate", "as2008", "--set", "colour=red"]) == 2
    assert "colour" in capsys.readouterr().err
    assert main(["validate", "as2008", "--set", "novalue"]) == 2


def test_table_aligns_columns() -> None:
    rows = [
        {"name": "a", "ours": {"value": 1.5, "flag": True}, "published": {"value": 2.0}},
        {"name": "longer-name", "ours": {"value": 123.456}, "published": {}, "note": "n"},
    ]
    lines = format_table(rows)
    table = lines[1:4]
    assert table[1].startswith("a ")
    assert "1.50" in table[1] and "2.00" in table[1] and "yes" in table[1]
    assert table[2].index("123.46") + len("123.46") == table[1].index("1.50") + len("1.50")
    assert lines[-1] == "  longer-name: n"


def test_lobsim_never_imports_agents() -> None:
    code = (
        "import sys, lobsim.models, lobsim.models.reproductions, lobsim.models.bench, "
        "lobsim.cli.validate; from lobsim.cli import build_parser; build_parser(); "
        "assert not [m for m in sys.modules if m.split('.')[0] == 'agents'], 'agents imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
