"""``lobsim bench market`` and ``lobsim bench env`` end to end, on tiny budgets: what they
print and what they refuse (their figures live in docs/benchmarks.md, never in tests)."""

from __future__ import annotations

import re

from lobsim.cli import main
from support.scenarios import SCENARIO_DIR


def test_bench_market_with_the_python_agent_names_the_engines_and_the_agents_share(capsys):
    assert main(["bench", "market", "--duration", "2", "--repeat", "1", "--engine", "compiled",
                 "--user-agent"]) == 0
    out = capsys.readouterr().out
    assert "santa_fe + poisson noise + a Python agent, 2 simulated s, seed 0; compiled engine" in out
    share = float(re.search(r"the Python agent sent [\d,]+ \(([\d.]+)%\)", out).group(1))
    assert 2.0 < share < 10.0
    assert re.search(r"interpreted build \(--engine python, 0.2 simulated s, in memory\): "
                     r"[\d,]+ msgs/s; compiled / interpreted: [\d.]+x", out)


def test_bench_env_steps_the_learners_market_on_both_builds(capsys):
    assert main(["bench", "env", "--scenario", str(SCENARIO_DIR / "mm_duel.toml"),
                 "--steps", "40", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "random actions, 40 env steps; compiled engine" in out
    assert re.search(r"interpreted build \(--engine python, 4 steps\): [\d,]+ env steps/s", out)


def test_bench_options_out_of_range_are_one_line(capsys):
    assert main(["bench", "env", "--steps", "5"]) == 2
    assert main(["bench", "market", "--duration", "1e12"]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert errors == ["lobsim bench: error: --steps must be in [10, 10,000,000]",
                      "lobsim bench: error: --duration must be in (0, 86400] simulated seconds"]
