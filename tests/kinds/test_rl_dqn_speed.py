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


def test_dqn_checkpoint_without_fused_adam_resumes_with_adams_loop(tmp_path):
    from agents.rl.common import save_checkpoint

    old = tmp_path / "old"
    dqn.train(short_scenario(duration=1.0), steps=100, seed=1, out=old, fused_adam=False, **DQN_FAST)
    payload = load_checkpoint(old)
    del payload["config"]["fused_adam"]  # as saved before the setting existed
    for group in payload["state_dicts"]["optimizer"]["param_groups"]:
        group["fused"] = None
    save_checkpoint(old / "policy.pt", payload)
    dqn.train(short_scenario(duration=1.0), steps=40, resume=old, out=tmp_path / "more")
    more = load_checkpoint(tmp_path / "more")
    assert more["config"]["fused_adam"] is False
    assert not more["state_dicts"]["optimizer"]["param_groups"][0]["fused"]
    assert dqn.Args().fused_adam is True  # new runs use the fused kernel


def test_dqn_networks_do_not_depend_on_the_number_of_simulation_processes(tmp_path):
    # DQN's default is one simulation process (less CPU than two): the results are the same
    scenario = short_scenario(duration=1.0)
    run = dict(steps=120, seed=5, mode="shared", **{**DQN_FAST, "num_envs": 4})
    for workers in (0, 1, 2):
        dqn.train(scenario, out=tmp_path / f"w{workers}", **{**run, "workers": workers})
    zero = _weights(tmp_path / "w0")
    for workers in (1, 2):
        other = _weights(tmp_path / f"w{workers}")
        assert all(_same(zero[k], other[k]) for k in ("q", "target"))
    assert dqn.Args().workers == 1
