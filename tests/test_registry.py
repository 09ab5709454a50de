"""lobsim.registry: kinds from entry points and from a user's file (``--agents FILE.py``),
and one-line errors for every way a file can be wrong."""

from __future__ import annotations

import pytest

from lobsim import registry
from lobsim.cli import main
from lobsim.errors import InputError

AGENT = '''
from lobsim.sim.agent import Agent

class Quiet(Agent):
    kind = "{kind}"
'''


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_file_adds_its_kinds_once(tmp_path):
    path = write(tmp_path, "quiet.py", AGENT.format(kind="quiet_reg_1"))
    assert registry.load_agent_file(path) == ["quiet_reg_1"]
    assert registry.load_agent_file(path) == ["quiet_reg_1"]  # again: nothing new
    assert "quiet_reg_1" in registry.names(registry.AGENTS)
    assert registry.load(registry.AGENTS, "quiet_reg_1").__name__ == "Quiet"
    assert path.resolve() in registry.agent_files()


@pytest.mark.parametrize("name, text, expected", [
    ("missing.py", None, "no such file"),
    ("broken.py", "def (:\n", "broken.py:1: SyntaxError"),
    ("raises.py", "x = 1\nraise RuntimeError('boom')\n", "raises.py:2: RuntimeError: boom"),
    ("empty.py", "x = 1\n", "defines no Agent subclass with a kind"),
    ("clash.py", AGENT.format(kind="santa_fe"), "kind 'santa_fe' is already defined"),
])
def test_bad_files_are_one_line_errors(tmp_path, name, text, expected):
    path = tmp_path / name if text is None else write(tmp_path, name, text)
    with pytest.raises(InputError) as info:
        registry.load_agent_file(path)
    assert expected in str(info.value) and "\n" not in str(info.value)


def test_unknown_kind_names_both_ways_to_add_one(tmp_path, capsys):
    scenario = write(tmp_path, "x.toml", '[simulation]\nduration = 1.0\n[[agents]]\nname = "a"\n'
                                         'kind = "nowhere"\n')
    assert main(["run", str(scenario), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "agents[0].kind" in err
    assert "--agents FILE.py" in err and "entry point" in err
    assert not (tmp_path / "out").exists()


def test_agents_option_on_kinds(tmp_path, capsys):
    path = write(tmp_path, "quiet2.py", AGENT.format(kind="quiet_reg_2"))
    assert main(["kinds", "quiet_reg_2", "--agents", str(path)]) == 0
    assert capsys.readouterr().out.startswith("quiet_reg_2:")


def test_a_kind_without_a_docstring_does_not_show_agents(tmp_path, capsys):
    path = write(tmp_path, "quiet3.py", AGENT.format(kind="quiet_reg_3"))
    assert main(["kinds", "quiet_reg_3", "--agents", str(path)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == "quiet_reg_3: (no description: its class has no docstring)"
