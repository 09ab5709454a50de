"""``lobsim bench`` prints each line of a target as the target yields it."""

from __future__ import annotations

import sys
import types

from lobsim.cli import bench, main
from lobsim.errors import InputError


def test_each_line_is_printed_before_the_next_is_computed(monkeypatch, capsys):
    seen_before_second = []

    def run(args):
        yield "first"
        seen_before_second.append(capsys.readouterr().out)  # what a pipe has seen by now
        raise InputError("stopped after the first line")

    target = types.ModuleType("fake_target")
    target.add_arguments = lambda parser: None
    target.run = run
    monkeypatch.setitem(sys.modules, "fake_target", target)
    monkeypatch.setitem(bench.TARGETS, "fake", "fake_target")
    assert main(["bench", "fake"]) == 2
    assert seen_before_second == ["first\n"]
