"""Checkpoints distrust what they read (issue 20, section 5): a checksum over the payload,
finite weights, a bounded ``progress.step`` and a checked ``progress.curve``."""

from __future__ import annotations

import copy

import pytest
import torch
from support.scenarios import short_scenario, write_scenario
from support.learners import DQN_FAST

from agents.rl import dqn
from lobsim.rl.checkpoint import checksum, load_checkpoint
from lobsim.cli import main
from lobsim.scenario.config import MAX_TRAIN_STEPS
from lobsim.errors import CheckpointError


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small DQN training directory and its payload as torch loads it."""
    out = tmp_path_factory.mktemp("ckpt") / "good"
    dqn.train(short_scenario(duration=0.5), steps=100, seed=1, out=out, **DQN_FAST)
    return out, torch.load(out / "policy.pt", weights_only=True)


def _save(tmp_path, name, payload, reseal=True):
    """``payload`` as ``tmp_path/name/policy.pt``, sealed with a fresh checksum if asked."""
    if reseal:
        payload["checksum"] = checksum(payload)
    folder = tmp_path / name
    folder.mkdir()
    torch.save(payload, folder / "policy.pt")
    return folder


def test_a_good_checkpoint_carries_a_matching_checksum(trained):
    out, payload = trained
    assert len(payload["checksum"]) == 64 and payload["checksum"] == checksum(payload)
    assert load_checkpoint(out, "dqn")["progress"]["step"] == 100


def test_a_flipped_byte_inside_a_tensor_is_refused(trained, tmp_path):
    out, payload = trained
    data = bytearray((out / "policy.pt").read_bytes())
    weight = payload["state_dicts"]["q"]
    tensor = next(v for v in weight.values() if v.numel() >= 16)
    at = bytes(data).find(tensor.contiguous().numpy().tobytes())
    assert at > 0, "the tensor's bytes are stored as they are"
    data[at + 5] ^= 0x40  # still unpickles: only a weight changes
    folder = tmp_path / "flipped"
    folder.mkdir()
    (folder / "policy.pt").write_bytes(bytes(data))
    changed = torch.load(folder / "policy.pt", weights_only=True)
    assert changed["checksum"] != checksum(changed)
    with pytest.raises(CheckpointError, match="damaged"):
        load_checkpoint(folder)


def test_an_edit_without_a_new_checksum_is_refused(trained, tmp_path):
    payload = copy.deepcopy(trained[1])
    payload["progress"]["step"] += 1
    with pytest.raises(CheckpointError, match="checksum does not match"):
        load_checkpoint(_save(tmp_path, "edited", payload, reseal=False))


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_weights_are_refused(trained, tmp_path, value):
    payload = copy.deepcopy(trained[1])
    weight = next(iter(payload["state_dicts"]["q"].values()))
    weight.view(-1)[0] = value
    with pytest.raises(CheckpointError, match="non-finite weights in state_dicts.q"):
        load_checkpoint(_save(tmp_path, "nan", payload))


@pytest.mark.parametrize("step", [10**18, MAX_TRAIN_STEPS + 1, -1])
def test_progress_step_is_bounded(trained, tmp_path, step):
    payload = copy.deepcopy(trained[1])
    payload["progress"]["step"] = step
    with pytest.raises(CheckpointError, match="progress"):
        load_checkpoint(_save(tmp_path, "step", payload))


@pytest.mark.parametrize("curve", [
    [{"step": "x", "episode": 1, "reward": 0.0}],
    [{"step": 1, "episode": 1, "reward": float("nan")}],
    [{"step": 10**9, "episode": 1, "reward": 0.0}],  # beyond progress.step
    ["not a row"],
])
def test_resume_with_a_damaged_curve_is_refused_before_training(trained, tmp_path, capsys, curve):
    payload = copy.deepcopy(trained[1])
    payload["progress"]["curve"] = curve
    bad = _save(tmp_path, "curve", payload)
    before = sorted((p.name, p.read_bytes()) for p in bad.iterdir())
    toml = write_scenario(tmp_path / "s.toml", duration=0.5)
    code = main(["train", str(toml), "--algo", "dqn", "--steps", "20", "--resume", str(bad),
                 "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "progress.curve" in err, err
    assert sorted((p.name, p.read_bytes()) for p in bad.iterdir()) == before  # it never trained
