"""``lobsim bench models`` prints figures (speed is measured, never asserted)."""

from __future__ import annotations

import argparse

import pytest

from lobsim.errors import InputError
from lobsim.models import bench


def _args(**overrides) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    args = parser.parse_args([])
    assert args.envs == 10_000  # the benchmark size is the default
    vars(args).update(overrides)
    return args


def test_bench_reports_both_fill_semantics() -> None:
    lines = bench.run(_args(envs=50, steps=5, repeats=1))
    assert any("bernoulli" in line and "traj-steps/s" in line for line in lines)
    assert any("poisson" in line and "traj-steps/s" in line for line in lines)


def test_bench_rejects_nonsense() -> None:
    with pytest.raises(InputError):
        bench.run(_args(envs=0))
