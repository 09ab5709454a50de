"""Diagnostics of issue 19, part 2, round three (docs/results.md, "Round three"): what the
executor's observation can predict, and how much room there is above TWAP.

Not library code: the measurements behind the docs, kept so that they can be rerun.
Every figure is taken beside a trained run's makers (its policy drives the makers' seats),
on the held-out seeds ``lobsim evaluate --seed SEED`` uses (20 episodes of 60 s).

    python docs/experiments/executor_round3.py predict SCENARIO POLICY_DIR --seed 777
    python docs/experiments/executor_round3.py rules SCENARIO POLICY_DIR --seed 777
    python docs/experiments/executor_round3.py decompose SCENARIO POLICY_DIR --seed 777
    python docs/experiments/executor_round3.py behaviour SCENARIO POLICY_DIR --seed 777
    python docs/experiments/executor_round3.py impact SCENARIO POLICY_DIR --seed 777
    python docs/experiments/executor_round3.py pooled SCENARIO POLICY_DIR --seed 12345 24680 97531

``predict``: the executor idle, per decision the book's L1 queue imbalance, the cumulative
L1-L5 imbalance, the trade flow and the last trade's sign against the mid's move over the
next 0.5, 1, 2 and 10 s (correlation, and the mean move by imbalance bucket).
``rules``: hand rules in the executor's seat against TWAP, separate and paired intervals.
``pooled``: the trained executor against TWAP over the episodes of several ``--seed``
values together (paired by seed), e.g. ``--seed 12345 24680 97531``: 60 episodes, more
than the issue's protocol of 20; a figure beside it, never instead of it.
``behaviour``: how often the trained executor crosses (actions that cross: 1, 4, 7 and
``catch_up``), between the arrival and the horizon while lots are left, by ``imbalance_1``
bucket and by the last trade's sign.
``impact``: the mid's mean move from the arrival (ticks) at 20, 30, 40, 50 and 60 s with
the executor idle, TWAP, and the lag rule.
``decompose``: a controller's shortfall (ticks per lot) split into where the mid stood at
the decision before each fill, minus the arrival mid (the market's drift and the order's
own impact), and what the fills paid against that mid (the spread paid or earned).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from lobsim.rl.env import MarketEnv, load_scenario
from lobsim.rl.evaluation import baseline_params, baseline_scenario, held_out_seeds, load_policy
from lobsim.rl.executor import OWN_FIELDS, ShortfallMeter, without_shaping
from lobsim.rl.seat import OBS_FIELDS, pad_stack
from lobsim.stats import ci95

#: indices in the executor's observation (16 market features, the flow, OWN_FIELDS)
SPREAD_IS_1, IMB1, IMB5, ASK_LOTS, FLOW = (OBS_FIELDS.index(k) for k in
                                           ("spread_is_1", "imbalance_1", "imbalance_5", "ask_lots", "flow"))
REMAIN, LAG, LAST = (17 + OWN_FIELDS.index(k) for k in ("remaining", "schedule_lag", "last_trade"))
WAIT, CROSS1, JOIN1, DEEP1, CROSS2, JOIN2, DEEP2, CROSS4, JOIN4, DEEP4, CATCH = range(11)


def lag_rule(join=JOIN2, cross=CROSS1, above=0.0, far=None, imb_cross=None, imb_wait=None,
             spread_1=False, min_ask=None):
    """Cross ``cross`` when behind the straight line by more than ``above`` (of the parent),
    else rest ``join``; ``far``: catch up beyond that lag; ``imb_cross``: cross whenever the
    L1 imbalance is above it; ``imb_wait``: go deeper when it is below; ``spread_1``: cross
    only at a one-tick spread; ``min_ask``: only when the ask holds that many lots."""
    def rule(o):
        if o[REMAIN] <= 0:
            return WAIT
        if far is not None and o[LAG] > far:
            return CATCH
        if imb_cross is not None and o[IMB1] > imb_cross:
            return cross
        if (o[LAG] > above and (not spread_1 or o[SPREAD_IS_1] > 0.5)
                and (min_ask is None or round(o[ASK_LOTS] * 5) >= min_ask)):
            return cross
        if imb_wait is not None and o[IMB1] < imb_wait:
            return DEEP2
        return join
    return rule


RULES = {
    "lag (round two's: cross 1 when behind, else join with 2)": lag_rule(),
    "lag, cross only if imbalance > 0 or 2 lots behind": (
        lambda o: CROSS1 if o[LAG] > 0 and (o[IMB1] > 0 or o[LAG] > 0.1) else JOIN2),
    "lag, also cross when imbalance > 0.5": lag_rule(imb_cross=0.5),
    "lag, also cross when imbalance > 0.5, deeper when < -0.5": lag_rule(imb_cross=0.5, imb_wait=-0.5),
    "lag, deeper when imbalance < -0.3": lag_rule(imb_wait=-0.3),
    "imbalance: cross 1 when > 0.3, else join 2; catch up 2 lots behind": (
        lambda o: WAIT if o[REMAIN] <= 0 else CATCH if o[LAG] > 0.1 else CROSS1 if o[IMB1] > 0.3 else JOIN2),
    "lag, cross at a one-tick spread only; catch up 2 lots behind": lag_rule(spread_1=True, far=0.1),
    "lag, cross only if the ask holds 3 lots; catch up 2 lots behind": lag_rule(min_ask=3, far=0.1),
    "lag, join with 1": lag_rule(join=JOIN1),
    "lag, join with 4": lag_rule(join=JOIN4),
    "lag, cross 2": lag_rule(cross=CROSS2),
    "passive: join with 4; catch up 2 lots behind": lag_rule(join=JOIN4, above=9.0, far=0.1),
}


class Rule:
    """The policy for the makers' seats, a hand rule for the executor's (for ``run_episode``)."""

    def __init__(self, policy, index, rule):
        self.policy, self.index, self.rule = policy, index, rule

    def act(self, obs):
        actions = self.policy.act(obs)
        actions[self.index] = self.rule(obs[self.index])
        return actions


def episodes(env, scenario, controller, seeds, on_step=None):
    """Per seed, one episode of ``scenario`` (``env``'s, or with TWAP in the executor's seat:
    ``controller`` then drives the makers only); ``on_step(env, exec_obs_or_None)`` before
    every step. Returns per seed the executor's reward (the task's, unshaped)."""
    e = MarketEnv(scenario)
    names, size = env.possible_agents, max(d for d, _ in env.sizes.values())
    params = env.params["exec"]
    out = []
    for seed in seeds:
        obs, _ = e.reset(options={"market_seed": seed})
        index = {s.name: s.index for s in e.market.sessions}["exec"]
        meter = e.seats["exec"].meter if "exec" in e.seats else ShortfallMeter(params, index)
        if "exec" not in e.seats:
            meter.reset(e.market)
        total = 0.0
        while e.agents:
            full = {n: obs.get(n, np.zeros(0, np.float32)) for n in names}
            actions = dict(zip(names, controller.act(pad_stack(full, names, size))))
            if on_step is not None:
                on_step(e, meter, full["exec"] if "exec" in e.seats else None)
            t0 = e.market.now
            obs, rewards, _, _, _ = e.step({n: int(actions[n]) for n in e.agents})
            total += rewards["exec"] if "exec" in rewards else \
                meter.terms(e.market, (e.market.now - t0) / 1e9, not e.agents)["reward"]
        out.append(total)
    return out


def predict(env, policy, seeds):
    rows = []  # per episode: imbalance_1, imbalance_5, flow, last_trade, mid2

    def record(e, meter, o):
        rows[-1].append((o[IMB1], o[IMB5], o[FLOW], o[LAST], e.market.exchange.venues[e.scenario.market.symbol].mid2))

    idle = Rule(policy, env.possible_agents.index("exec"), lambda o: WAIT)
    for seed in seeds:
        rows.append([])
        episodes(env, env.scenario, idle, [seed], record)
    for ahead, seconds in ((1, "0.5 s"), (2, "1 s"), (4, "2 s"), (20, "10 s")):
        x = np.concatenate([np.array(ep)[:-ahead, :4] for ep in rows])
        move = np.concatenate([(np.array(ep)[ahead:, 4] - np.array(ep)[:-ahead, 4]) / 2 for ep in rows])
        corr = [np.corrcoef(x[:, k], move)[0, 1] for k in range(4)]
        print(f"next {seconds:>5}: mid move sd {move.std():.2f} ticks; corr with imbalance_1 {corr[0]:+.3f}, "
              f"imbalance_5 {corr[1]:+.3f}, flow {corr[2]:+.3f}, last_trade {corr[3]:+.3f}")
        if ahead == 2:
            for lo, hi in ((-1.01, -0.5), (-0.5, -0.2), (-0.2, 0.2), (0.2, 0.5), (0.5, 1.01)):
                m = (x[:, 0] >= lo) & (x[:, 0] < hi)
                print(f"    imbalance_1 in [{lo:+.1f}, {hi:+.1f}): {m.sum():5d} decisions, mean move {move[m].mean():+.2f} ticks")


def rules(env, policy, seeds, only=None):
    twap_scenario, _ = baseline_scenario(env, "twap", baseline_params(env, "twap", {}, None), "executor")
    twap = episodes(env, twap_scenario, policy, seeds)
    hi = ci95(twap)[1]
    print(f"{'TWAP':66s} {np.mean(twap):+.4f} [{ci95(twap)[0]:+.4f}, {hi:+.4f}]")
    ix = env.possible_agents.index("exec")
    for name, rule in RULES.items():
        if only is not None and not any(o in name for o in only):
            continue
        r = episodes(env, env.scenario, Rule(policy, ix, rule), seeds)
        d = np.subtract(r, twap)
        lo = ci95(r)
        print(f"{name:66s} {np.mean(r):+.4f} [{lo[0]:+.4f}, {lo[1]:+.4f}]  - TWAP paired {d.mean():+.4f} "
              f"[{ci95(d)[0]:+.4f}, {ci95(d)[1]:+.4f}]{'  separate' if lo[0] > hi else ''}", flush=True)


def pooled(env, policy, seeds):
    twap_scenario, _ = baseline_scenario(env, "twap", baseline_params(env, "twap", {}, None), "executor")
    learner = episodes(env, env.scenario, policy, seeds)
    twap = episodes(env, twap_scenario, policy, seeds)
    d = np.subtract(learner, twap)
    print(f"{len(seeds)} episodes: learner {np.mean(learner):+.4f} [{ci95(learner)[0]:+.4f}, {ci95(learner)[1]:+.4f}], "
          f"TWAP {np.mean(twap):+.4f} [{ci95(twap)[0]:+.4f}, {ci95(twap)[1]:+.4f}], "
          f"paired {d.mean():+.4f} [{ci95(d)[0]:+.4f}, {ci95(d)[1]:+.4f}]")


def behaviour(env, policy, seeds):
    chosen, rows = [], []

    class Recording:  # the policy, remembering the executor's action of each decision
        def act(self, obs):
            actions = policy.act(obs)
            chosen.append(int(actions[env.possible_agents.index("exec")]))
            return actions

    def record(e, meter, o):  # called after the decision's act: chosen[-1] is its action
        if meter.arrival2 is not None and not meter.done and o[REMAIN] > 0:
            rows.append((o[IMB1], o[LAST], chosen[-1]))

    episodes(env, env.scenario, Recording(), seeds, record)
    x = np.array(rows)
    cross = np.isin(x[:, 2], [CROSS1, CROSS2, CROSS4, CATCH])
    print(f"{len(x)} decisions with lots left; crosses {cross.mean():.3f}")
    for lo, hi in ((-1.01, -0.2), (-0.2, 0.2), (0.2, 1.01)):
        m = (x[:, 0] >= lo) & (x[:, 0] < hi)
        print(f"  imbalance_1 in [{lo:+.1f}, {hi:+.1f}): {m.sum():4d} decisions, crosses {cross[m].mean():.3f}")
    for sign in (-1, 1):
        m = x[:, 1] == sign
        print(f"  last_trade {sign:+d}: {m.sum():4d} decisions, crosses {cross[m].mean():.3f}")


def impact(env, policy, seeds):
    twap_scenario, _ = baseline_scenario(env, "twap", baseline_params(env, "twap", {}, None), "executor")
    ix = env.possible_agents.index("exec")
    for name, scenario, controller in (("idle", env.scenario, Rule(policy, ix, lambda o: WAIT)),
                                       ("TWAP", twap_scenario, policy),
                                       ("lag rule", env.scenario, Rule(policy, ix, lag_rule()))):
        paths: list[list[int]] = []

        def record(e, meter, o):
            if meter.arrival2 is not None:
                paths[-1].append(e.market.exchange.venues[e.scenario.market.symbol].mid2 - meter.arrival2)

        for seed in seeds:
            paths.append([])
            episodes(env, scenario, controller, [seed], record)
        moves = np.array(paths) / 2  # ticks; column k: the decision k steps after the arrival
        at = [20, 40, 60, 80, 99]  # 20, 30, 40, 50 s and the last decision, 59.5 s
        print(f"{name:9s} mid - arrival mid, ticks, at 20/30/40/50/59.5 s: " + "  ".join(
            f"{moves[:, k].mean():+.2f} +/- {moves[:, k].std() / np.sqrt(len(moves)):.2f}" for k in at))


def decompose(env, policy, seeds):
    twap_scenario, _ = baseline_scenario(env, "twap", baseline_params(env, "twap", {}, None), "executor")
    ix = env.possible_agents.index("exec")
    tick = env.scenario.market.tick_size
    for name, scenario, controller in (
            ("TWAP", twap_scenario, policy),
            ("lag rule", env.scenario, Rule(policy, ix, lag_rule())),
            ("lag rule, cross only if the ask holds 3 lots", env.scenario, Rule(policy, ix, lag_rule(min_ask=3, far=0.1))),
            ("passive: join with 4, catch up 2 lots behind", env.scenario, Rule(policy, ix, RULES[list(RULES)[-1]]))):
        at_mid, state = [], {}

        def record(e, meter, o):
            venue = e.market.exchange.venues[e.scenario.market.symbol]
            done = meter.executed(e.market.ledger)
            if meter.arrival2 is not None and "mid2" in state:
                state["sum"] += (done - state["done"]) * (state["mid2"] - meter.arrival2) / 2
            state.update(mid2=venue.mid2, done=done)

        totals = []
        for seed in seeds:
            state.clear()
            state["sum"] = 0.0
            totals += episodes(env, scenario, controller, [seed], record)
            at_mid.append(state["sum"] / max(state["done"], 1))  # no fills in the last step (after 40 s)
        shortfall = -np.mean(totals) / tick / 20  # 20 lots: every controller here completes
        print(f"{name:46s} {shortfall:+.2f} ticks a lot = mid at the decision {np.mean(at_mid):+.2f} "
              f"+ paid against it {shortfall - np.mean(at_mid):+.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("predict", "rules", "decompose", "pooled", "impact", "behaviour"))
    parser.add_argument("scenario")
    parser.add_argument("policy", type=Path)
    parser.add_argument("--seed", type=int, nargs="+", default=[777])
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--only", nargs="+", help="rules: only those whose name holds one of these")
    args = parser.parse_args()
    policy, _ = load_policy(args.policy)
    env = MarketEnv(without_shaping(load_scenario(args.scenario)))
    seeds = [s for seed in args.seed for s in held_out_seeds(seed, args.episodes)]
    if args.what == "rules":
        rules(env, policy, seeds, args.only)
    else:
        {"predict": predict, "decompose": decompose, "pooled": pooled, "impact": impact,
         "behaviour": behaviour}[args.what](env, policy, seeds)


if __name__ == "__main__":
    main()
