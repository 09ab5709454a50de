"""DQN's discount per seat: ``executor_gamma`` for executor seats, ``gamma`` for the rest."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from support.scenarios import exec_scenario

from agents.rl import dqn
from agents.rl.common import load_checkpoint
from lobsim.errors import InputError

FAST = dict(num_envs=2, workers=0, learning_starts=60, batch_size=32, train_interval=2,
            target_interval=40, buffer_size=2_000, validate_seconds=3.0)


def test_seat_discounts_give_executors_their_own_only_when_set():
    roles = ["maker", "maker", "executor"]
    assert dqn.seat_discounts(dqn.Args(gamma=0.99), roles).tolist() == [0.99, 0.99, 0.99]
    assert dqn.seat_discounts(dqn.Args(gamma=0.99, executor_gamma=1.0), roles).tolist() == [0.99, 0.99, 1.0]
    assert dqn.seat_discounts(dqn.Args(gamma=0.9, executor_gamma=0.5), ["maker"]).tolist() == [0.9]


def _q(tmp_path, name, **options):
    dqn.train(exec_scenario(), steps=240, seed=2, out=tmp_path / name, **FAST, **options)
    return load_checkpoint(tmp_path / name)["state_dicts"]["q"]


def test_executor_gamma_equal_to_gamma_learns_the_same_bits_and_another_value_does_not(tmp_path):
    plain = _q(tmp_path, "plain")
    same = _q(tmp_path, "same", executor_gamma=0.99)
    assert all(torch.equal(v, same[k]) for k, v in plain.items())
    own = _q(tmp_path, "own", executor_gamma=1.0)
    differs = [k for k, v in plain.items() if not torch.equal(v, own[k])]
    assert differs and all(np.isfinite(v.numpy()).all() for v in own.values())


@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_executor_gamma_out_of_range_is_refused(tmp_path, value):
    with pytest.raises(InputError, match="executor_gamma must be between 0 and 1"):
        dqn.train(exec_scenario(), steps=40, out=tmp_path, executor_gamma=value, **FAST)
    assert not (tmp_path / "policy.pt").exists()
