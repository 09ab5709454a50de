"""Episodes of a trained policy's seats, some of them filled by other controllers.

:func:`play` runs every learning seat of an env with a policy. :func:`run_episode` runs
one market seed of a scenario in which some learning seats may have been filled by
ordinary agent kinds (baselines) and some may be forced to one action (an idle executor
waits: action 0); the policy drives the seats still learning. Every seat's reward is
measured the same way whoever fills it: a seat driven by the env reports its terms, a
seat filled by a baseline is measured by its learning kind's meter (``meter(params,
index)``: :class:`~lobsim.rl.seat.RewardMeter` or
:class:`~lobsim.rl.executor.ShortfallMeter`) on the same step grid.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from lobsim.rl.seat import pad_stack


def play(env: Any, policy: Any, seed: int) -> Iterator[tuple[dict, dict]]:
    """Run one episode of ``env`` on market seed ``seed`` with every seat's action from
    ``policy`` (all seats in one batched call per step); yield each step's rewards and
    infos. ``env.result`` holds the market's result once the episode is over."""
    obs, _ = env.reset(options={"market_seed": seed})
    names = env.possible_agents
    size = max(d for d, _ in env.sizes.values())
    while env.agents:
        actions = policy.act(pad_stack(obs, names, size))
        obs, rewards, _, _, infos = env.step({n: int(a) for n, a in zip(names, actions)})
        yield rewards, infos


def run_episode(env: Any, scenario: Any, policy: Any, seed: int,
                forced: dict[str, int] | None = None) -> dict:
    """One episode of ``scenario`` (``env``'s scenario, or it with some learning seats
    filled by other kinds) on market seed ``seed``: per seat of ``env`` its reward, the
    sums of its reward terms, PnL, spread capture, mean |inventory|, fills and (executor
    seats) lots executed; the market's summary figures, every agent's summary (``agents``:
    PnL, spread capture, fills, volume ... of the run's summary) and the lots traded
    (``volume``). ``forced``: seat -> the action it always takes. O(steps x seats)."""
    from lobsim.rl.env import MarketEnv, seat_classes
    from lobsim.sim.market import Market
    from lobsim.sim.recorder import DiscardSink

    names = env.possible_agents
    live = MarketEnv(scenario) if seat_classes(scenario) else None
    if live is None:
        market = Market(scenario.with_seed(seed), sink=DiscardSink())  # only the summary is read
        market.start(prefer_compiled=True)  # reads only the ledger and the venue while stepping
    else:
        obs, _ = live.reset(options={"market_seed": seed})
        market = live.market
    index = {s.name: s.index for s in market.sessions}
    meters = {n: env.classes[n].meter(env.params[n], index[n]) for n in names
              if live is None or n not in live.seats}
    for meter in meters.values():
        meter.reset(market)
    sums: dict[str, dict[str, float]] = {n: {} for n in names}
    inventory = dict.fromkeys(names, 0.0)
    size = max(d for d, _ in env.sizes.values())
    forced = forced or {}
    for step in range(1, env.max_steps + 1):
        t_start = market.now
        rewards: dict[str, float] = {}
        if live is not None:
            full = {n: obs.get(n, np.zeros(0, np.float32)) for n in names}
            chosen = dict(zip(names, policy.act(pad_stack(full, names, size))))
            obs, rewards, _, _, infos = live.step({n: int(forced.get(n, chosen[n])) for n in live.agents})
            for n, terms in infos.items():
                _add(sums[n], terms)
            last = not live.agents
        else:
            market.advance(t_start + env.dt_ns)
            last = step == env.max_steps or market.done
        dt = (market.now - t_start) / 1e9  # the last step may be shorter
        measured = {n: meter.terms(market, dt, last) for n, meter in meters.items()}
        team = sum(t["reward"] for t in measured.values())
        for n, terms in measured.items():
            _add(sums[n], terms)
            rewards[n] = team if env.team else terms["reward"]
        for n in names:
            sums[n]["total"] = sums[n].get("total", 0.0) + rewards[n]
            inventory[n] += abs(market.ledger.inventory[index[n]])
        if last:
            break
    result = live.result if live is not None else market.finish()
    seats = {n: _seat_figures(result.summary["agents"][n], sums[n], inventory[n] / max(step, 1))
             for n in names}
    for n in names:
        if env.classes[n].role == "executor":
            meter = meters.get(n) or live.seats[n].meter
            seats[n]["executed"] = meter.executed(market.ledger)
    return {"seats": seats, "market": result.summary["market"], "agents": result.summary["agents"],
            "volume": result.summary["volume"]}


def _add(sums: dict[str, float], terms: dict[str, Any]) -> None:
    for key, value in terms.items():
        if isinstance(value, float) and key != "reward":
            sums[key] = sums.get(key, 0.0) + value


def _seat_figures(agent: dict, sums: dict[str, float], abs_inventory: float) -> dict:
    out = {"reward": sums.pop("total"), "pnl": agent["pnl"], "spread_capture": agent["spread_capture"],
           "abs_inventory": abs_inventory, "fills": agent["fills"]}
    if "execution" in sums:  # an execution seat: its shortfall against the arrival mid
        out["shortfall"] = -sums["execution"]
        out["unfilled_penalty"] = -sums.get("unfilled", 0.0)
    return out
