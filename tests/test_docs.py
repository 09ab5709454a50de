"""The front door and the docs say what the code does: the README's Python runs, the agent
tutorial's code is the shipped example and runs from ``--agents``, and the generated kind
reference is current."""

from __future__ import annotations

import json
import re
from importlib.metadata import entry_points
from pathlib import Path

import pyarrow.parquet as pq

from lobsim.cli import COMMANDS, main
from lobsim import registry
from lobsim.scenario import load, reference

ROOT = Path(__file__).resolve().parents[1]


def code_blocks(path: Path, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", path.read_text(), flags=re.S)


def test_readme_is_short_and_lists_every_command():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    for command in COMMANDS:
        assert f"`lobsim {command}" in readme, command
    for link in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / link).is_file(), link


def test_readme_python_block_runs(tmp_path, monkeypatch):
    (block,) = [b for b in code_blocks(ROOT / "README.md", "python") if "Market(" in b]
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    exec(compile(block.replace('"runs/mine"', repr(str(tmp_path / "mine"))), "README.md", "exec"),
         namespace)
    assert (tmp_path / "mine" / "summary.json").is_file()
    resolved = load(tmp_path / "mine" / "scenario.resolved.toml")  # a scenario, not an empty file
    assert resolved.agents == namespace["scenario"].agents
    assert namespace["env"].possible_agents == ["maker_0", "maker_1"]


def test_agent_tutorial_is_the_shipped_example():
    shipped = (ROOT / "examples" / "my_agent.py").read_text().strip()
    assert shipped in [b.strip() for b in code_blocks(ROOT / "docs" / "agents.md", "python")]


def test_tutorial_agent_runs_from_agents_file(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["run", str(ROOT / "examples" / "my_agent.toml"), "--agents",
                 str(ROOT / "examples" / "my_agent.py"), "--out", str(out), "--no-progress"])
    assert code == 0, capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["audit"]["ok"] and summary["agents"]["me"]["fills"] > 0
    events = pq.read_table(out / "events.parquet").to_pydict()
    mine = {kind for kind, agent in zip(events["kind"], events["agent"]) if agent == "me"}
    # it quotes, moves its quotes and pulls them: each request kind reached the exchange
    assert {"limit", "modify", "cancel", "fill"} <= mine
    assert "my_maker" in registry.names(registry.AGENTS)


def test_kind_reference_is_current():
    # the installed kinds only: other tests may have loaded kinds from files
    installed = {ep.name: ep.load() for ep in sorted(entry_points(group=registry.AGENTS),
                                                     key=lambda ep: ep.name)}
    expected = reference.markdown_page(installed)
    assert (ROOT / "docs" / "kinds.md").read_text() == expected, \
        "docs/kinds.md is out of date: run `lobsim kinds --markdown > docs/kinds.md`"
