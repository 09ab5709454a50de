"""DQN's speed settings (issue 19, part 6): what they change and what they keep."""

from __future__ import annotations

import torch
from support.learners import DQN_FAST
from support.scenarios import short_scenario

from agents.rl import dqn
from agents.rl.common import load_checkpoint


def _weights(path):
    return load_checkpoint(path)["state_dicts"]


def _same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


def test_dqn_fused_adam_trains_deterministically_and_resumes_fused(tmp_path):
    scenario = short_scenario(duration=1.0)
    run = dict(steps=200, seed=3, mode="shared", fused_adam=True, **DQN_FAST)
    dqn.train(scenario, out=tmp_path / "a", **run)
    dqn.train(scenario, out=tmp_path / "b", **run)
    a, b = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert _same(a["q"], b["q"]) and a["optimizer"]["param_groups"][0]["fused"] is True
    # the fused kernel is a different rounding of the same update: other bits, close values
    dqn.train(scenario, out=tmp_path / "c", **{**run, "fused_adam": False})
    c = _weights(tmp_path / "c")
    assert not _same(a["q"], c["q"])
    assert all(torch.allclose(a["q"][k], c["q"][k], atol=1e-3) for k in a["q"])
    more = dqn.train(scenario, steps=100, resume=tmp_path / "a", out=tmp_path / "d")
    assert more["steps"] == 100
    assert load_checkpoint(tmp_path / "d")["config"]["fused_adam"] is True
