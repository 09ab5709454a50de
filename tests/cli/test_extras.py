"""Optional extras: a market runs without torch (the ``rl`` extra), and a command that needs
a missing extra says which, in one line, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# the interpreter as a user without the rl extra has it: importing torch fails
WITHOUT_RL = ("import sys; sys.modules.update(torch=None, gymnasium=None, pettingzoo=None); "
              "from lobsim.cli import main; sys.exit(main(sys.argv[1:]))")


def lobsim_without_rl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WITHOUT_RL, *args], capture_output=True,
                          text=True, timeout=300)


def test_a_market_runs_without_torch(tmp_path):
    out = tmp_path / "run"
    done = lobsim_without_rl("run", str(ROOT / "scenarios" / "santa_fe.toml"), "--out", str(out),
                             "--no-progress")
    assert done.returncode == 0, done.stderr
    assert (out / "summary.json").is_file()


def test_learning_without_the_extra_is_one_line_naming_it(tmp_path):
    for args in (["train", str(ROOT / "scenarios" / "mm_duel.toml"), "--algo", "dqn",
                  "--out", str(tmp_path / "t"), "--no-progress"],
                 ["validate", "as2008"]):
        done = lobsim_without_rl(*args)
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1 and "lobsim[rl]" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "t").exists()
