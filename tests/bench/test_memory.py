"""The memory probe of the benchmarks (``lobsim.bench._memory``, ``lobsim bench memory``)."""

import math

import pytest

from lobsim.bench import _memory, memory
from lobsim.cli import main


@pytest.mark.parametrize("lines", [2, 3, 64, 1000])
def test_the_chase_visits_every_line_once_before_it_comes_back(lines):
    following = _memory.cycle(lines, seed=7)
    line, seen = 0, []
    for _ in range(lines):
        seen.append(line)
        line = int(following[line])
    assert sorted(seen) == list(range(lines)) and line == 0


def test_the_cycle_is_a_function_of_its_seed():
    assert list(_memory.cycle(100, seed=1)) == list(_memory.cycle(100, seed=1))
    assert list(_memory.cycle(100, seed=1)) != list(_memory.cycle(100, seed=2))


def test_a_random_read_takes_some_time():
    ns = _memory.random_read_ns(1 << 16, 10_000)
    assert math.isfinite(ns) and ns > 0


@pytest.mark.parametrize("block_bytes, reads", [(64, 10), (127, 10), (1 << 12, 0)])
def test_a_block_of_under_two_lines_or_no_reads_is_refused(block_bytes, reads):
    with pytest.raises(ValueError, match="at least 128 bytes and at least 1 read"):
        _memory.random_read_ns(block_bytes, reads)


def test_a_cycle_of_one_line_is_refused():
    with pytest.raises(ValueError, match="at least 2 lines"):
        _memory.cycle(1)


def test_bench_memory_prints_best_and_median_of_each_block(capsys):
    assert main(["bench", "memory", "--sizes", "0.25", "1", "--reads", "2000", "--repeat", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("random read of one 64-byte line") and "3 rounds" in lines[0]
    rows = [line.split() for line in lines[2:]]
    assert [row[:2] for row in rows] == [["0.25", "MiB"], ["1", "MiB"]]
    assert all(0 < float(best) <= float(median) for _, _, best, median in rows)


def test_figures_are_truncated_never_rounded_up():
    assert memory.tenth(1.99) == "1.9" and memory.tenth(12.0) == "12.0"


def test_without_the_compiled_probe_the_benchmarks_say_so_in_one_line(monkeypatch, capsys):
    from lobsim.bench import book

    monkeypatch.setattr(memory, "built", lambda: False)
    assert memory.read_ns([1 << 16], 10) is None
    assert book._probe_line([[1.0, 2.0], None]).endswith(
        "not measured (the probe lobsim.bench._memory is not built)")
    assert main(["bench", "memory"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "did not build" in captured.err
