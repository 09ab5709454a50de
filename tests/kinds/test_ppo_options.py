"""PPO's options: the factored (per-side) policy, reward normalization, value clipping,
entropy annealing; each trains deterministically, resumes and rebuilds its policy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from support.learners import PPO_FAST
from support.scenarios import short_scenario

from agents.rl import ppo
from agents.rl.common import load_checkpoint
from lobsim.errors import CheckpointError

OPTIONS = dict(factored=True, norm_reward=True, clip_vloss=True, anneal_ent=True, norm_obs=True,
               inv_potential=10.0)


def test_a_factored_seat_draws_its_bid_and_ask_independently():
    torch.manual_seed(0)
    args = ppo.Args(factored=True)
    net = ppo.ActorCritic(args, [27, 27], [25, 25], [5, 5])
    # make the logits far from uniform, so that a wrong composition would show
    for p in net.actor.parameters():
        p.data.normal_(0, 1)
    joint = torch.softmax(net.logits(torch.randn(2, 6, 27)), -1).reshape(2, 6, 5, 5)
    bid, ask = joint.sum(-1), joint.sum(-2)  # marginals: action b * 5 + s is (bid b, ask s)
    assert torch.allclose(joint, bid[..., :, None] * ask[..., None, :], atol=1e-6)
    assert not torch.allclose(bid, bid[..., :1].expand_as(bid))  # not trivially uniform


def test_a_seat_that_is_not_a_grid_maker_keeps_a_plain_policy():
    args = ppo.Args(factored=True)
    net = ppo.ActorCritic(args, [27, 27, 25], [25, 25, 10], [5, 5, None])
    logits = net.logits(torch.zeros(3, 4, 27))
    probs = torch.softmax(logits, -1)
    assert logits.shape == (3, 4, 25)
    assert torch.all(probs[2, :, 10:] == 0) and torch.allclose(probs[2].sum(-1), torch.ones(4))


def test_reward_normalizer_divides_by_the_running_std_of_the_discounted_return():
    gen = np.random.default_rng(5)
    norm = ppo.RewardNormalizer(n_agents=2, n_envs=3, gamma=0.9)
    rewards = gen.normal([[1.0], [10.0]], 1.0, size=(200, 2, 3))
    dones = np.zeros((200, 3), bool)
    dones[99, 1] = True
    returns, ret = [], np.zeros((2, 3))
    for t in range(200):  # the return by hand, restarting after an episode's end
        ret = ret * 0.9 + rewards[t]
        returns.append(ret.copy())
        out = norm(torch.as_tensor(rewards[t]), torch.as_tensor(dones[t]))
        ret[:, dones[t]] = 0.0
    std = np.stack(returns).transpose(1, 0, 2).reshape(2, -1).std(1)
    assert np.allclose(out.numpy(), rewards[-1] / std[:, None], rtol=1e-3)


def test_options_train_deterministically_resume_and_rebuild(tmp_path):
    scenario = short_scenario(duration=1.0)
    ppo.train(scenario, steps=80, seed=2, out=tmp_path / "a", **PPO_FAST, **OPTIONS)
    ppo.train(scenario, steps=80, seed=2, out=tmp_path / "b", **PPO_FAST, **OPTIONS)
    a, b = load_checkpoint(tmp_path / "a", "ppo"), load_checkpoint(tmp_path / "b", "ppo")
    assert all(torch.equal(a["state_dicts"]["net"][k], b["state_dicts"]["net"][k]) for k in a["state_dicts"]["net"])
    assert a["sides"] == [5, 5] and a["state_dicts"]["reward_norm"]["var"].shape == (2,)
    actions = ppo.policy(a).act(np.zeros((2, a["obs_size"]), np.float32))
    assert actions.shape == (2,) and all(0 <= x < 25 for x in actions)
    more = ppo.train(scenario, steps=40, resume=tmp_path / "a", out=tmp_path / "c")
    assert more["total_steps"] == 120
    resumed = load_checkpoint(tmp_path / "c", "ppo")
    assert resumed["config"]["factored"] and not torch.equal(
        resumed["state_dicts"]["reward_norm"]["count"], a["state_dicts"]["reward_norm"]["count"])


def test_the_inventory_potential_telescopes_to_the_game_s_return():
    from lobsim.rl.seat import LearnerParams

    quad, lin = LearnerParams(inventory_coef=0.002), LearnerParams(inventory_coef=0.001, inventory_penalty="linear")
    shaping = ppo.InventoryPotential([quad, lin, object()], gamma=0.9, seconds=1.0, n_envs=1, team=False)
    assert np.allclose(shaping.scale, [0.002, 0.001, 0.0])
    path = [(1, -2, 3), (3, 0, 1), (-2, 1, 0), (0, 0, 5)]  # inventory after each step; the last ends
    total = np.zeros(3)
    for t, q in enumerate(path):
        out = shaping(np.array([q], float), np.array([t == len(path) - 1]))[0]
        total += 0.9 ** t * out  # discounted: the sum of gamma * phi' - phi telescopes to -phi(start)
    assert np.allclose(total, 0.0)  # the episode started flat, so shaping adds nothing to the return
    first = ppo.InventoryPotential([quad, lin, object()], 0.9, 1.0, 1, False)(np.array([[1.0, -2.0, 3.0]]), np.array([False]))
    assert np.allclose(first, [[-0.9 * 0.002, -0.9 * 0.001 * 2, 0.0]])  # a fill is charged at once
    team = ppo.InventoryPotential([quad, quad], 0.9, 1.0, 1, True)(np.array([[1.0, 2.0]]), np.array([False]))
    assert np.allclose(team, -0.9 * 0.002 * 5)  # every seat gets the sum in team mode


def test_a_negative_inventory_potential_is_refused_in_one_line(tmp_path):
    from lobsim.errors import InputError

    with pytest.raises(InputError, match="inv_potential must be seconds") as info:
        ppo.train(short_scenario(duration=1.0), steps=80, out=tmp_path / "a", **PPO_FAST, inv_potential=-1.0)
    assert "\n" not in str(info.value) and not (tmp_path / "a").exists()


def test_a_reward_normalizer_of_another_shape_is_one_line():
    norm = ppo.RewardNormalizer(2, 3, 0.99)
    other = ppo.RewardNormalizer(3, 3, 0.99).state()
    with pytest.raises(CheckpointError, match="reward normalizer does not match") as info:
        norm.load(other, "x/policy.pt")
    assert "\n" not in str(info.value)


def test_observations_are_standardized_with_statistics_that_travel_with_the_network(tmp_path):
    scenario = short_scenario(duration=1.0)
    ppo.train(scenario, steps=80, seed=2, out=tmp_path / "a", **PPO_FAST, **OPTIONS)
    payload = load_checkpoint(tmp_path / "a", "ppo")
    stats = {k: v for k, v in payload["state_dicts"]["net"].items() if k.startswith("obs_stats.")}
    assert float(stats["obs_stats.count"]) > 80  # every seat's observation of every step
    policy = ppo.policy(payload)
    obs = torch.randn(2, 1, payload["obs_size"])
    z = policy.net.normalize(obs)
    assert torch.allclose(z, ((obs - stats["obs_stats.mean"]) / torch.sqrt(stats["obs_stats.var"] + 1e-8))
                          .clamp(-10, 10).float(), atol=1e-6)


def test_a_checkpoint_from_before_the_options_loads_with_them_off(tmp_path):
    from lobsim.rl.checkpoint import checksum

    scenario = short_scenario(duration=1.0)
    off = dict(ppo.BEFORE_OPTIONS)
    ppo.train(scenario, steps=80, seed=2, out=tmp_path / "a", **PPO_FAST, **off)
    payload = load_checkpoint(tmp_path / "a", "ppo")
    old = {**payload, "config": {k: v for k, v in payload["config"].items() if k not in off}}
    del old["sides"], old["checksum"]
    old["checksum"] = checksum(old)
    obs = np.random.default_rng(1).normal(size=(2, payload["obs_size"])).astype(np.float32)
    assert np.array_equal(ppo.policy(old).act(obs), ppo.policy(payload).act(obs))
    assert ppo.Args().factored  # while a fresh run has them on
