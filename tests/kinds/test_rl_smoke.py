"""DQN and PPO learners: short training runs, determinism, checkpoints, resume."""

from __future__ import annotations

import pytest
import torch
from support.scenarios import short_scenario
from support.learners import DQN_FAST, PPO_FAST

from agents.rl import dqn, ppo
from agents.rl.common import EnsembleMLP, load_checkpoint
from agents.rl.validation import Validation
from lobsim.errors import CheckpointError, InputError



def _weights(path):
    return load_checkpoint(path)["state_dicts"]


def _same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


def test_ensemble_members_are_independent_networks():
    torch.manual_seed(0)
    net = EnsembleMLP(3, 4, 2, hidden=8)
    x = torch.randn(3, 5, 4)
    y = net(x)
    for i in range(3):  # member i only sees its own slice
        x2 = x.clone()
        x2[(i + 1) % 3] += 1.0
        assert torch.equal(net(x2)[i], y[i])
    shared = EnsembleMLP(1, 4, 2, hidden=8)
    assert shared(x).shape == (3, 5, 2)


def test_ensemble_forward_is_its_sequential_bit_for_bit():
    # forward calls the layers directly (no module-call overhead): the same numbers as the
    # nn.Sequential it holds, for separate members and for one shared member
    torch.manual_seed(0)
    net, shared = EnsembleMLP(3, 4, 2, hidden=8), EnsembleMLP(1, 4, 2, hidden=8)
    x = torch.randn(3, 5, 4)
    assert torch.equal(net(x), net.net(x))
    assert torch.equal(shared(x), shared.net(x.reshape(1, 15, 4)).reshape(3, 5, 2))


def test_dqn_gather_takes_each_seats_own_sampled_rows():
    import numpy as np

    rng = np.random.default_rng(0)
    obs = rng.standard_normal((50, 3, 4)).astype(np.float32)  # (capacity, seats, obs)
    act = rng.integers(9, size=(50, 3))
    idx = rng.integers(50, size=(3, 7))  # (seats, batch)
    for buf in (obs, act):
        out = np.empty((3, 7, *buf.shape[2:]), buf.dtype)
        assert dqn.gather(buf, idx, out) is out
        assert np.array_equal(out, buf[idx, np.arange(3)[:, None]])


def test_dqn_trains_deterministically_and_resumes(tmp_path):
    scenario = short_scenario(duration=1.0)
    a = dqn.train(scenario, steps=200, seed=3, out=tmp_path / "a", **DQN_FAST)
    dqn.train(scenario, steps=200, seed=3, out=tmp_path / "b", **DQN_FAST)
    assert a["steps"] == 200 and a["episodes"] == 20
    wa, wb = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert _same(wa["q"], wb["q"])
    for name in ("policy.pt", "learning_curve.csv", "learning_curve.png"):
        assert (tmp_path / "a" / name).exists()
    more = dqn.train(scenario, steps=100, resume=tmp_path / "a", out=tmp_path / "c")
    assert more["steps"] == 100
    payload = load_checkpoint(tmp_path / "c", "dqn")
    assert payload["progress"]["step"] == 300
    policy = dqn.policy(payload)
    import numpy as np
    actions = policy.act(np.zeros((2, payload["obs_size"]), np.float32))
    assert actions.shape == (2,) and all(0 <= a < 25 for a in actions)


def test_dqn_shared_mode_trains_one_network_for_every_seat(tmp_path):
    import numpy as np

    scenario = short_scenario(duration=1.0)
    dqn.train(scenario, steps=200, seed=3, out=tmp_path / "a", mode="shared", **DQN_FAST)
    dqn.train(scenario, steps=200, seed=3, out=tmp_path / "b", mode="shared", **DQN_FAST)
    assert _same(_weights(tmp_path / "a")["q"], _weights(tmp_path / "b")["q"])
    payload = load_checkpoint(tmp_path / "a", "dqn")
    assert payload["config"]["mode"] == "shared"
    assert all(w.shape[0] == 1 for w in payload["state_dicts"]["q"].values())  # one member
    policy = dqn.policy(payload)
    obs = np.random.default_rng(0).normal(size=(2, payload["obs_size"])).astype(np.float32)
    same = policy.act(np.stack([obs[0], obs[0]]))
    assert same[0] == same[1]  # both seats: the same network
    independent = load_checkpoint(_independent(scenario, tmp_path / "c"), "dqn")
    assert all(w.shape[0] == 2 for w in independent["state_dicts"]["q"].values())
    with pytest.raises(InputError, match="trained with mode shared"):
        dqn.train(scenario, steps=20, resume=tmp_path / "a", out=tmp_path / "d", mode="independent")
    with pytest.raises(InputError, match="^dqn: mode must be independent or shared"):
        dqn.train(scenario, steps=20, out=tmp_path / "e", mode="mappo", **DQN_FAST)


# DQN validates every 50 env steps; PPO at the end of the rollout (40 env steps) that
# crosses a multiple of 50; a resumed run of ``more`` steps validates twice more
VALIDATING = [(dqn, DQN_FAST, "q", 100, [50, 100, 150, 200]),
              (ppo, PPO_FAST, "net", 120, [80, 120, 160, 200])]


@pytest.mark.parametrize("algo,fast,key,more,steps", VALIDATING)
def test_validation_changes_nothing_but_which_network_is_saved(tmp_path, monkeypatch, algo, fast, key,
                                                                 more, steps):
    scenario = short_scenario(duration=1.0)
    validate = dict(validate_every=50, validate_from=0.0)
    plain = algo.train(scenario, steps=200, seed=3, out=tmp_path / "plain", validate_every=0, **fast)
    assert "validation" not in plain
    algo.train(scenario, steps=200, seed=3, out=tmp_path / "real", **validate, **fast)
    assert _same(_weights(tmp_path / "real")[f"{key}_last"], _weights(tmp_path / "plain")[key])

    scores, seen = iter([0.1, 0.7, 0.3, 0.2, 0.5, 0.6]), []

    def scripted(self, policy):  # the network as scored, then a scripted score
        network = policy.q if algo is dqn else policy.net
        seen.append({k: v.clone() for k, v in network.state_dict().items()})
        return next(scores)

    monkeypatch.setattr(Validation, "score", scripted)
    run = algo.train(scenario, steps=200, seed=3, out=tmp_path / "v", **validate, **fast)
    record = run["validation"]
    assert [h["step"] for h in record["history"]] == steps
    assert (record["best_step"], record["best_score"]) == (steps[1], 0.7)
    saved = _weights(tmp_path / "v")
    assert _same(saved[key], seen[1]) and not _same(saved[key], saved[f"{key}_last"])
    assert _same(saved[f"{key}_last"], _weights(tmp_path / "plain")[key])
    # a resumed run scored on the same seeds keeps the earlier best unless it beats it,
    # and trains on from the last network, not the selected one
    resumed = algo.train(scenario, steps=more, resume=tmp_path / "v", out=tmp_path / "w")
    assert [h["score"] for h in resumed["validation"]["history"]] == [0.1, 0.7, 0.3, 0.2, 0.5, 0.6]
    assert resumed["validation"]["best_step"] == steps[1] and _same(_weights(tmp_path / "w")[key], seen[1])
    algo.train(scenario, steps=more, resume=tmp_path / "real", out=tmp_path / "r", validate_every=0)
    assert _same(_weights(tmp_path / "w")[f"{key}_last"], _weights(tmp_path / "r")[f"{key}_last"])


def test_dqn_learning_rate_anneals_to_zero_over_the_last_part_of_the_run(tmp_path):
    scenario = short_scenario(duration=1.0)
    lr = dqn.Args.learning_rate

    def last_lr(out, **settings):
        dqn.train(scenario, steps=200, seed=3, out=tmp_path / out, validate_every=0, **settings, **DQN_FAST)
        return _weights(tmp_path / out)["optimizer"]["param_groups"][0]["lr"]

    assert last_lr("constant", anneal_lr_from=1.0) == lr
    assert 0 < last_lr("annealed", anneal_lr_from=0.5) <= lr * 4 / 100  # the last step is 198 of 200
    with pytest.raises(InputError, match="^dqn: anneal_lr_from must be between 0 and 1"):
        dqn.train(scenario, steps=20, out=tmp_path / "bad", anneal_lr_from=-0.5, **DQN_FAST)


def test_validation_seeds_are_never_the_held_out_evaluation_seeds():
    from lobsim.rl.evaluation import held_out_seeds

    for seed in range(5):
        assert set(held_out_seeds(seed, 50, "validate")).isdisjoint(held_out_seeds(seed, 50))


def test_validation_time_is_rounded_up_to_whole_episodes():
    def episodes(duration, seconds):
        return len(Validation(short_scenario(duration=duration), 1, seconds).seeds)

    assert episodes(0.5, 1.0) == 2 and episodes(0.5, 1.2) == 3 and episodes(1.0, 0.1) == 1
    assert episodes(0.3, 2.1) == 7  # 2.1 / 0.3 is 7.000000000000001 in floats


def test_bad_validation_settings_are_one_line_errors(tmp_path):
    for bad in ({"validate_seconds": 0.0}, {"validate_seconds": float("nan")},
                {"validate_seconds": float("inf")}, {"validate_every": -1}, {"validate_from": 1.5}):
        with pytest.raises(InputError, match="^dqn: validation needs"):
            dqn.train(short_scenario(duration=1.0), steps=20, out=tmp_path, **{**DQN_FAST, **bad})


def _independent(scenario, out):
    dqn.train(scenario, steps=40, seed=3, out=out, **DQN_FAST)
    return out


def test_dqn_prioritized_replay_runs(tmp_path):
    out = dqn.train(short_scenario(duration=1.0), steps=120, seed=1, out=tmp_path,
                    prioritized=True, **DQN_FAST)
    assert out["steps"] == 120


@pytest.mark.parametrize("mode", ["ippo", "shared", "mappo"])
def test_ppo_modes_train_deterministically(tmp_path, mode):
    team = mode == "mappo"
    scenario = short_scenario(duration=1.0, team=team)
    ppo.train(scenario, steps=80, seed=2, out=tmp_path / "a", mode=mode, **PPO_FAST)
    ppo.train(scenario, steps=80, seed=2, out=tmp_path / "b", mode=mode, **PPO_FAST)
    assert _same(_weights(tmp_path / "a")["net"], _weights(tmp_path / "b")["net"])
    payload = load_checkpoint(tmp_path / "a", "ppo")
    assert payload["config"]["mode"] == mode
    ppo.policy(payload)


def test_parallel_workers_give_the_same_result_as_one_process(tmp_path):
    scenario = short_scenario(duration=1.0)
    fast = {**PPO_FAST, "workers": 0}
    ppo.train(scenario, steps=80, seed=4, out=tmp_path / "local", **fast)
    ppo.train(scenario, steps=80, seed=4, out=tmp_path / "procs", **{**fast, "workers": 2})
    assert _same(_weights(tmp_path / "local")["net"], _weights(tmp_path / "procs")["net"])


def test_corrupt_or_mismatched_checkpoints_are_one_line_errors(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "policy.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a lobsim checkpoint") as info:
        load_checkpoint(bad)
    assert "\n" not in str(info.value)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing")
    good = tmp_path / "good"
    dqn.train(short_scenario(duration=1.0), steps=40, seed=1, out=good, **DQN_FAST)
    with pytest.raises(CheckpointError, match="not 'ppo'"):
        load_checkpoint(good, "ppo")
    # resuming on a scenario whose seats do not match
    with pytest.raises(CheckpointError, match="seats"):
        dqn.train(short_scenario(duration=1.0, count=3), steps=20, resume=good, out=tmp_path / "x")
    # a state dict that does not fit the config
    payload = load_checkpoint(good)
    payload["config"]["hidden"] = 7
    with pytest.raises(CheckpointError, match="does not match"):
        dqn.policy(payload)


def test_dqn_checkpoints_of_earlier_versions_load_and_resume(tmp_path):
    import numpy as np

    from agents.rl.common import save_checkpoint

    old = tmp_path / "old"
    dqn.train(short_scenario(duration=1.0), steps=40, seed=1, out=old, **DQN_FAST)
    payload = load_checkpoint(old)
    del payload["config"]["validate_seconds"]
    payload["config"]["validate_episodes"] = 20  # validation was counted in episodes then
    save_checkpoint(old / "policy.pt", payload)
    assert dqn.policy(load_checkpoint(old)).act(np.zeros((2, payload["obs_size"]), np.float32)).shape == (2,)
    more = dqn.train(short_scenario(duration=1.0), steps=20, resume=old, out=tmp_path / "more",
                     validate_seconds=2.0)
    assert more["steps"] == 20 and load_checkpoint(tmp_path / "more")["config"]["validate_seconds"] == 2.0


def _corruptions(algo):
    """(description, payload mutation) pairs that must each be one CheckpointError line."""
    net = "q" if algo == "dqn" else "net"

    def setter(*keys, value):
        def mutate(p):
            d = p
            for k in keys[:-1]:
                d = d[k]
            d[keys[-1]] = value
        return mutate

    def dropper(*keys):
        def mutate(p):
            d = p
            for k in keys[:-1]:
                d = d[k]
            del d[keys[-1]]
        return mutate

    def bad_optimizer(p):  # the optimizer state of another network
        state = p["state_dicts"]["optimizer"]["state"]
        assert state, "the optimizer must have stepped"
        for value in state.values():
            for k, v in value.items():
                if isinstance(v, torch.Tensor) and v.dim():
                    value[k] = torch.zeros(*v.shape[:-1], v.shape[-1] + 1)

    return [
        ("no state dicts", setter("state_dicts", value={})),
        ("bad hidden", setter("config", "hidden", value="x")),
        ("empty n_actions", setter("n_actions", value=[])),
        ("zero n_actions", setter("n_actions", value=[0, 0])),
        ("bad n_actions", setter("n_actions", value=["a", "b"])),
        ("no progress step", dropper("progress", "step")),
        ("no curve", dropper("progress", "curve")),
        ("no net", dropper("state_dicts", net)),
        ("no optimizer", dropper("state_dicts", "optimizer")),
        ("optimizer groups", setter("state_dicts", "optimizer", "param_groups", value=[])),
        ("optimizer shapes", bad_optimizer),
    ]


@pytest.mark.parametrize("algo", ["dqn", "ppo"])
def test_corrupt_payloads_are_checkpoint_errors_on_evaluate_and_resume(tmp_path, capsys, algo):
    import copy

    from lobsim.cli import main

    from lobsim.rl.checkpoint import checksum

    module = dqn if algo == "dqn" else ppo
    fast = DQN_FAST if algo == "dqn" else PPO_FAST
    scenario = short_scenario(duration=0.5)
    good = tmp_path / "good"
    module.train(scenario, steps=100 if algo == "dqn" else 40, seed=1, out=good, **fast)
    original = torch.load(good / "policy.pt", weights_only=True)
    from support.scenarios import write_scenario

    toml = write_scenario(tmp_path / "s.toml", duration=0.5)
    for what, mutate in _corruptions(algo):
        payload = copy.deepcopy(original)
        mutate(payload)
        payload["checksum"] = checksum(payload)  # sealed again: the structure checks must catch it
        bad = tmp_path / what.replace(" ", "_")
        bad.mkdir()
        torch.save(payload, bad / "policy.pt")
        evaluates = what not in ("optimizer groups", "optimizer shapes")  # policy ignores them
        if evaluates and what not in ("no progress step", "no curve", "no optimizer"):
            with pytest.raises(CheckpointError) as info:
                module.policy(payload)
            assert "\n" not in str(info.value), what
        with pytest.raises(CheckpointError) as info:
            module.train(scenario, steps=20 if algo == "dqn" else 40, resume=bad, out=tmp_path / "x", workers=0)
        assert "\n" not in str(info.value) and str(bad) in str(info.value), what
        if evaluates:
            assert main(["evaluate", str(toml), "--policy", str(bad), "--episodes", "1"]) == 2, what
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and str(bad / "policy.pt") in err, (what, err)


def test_dqn_random_play_builds_no_backlog_of_gradient_steps(tmp_path):
    # learning starts at env step 60; afterwards one gradient step per 2 env steps, so
    # 100 steps give (100 - 60) / 2 = 20 updates, not a burst of 60 / 2 = 30 extra ones
    out = dqn.train(short_scenario(duration=0.5), steps=100, seed=1, out=tmp_path, **DQN_FAST)
    assert out["gradient_steps"] == (100 - DQN_FAST["learning_starts"]) // DQN_FAST["train_interval"]


def test_a_failing_worker_is_one_lobsim_error_line():
    import numpy as np

    from agents.rl.common import VecMarket
    from lobsim.errors import LobsimError

    envs = VecMarket(short_scenario(duration=0.5), n_envs=2, seed=1, workers=1)
    try:
        envs.reset()
        with pytest.raises(LobsimError, match="worker failed: InputError: .*maker_0") as info:
            envs.step(np.full((2, 2), 999))  # not an action of the grid space
        assert "\n" not in str(info.value)
        with pytest.raises(LobsimError, match="exited unexpectedly"):  # the worker is gone
            envs.step(np.zeros((2, 2), np.int64))
    finally:
        envs.close()


def test_worker_processes_know_the_kinds_of_an_agents_file(tmp_path):
    """Spawned simulation workers start with the installed kinds only: they load the
    user's --agents files themselves, then the scenario that names their kind."""
    import numpy as np

    from agents.rl.common import VecMarket
    from lobsim import registry
    from lobsim.scenario import from_dict
    from support.scenarios import scenario_dict

    path = tmp_path / "pinger.py"
    path.write_text(
        "from lobsim import Side\n"
        "from lobsim.sim.agent import Agent\n\n"
        "class Pinger(Agent):\n"
        "    kind = 'pinger_rl'\n\n"
        "    def on_start(self):\n"
        "        self.session.limit(Side.BUY, self.session.initial_price - 3, 1)\n")
    registry.load_agent_file(path)
    data = scenario_dict(duration=0.5, count=1)
    data["agents"].append({"name": "pinger", "kind": "pinger_rl"})
    vec = VecMarket(from_dict(data, "<test>"), n_envs=2, seed=1, workers=1)
    try:
        obs = vec.reset()
        assert obs.shape[:2] == (2, 1)
        vec.step_async(np.zeros((2, 1), dtype=np.int64))
        vec.step_wait()
    finally:
        vec.close()
