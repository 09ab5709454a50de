"""The command line's front door: bare ``lobsim``, ``--version``, and every ``--help`` as
plain text (no RST markup, no doubled ``%``), with one spelling per option."""

from __future__ import annotations

import argparse
import re

import pytest

import lobsim
from lobsim.cli import COMMANDS, build_parser, main, plain_text
from lobsim.cli.bench import TARGETS

#: what a help text must not show: RST literals and roles, argparse's escaped percent
MARKUP = re.compile(r"``|:[a-z]+:`|%%")


def help_text(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def every_help_argv() -> list[list[str]]:
    return [[], *([name] for name in COMMANDS), *(["bench", target] for target in TARGETS)]


def test_bare_lobsim_lists_every_command_on_stdout(capsys):
    assert main([]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    for name in COMMANDS:
        assert re.search(rf"^\s+{name}\s", captured.out, re.MULTILINE), name


def test_version_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"lobsim {lobsim.__version__}"


@pytest.mark.parametrize("argv", every_help_argv(), ids=lambda argv: " ".join(argv) or "lobsim")
def test_every_help_reads_as_plain_text(argv, capsys):
    text = help_text(argv, capsys)
    assert "usage: lobsim" in text
    assert not MARKUP.search(text), MARKUP.search(text).group(0)


def test_sweep_help_shows_a_single_percent_sign(capsys):
    assert "95% confidence band" in help_text(["sweep"], capsys)


def test_plain_text_reduces_literals_and_roles_to_their_content():
    assert plain_text("``x`` and :class:`~a.B`, :mod:`a.b` or `c`") == "x and a.B, a.b or c"


def test_bench_without_a_target_says_what_to_give(capsys):
    assert main(["bench"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "required" not in err
    for target in TARGETS:
        assert target in err


#: the targets that time several rounds (soak measures one run per size)
REPEATING = sorted(set(TARGETS) - {"soak"})


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_bench_targets_spell_repeat_one_way(target, capsys):
    text = help_text(["bench", target], capsys)
    assert "--repeats" not in text
    assert ("--repeat " in text or "--repeat\n" in text) == (target in REPEATING)


def test_the_old_repeats_spelling_still_parses():
    from lobsim.models import bench

    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    assert parser.parse_args([]).repeat == 3
    assert parser.parse_args(["--repeats", "5"]).repeat == 5


@pytest.mark.parametrize("argv, says", [
    (["run", "x.toml", "--seed", "abc"], "lobsim run: error: argument --seed: invalid int value: 'abc'"),
    (["run", "x.toml", "--sed", "3"], "lobsim run: error: unrecognized arguments: --sed (did you mean --seed?) 3"),
    (["bench", "market", "--duratoin", "3"],
     "lobsim bench market: error: unrecognized arguments: --duratoin (did you mean --duration?) 3"),
    (["bench", "market", "--engine", "foo"], "lobsim bench market: error: argument --engine: invalid choice"),
    (["runn"], "lobsim: error: argument COMMAND: invalid choice: 'runn'"),
    (["run"], "lobsim run: error: the following arguments are required: scenario"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_a_bad_option_is_one_line_and_exit_code_2(argv, says, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "\n" not in captured.err.strip()
    assert captured.err.startswith(says)
