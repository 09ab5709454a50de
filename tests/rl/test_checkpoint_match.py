"""A checkpoint that does not fit the scenario's seats says so in plain numbers."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from lobsim.errors import CheckpointError
from lobsim.rl.checkpoint import check_matches


def env_with_numpy_sizes(n_actions: int, obs_size: int) -> SimpleNamespace:
    """An env as gymnasium builds its spaces: sizes are numpy integers."""
    return SimpleNamespace(
        possible_agents=["maker_0"],
        action_space=lambda name: SimpleNamespace(n=np.int64(n_actions)),
        observation_space=lambda name: SimpleNamespace(shape=(np.int64(obs_size),)))


def test_a_space_mismatch_prints_plain_numbers():
    payload = {"agents": ["maker_0"], "n_actions": [5], "obs_size": 7}
    with pytest.raises(CheckpointError) as error:
        check_matches(payload, env_with_numpy_sizes(3, 9), "policy.pt")
    message = str(error.value)
    assert "np." not in message and "int64" not in message
    assert "(obs [9], actions [3])" in message and "(obs [7], actions [5])" in message  # per seat


def test_matching_numpy_sizes_are_accepted():
    payload = {"agents": ["maker_0"], "n_actions": [3], "obs_size": 9}
    check_matches(payload, env_with_numpy_sizes(3, 9), "policy.pt")
