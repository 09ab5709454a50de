"""DQN and PPO on makers and an executor in one market (seats of different spaces),
warm starts from another policy (--init-from), and the evaluation against TWAP and
Almgren-Chriss."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from support.scenarios import exec_scenario, short_scenario

from agents.rl import dqn, ppo
from agents.rl.common import load_checkpoint
from agents.rl.seat_networks import SeatMLP
from lobsim.errors import CheckpointError, InputError

DQN_FAST = dict(num_envs=2, workers=0, learning_starts=60, batch_size=32, train_interval=2,
                target_interval=40, buffer_size=2_000, validate_seconds=3.0)
PPO_FAST = dict(num_envs=2, workers=0, num_steps=20, num_minibatches=2, update_epochs=2,
                validate_seconds=3.0)


def test_seat_networks_have_each_seats_sizes_and_mask_the_padding():
    torch.manual_seed(0)
    net = SeatMLP([5, 5, 3], [4, 4, 2], hidden=8)
    assert [tuple(g.net[0].weight.shape) for g in net.groups] == [(2, 5, 8), (1, 3, 8)]
    x = torch.randn(3, 6, 5)
    y = net(x)
    assert y.shape == (3, 6, 4) and torch.all(y[2, :, 2:] == -1e9) and torch.all(y[:2] > -1e8)
    x2 = x.clone()
    x2[2, :, 3:] += 1.0  # padding of the small seat: never read
    assert torch.equal(net(x2), y)


@pytest.mark.parametrize("algo,fast", [(dqn, DQN_FAST), (ppo, PPO_FAST)])
def test_makers_and_an_executor_train_deterministically(tmp_path, algo, fast):
    scenario = exec_scenario()
    a = algo.train(scenario, steps=240, seed=2, out=tmp_path / "a", **fast)
    algo.train(scenario, steps=240, seed=2, out=tmp_path / "b", **fast)
    pa, pb = load_checkpoint(tmp_path / "a"), load_checkpoint(tmp_path / "b")
    assert a["episodes"] > 0 and pa["obs_sizes"] == [27, 27, 26] and pa["n_actions"] == [25, 25, 10]
    key = "q" if algo is dqn else "net"
    assert all(torch.equal(v, pb["state_dicts"][key][k]) for k, v in pa["state_dicts"][key].items())
    policy = algo.policy(pa)
    actions = policy.act(np.zeros((3, 27), np.float32))
    assert actions.shape == (3,) and actions[2] < 10 and max(actions[:2]) < 25


def test_shared_networks_refuse_seats_of_different_spaces(tmp_path):
    with pytest.raises(InputError, match="same spaces"):
        dqn.train(exec_scenario(), steps=40, out=tmp_path, mode="shared", **DQN_FAST)


def test_init_from_starts_from_the_other_policys_weights(tmp_path):
    source = tmp_path / "source"
    dqn.train(short_scenario(duration=1.0), steps=200, seed=3, out=source, **DQN_FAST)
    shifted = short_scenario(duration=1.5)  # another scenario, the same seat spaces
    summary = dqn.train(shifted, steps=40, seed=4, out=tmp_path / "warm", init_from=source,
                        learning_rate=0.0, **DQN_FAST)
    assert summary["init_from"] == str(source)
    before, after = load_checkpoint(source)["state_dicts"]["q"], load_checkpoint(tmp_path / "warm")
    assert after["progress"]["step"] == 40
    # learning rate 0: the weights are still the source's
    assert all(torch.equal(v, after["state_dicts"]["q"][k]) for k, v in before.items())


def test_init_from_refuses_other_spaces_and_settings_in_one_line(tmp_path):
    source = tmp_path / "source"
    ppo.train(short_scenario(duration=1.0), steps=40, seed=3, out=source, **PPO_FAST)
    with pytest.raises(CheckpointError, match=r"seat spaces .* do not match") as err:
        ppo.train(exec_scenario(), steps=40, out=tmp_path / "x", init_from=source, **PPO_FAST)
    assert "\n" not in str(err.value)
    with pytest.raises(CheckpointError, match="trained with hidden 64, this run uses 32"):
        ppo.train(short_scenario(duration=1.0), steps=40, out=tmp_path / "y", init_from=source,
                  hidden=32, **PPO_FAST)
    with pytest.raises(CheckpointError, match="is for 'ppo', not 'dqn'"):
        dqn.train(short_scenario(duration=1.0), steps=40, out=tmp_path / "z", init_from=source,
                  **DQN_FAST)


def test_evaluate_compares_the_executor_with_twap_and_almgren_chriss(tmp_path):
    from lobsim.rl.evaluation import evaluate, load_policy

    scenario = exec_scenario()
    dqn.train(scenario, steps=120, seed=2, out=tmp_path, **DQN_FAST)
    policy, payload = load_policy(tmp_path)
    report = evaluate(scenario, policy, payload, episodes=2, seed=5)
    assert list(report["seats"]["exec"]) == ["learner", "fixed_spread", "avellaneda_stoikov",
                                             "twap", "almgren_chriss", "idle"]
    twap = report["seats"]["exec"]["twap"]
    assert twap["executed_mean"] == 6 and twap["unfilled_penalty_mean"] == 0.0
    assert report["seats"]["exec"]["idle"]["unfilled_penalty_mean"] == pytest.approx(0.3)
    paired = report["paired"]["exec"]["twap"]
    assert {"diff_mean", "diff_ci95", "shortfall_diff_mean", "shortfall_diff_ci95"} <= set(paired)
    # the makers' side: their reward with and without the executor, paired
    assert "idle" in report["paired"]["maker_0"] and "shortfall_mean" not in report["seats"]["maker_0"]["idle"]
    # whoever fills the seat, its reward is minus the shortfall minus the penalty
    for row in report["seats"]["exec"].values():
        assert row["reward_mean"] == pytest.approx(-row["shortfall_mean"] - row["unfilled_penalty_mean"])


def test_a_shaped_executor_is_evaluated_and_validated_on_the_task_without_shaping(tmp_path):
    from agents.rl.validation import Validation
    from lobsim.rl.evaluation import evaluate, load_policy

    shaped, plain = exec_scenario(shaping=True), exec_scenario()
    dqn.train(shaped, steps=120, seed=2, out=tmp_path, **DQN_FAST)
    policy, payload = load_policy(tmp_path)
    a = evaluate(shaped, policy, payload, episodes=2, seed=5)
    b = evaluate(plain, policy, payload, episodes=2, seed=5)
    assert a["seats"] == b["seats"] and a["paired"] == b["paired"]
    assert Validation(shaped, 2, 3.0).score(policy) == Validation(plain, 2, 3.0).score(policy)


def test_transfer_figures_from_learning_curves():
    from agents.rl.transfer import compare, running_mean, steps_to_reach

    scratch = [{"step": 10 * (i + 1), "reward": float(i)} for i in range(10)]  # 0 .. 9
    warm = [{"step": 10 * (i + 1), "reward": 5.0 + i} for i in range(10)]  # 5 .. 14
    assert running_mean(scratch, window=2)[1][:3] == [0.0, 0.5, 1.5]
    assert steps_to_reach(scratch, 8.5, window=2) == 100 and steps_to_reach(scratch, 9.0, window=2) is None
    # scratch ends at a running mean of 8.5; warm's reaches it at episode 5: (8 + 9) / 2
    figures = compare(scratch, warm, window=2)
    assert figures["target"] == 8.5 and figures["warm_steps"] == 50 and figures["fraction"] == 0.5


def test_transfer_reaches_a_target_only_at_a_plotted_window():
    """Episodes of parallel envs end in batches at one step: a window that mixes two batches
    (its order within the step is the envs', not time's) is no point of the curve, and
    reaching the target there is not reaching it (transfer round five found such wins)."""
    from agents.rl.transfer import compare, full_windows, steps_to_reach

    warm = [{"step": s, "reward": r} for s, r in ((10, 0.0), (10, 0.0), (20, 10.0), (20, -6.0))]
    # windows of 2 after each episode: 0, 0, then (0 + 10) / 2 = 5 (mixed), then (10 - 6) / 2 = 2
    assert full_windows(warm, window=2) == ([10, 20], [0.0, 2.0])
    assert steps_to_reach(warm, 4.0, window=2) is None and steps_to_reach(warm, 2.0, window=2) == 20
    scratch = [{"step": s, "reward": r} for s, r in ((10, 3.0), (10, 3.0), (20, 4.0), (20, 4.0))]
    assert compare(scratch, warm, window=2)["warm_steps"] is None  # target 4.0


def test_transfer_figures_from_greedy_validations_and_the_plot(tmp_path):
    from agents.rl.transfer import Panel, compare, figure, full_windows, load_run, measure, plot

    source = tmp_path / "source"
    summary = dqn.train(short_scenario(duration=1.0), steps=200, seed=3, out=source,
                        validate_every=50, validate_from=0.0, **DQN_FAST)
    (source / "train_summary.json").write_text(json.dumps(summary))  # as lobsim train writes it
    curve, validations = load_run(source)
    assert [v["step"] for v in validations] == [50, 100, 150, 200] and len(curve) == 20
    rows = measure(source, source, seats=2, episodes=4)  # a run against itself reaches its end
    assert [(r["measure"], r["column"]) for r in rows] == [("training episodes", "reward_0"), (
        "training episodes", "reward_1"), ("training episodes", "reward"), ("greedy validation", "score")]
    assert all(r["scratch_steps"] == 200 and r["warm_steps"] <= 200 for r in rows)
    assert rows[3]["target"] == validations[-1]["score"]
    # the validations' rows are compared as the episodes' are: window 1 is each score
    scratch = [{"step": 50 * (i + 1), "score": s} for i, s in enumerate([1.0, 3.0, 2.0, 2.5])]
    warm = [{"step": 50 * (i + 1), "score": s} for i, s in enumerate([1.9, 2.5, 1.9, 3.0])]
    figures = compare(scratch, warm, "score", window=1)
    assert (figures["target"], figures["warm_steps"], figures["fraction"]) == (2.5, 100, 0.5)
    assert full_windows(scratch, "score", 2) == ([100, 150, 200], [2.0, 2.5, 2.25])
    same_step = [{"step": 10, "reward": 1.0}, {"step": 10, "reward": 3.0}, {"step": 20, "reward": 5.0}]
    assert full_windows(same_step, window=2) == ([10, 20], [2.0, 4.0])  # the last at each step
    # window 2: the target is (2.0 + 2.5) / 2; warm's means are 2.2, 2.2, then 2.45
    assert compare(scratch, warm, "score", window=2)["warm_steps"] == 200
    out = tmp_path / "t.png"
    plot([Panel("episodes", curve, curve, window=2), Panel("greedy", scratch, warm, "score", 1)],
         out, "title", columns=1)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    figure({"seed 3": (source, source)}, tmp_path / "f.png", "title", episodes=4)
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_transfer_plot_title_clears_the_panels(tmp_path, monkeypatch):
    """The figure's title sits above every panel's title, however many rows (round five's
    eight training seeds put it over the first row's)."""
    from matplotlib.figure import Figure

    from agents.rl.transfer import Panel, plot

    saved = []
    monkeypatch.setattr(Figure, "savefig", lambda fig, *a, **k: saved.append(fig))
    rows = [{"step": 10 * (i + 1), "reward": float(i)} for i in range(4)]
    plot([Panel(f"panel {i}", rows, rows, window=1) for i in range(24)], tmp_path / "t.png", "title")
    fig = saved[0]
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    renderer = FigureCanvasAgg(fig).get_renderer()  # plot() closed the figure's own canvas
    title_bottom = fig._suptitle.get_window_extent(renderer).y0
    assert all(ax.title.get_window_extent(renderer).y1 <= title_bottom for ax in fig.axes)
