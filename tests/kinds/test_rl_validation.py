"""DQN's and PPO's validation in a process of its own (when training has simulation
processes): the same scores, the same saved network and the same history as in the
training process."""

from __future__ import annotations

import pytest
import torch
from support.learners import DQN_FAST, PPO_FAST, ConstantPolicy
from support.scenarios import short_scenario

from agents.rl import dqn, ppo
from agents.rl.common import load_checkpoint
from agents.rl.validation import Validation


@pytest.mark.parametrize("algo,fast,key,steps", [
    (dqn, DQN_FAST, "q", [50, 100, 150, 200, 250, 300]),
    (ppo, PPO_FAST, "net", [80, 120, 160, 200, 280]),  # rollouts of 40 env steps; 240 crosses no 50
])
def test_background_validation_scores_and_keeps_what_the_training_process_would(tmp_path, algo, fast, key,
                                                                               steps):
    scenario = short_scenario(duration=1.0)
    settings = {**fast, "validate_every": 50, "validate_from": 0.0, "validate_seconds": 3.0}
    inline = algo.train(scenario, steps=300, seed=5, out=tmp_path / "inline", **settings)
    settings["workers"] = 1  # one simulation process: the validation scores in another
    beside = algo.train(scenario, steps=300, seed=5, out=tmp_path / "beside", **settings)
    a, b = inline["validation"], beside["validation"]
    assert [h["step"] for h in b["history"]] == steps
    assert b["history"] == a["history"] and (b["best_step"], b["best_score"]) == (a["best_step"], a["best_score"])
    assert len({h["score"] for h in a["history"]}) > 1  # the networks differed, and so did their scores
    saved = [load_checkpoint(tmp_path / d)["state_dicts"] for d in ("inline", "beside")]
    for key in (key, f"{key}_last"):
        assert all(torch.equal(saved[0][key][k], saved[1][key][k]) for k in saved[0][key])


def test_an_offered_network_is_scored_as_it_was_when_offered():
    scenario = short_scenario(duration=1.0)
    net = torch.nn.Linear(1, 1)
    inline, beside = Validation(scenario, 3, 2.0), Validation(scenario, 3, 2.0, background=True)
    try:
        policy = ConstantPolicy(net)
        for step in (10, 20):
            net.bias.data.fill_(float(step % 3))  # action 1, then 2
            inline.offer(step, net, policy)
            beside.offer(step, net, policy)
            assert beside.last_step == step
        net.bias.data.fill_(0.0)  # after the offers: must not reach the scores
        beside.finish()
        assert beside.history == inline.history and beside.best_step == inline.best_step
        assert torch.equal(beside.best_state["bias"], inline.best_state["bias"])
        assert beside.record()["seconds"] > 0
    finally:
        beside.close()
