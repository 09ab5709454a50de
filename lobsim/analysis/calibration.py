"""Calibration: the order-flow kinds' parameters estimated from a LOBSTER message file.

:func:`calibrate` reads the flow (:func:`lobsim.analysis.flow.order_flow`; the order-book
file is optional) and estimates, each with how and, where the method gives one, a
standard error:

* market: tick size (gcd of the prices), price level (first two-sided mid), duration (the
  file's span unless given);
* ``hawkes`` flow (:mod:`agents.hawkes`): limit rates by distance ``k`` ticks behind the
  same-side best = new orders at ``k`` / (2 sides x span), scaled up for orders whose best
  was unknown; the inside rate per second of a spread wider than one tick; cancel rates
  per resting order by distance = deletes of orders entered in the file at distance ``d``
  / the order-seconds such orders spent at ``d`` (the Poisson MLE); empirical size tables;
  Hawkes branching and decay by maximum likelihood on the times of new orders, deletes and
  market orders (:mod:`lobsim.analysis.hawkes_fit`), with standard errors from the
  observed information;
* ``metaorder`` flow (:mod:`agents.metaorder`), which sends every market order: the
  exponent from the trade-sign autocorrelation, ``C(l) ~ l ** -(alpha - 1)`` (log-log
  slope over the positive lags 1..20, standard error from the regression), the mean number
  of live parents from the lag-1 value (``1 / C(1) - 1``), hence the child and parent rates;
* volatility, jumps and volatility clustering of 1 s mid changes
  (:mod:`lobsim.analysis.volatility`), reported and written as a commented-out table.

What cannot be estimated (too few events, no order-book file where it is needed) is said
in ``missing`` and left at the kind's default. The scenario data is validated by the
scenario loader before it is returned, so it runs as it is;
:func:`lobsim.analysis.scenario_text.scenario_text` writes it with its comments.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
from lobsim import registry
from lobsim.scenario import loader as scenario
from lobsim.analysis import hawkes_fit
from lobsim.analysis.estimates import Calibration, Estimate
from lobsim.analysis.flow import INSIDE, UNKNOWN, Flow
from lobsim.analysis.samples import behind_best
from lobsim.data.rundata import orderbook_levels
from lobsim.analysis.volatility import estimate_volatility
from lobsim.analysis.metrics import autocorrelation, loglog_slope
from lobsim.scenario.loader import AGENT_GROUP
from lobsim.data.tape import DELETE, EXECUTE, NEW, PARTIAL_CANCEL

#: entries kept in an empirical size table: the most frequent sizes, tail groups
MAX_SIZES, TAIL_SIZES = 100, 20
#: distance buckets (ticks) at most, and the share of placements they must cover
MAX_DISTANCE, COVERAGE = 1000, 0.99
#: fewest events behind one pooled rate (see :func:`pooled_rates`)
MIN_POOL = 5
#: sign autocorrelation lags used for the metaorder exponent
SIGN_LAGS = 20
#: fewest market orders for a sign fit
MIN_TRADES = 30
#: metaorder size exponent's allowed range; longest parent (children)
ALPHA_RANGE, MAX_CHILDREN = (1.05, 3.0), 10_000
#: gamma's largest standard error for alpha = 1 + gamma to be used
MAX_GAMMA_SE = 0.25
#: the share of C(1) kept at most through interleaving of parents (see _metaorder_shape)
MIN_OVERLAP = 0.9


def size_table(sizes: np.ndarray) -> tuple[list[int], list[float]]:
    """An empirical size table (lots, ascending, with counts): the :data:`MAX_SIZES` most
    frequent sizes (round lots keep their weight), and the rarer rest as up to
    :data:`TAIL_SIZES` equal-count groups at their mean size, so the tail and the mean stay."""
    counts = Counter(int(s) for s in sizes)
    table = Counter(dict(counts.most_common(MAX_SIZES)))
    rest = np.sort([s for s in sizes if int(s) not in table])
    for chunk in np.array_split(rest, min(TAIL_SIZES, len(rest))) if len(rest) else ():
        table[int(round(chunk.mean()))] += len(chunk)
    common = sorted(table.items())
    return [s for s, _ in common], [float(c) for _, c in common]


def pooled_rates(counts: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """Rates ``counts / exposure`` per bucket, pooled over runs of neighbouring buckets
    that hold at least :data:`MIN_POOL` events together (from bucket 0 outwards; a short
    last run joins the one before), so sparse buckets get their neighbours' rate instead
    of a noisy 0. Buckets without exposure get the overall rate."""
    rates = np.empty(len(counts))
    bins, start, held = [], 0, 0.0
    for i, c in enumerate(counts):
        held += c
        if held >= MIN_POOL:
            bins.append((start, i + 1))
            start, held = i + 1, 0.0
    if start < len(counts):
        bins = bins[:-1] + [(bins[-1][0] if bins else 0, len(counts))]
    overall = counts.sum() / max(exposure.sum(), 1e-12)
    for a, b in bins:
        time = exposure[a:b].sum()
        rates[a:b] = counts[a:b].sum() / time if time > 0 else overall
    return rates


def _coverage_depth(distances: np.ndarray) -> int:
    """Distance buckets covering :data:`COVERAGE` of the placements behind the best."""
    behind = np.sort(distances[distances >= 0])
    if not len(behind):
        return 1
    return int(min(behind[int(COVERAGE * (len(behind) - 1))] + 1, MAX_DISTANCE))


def _wide_spread_seconds(flow: Flow) -> float:
    """Seconds during which the spread was two ticks or more."""
    gaps = np.diff(flow.times)
    wide = (flow.ask - flow.bid)[:-1] >= 2
    return float(gaps[wide].sum())


def _limits(flow: Flow, cal: Calibration) -> tuple[list[float], float, int]:
    """Limit rates by distance (per side per s), inside rate, and the number of buckets."""
    new = flow.types == NEW
    dist = flow.distance[new]
    seen = dist != UNKNOWN
    scale = new.sum() / max(seen.sum(), 1)  # orders whose best was unknown, spread alike
    depth = _coverage_depth(dist)
    counts = np.bincount(dist[(dist >= 0) & (dist < depth)], minlength=depth)
    span = flow.span_s
    pooled = pooled_rates(counts.astype(np.float64), np.full(depth, 2 * span))
    rates = [round(float(r * scale), 6) for r in pooled]
    cal.put("limit_rates", rates, how=f"new orders 0..{depth - 1} ticks behind the best / "
            f"(2 x {span:.1f} s), pooled over >= {MIN_POOL} orders; "
            f"{int((dist >= depth).sum())} deeper ones left out")
    wide = _wide_spread_seconds(flow)
    inside = int((dist == INSIDE).sum())
    if wide > 0:
        rate = inside * scale / (2 * wide)
        cal.put("inside_rate", round(rate, 6), math.sqrt(inside) * scale / (2 * wide),
                f"{inside} orders inside the spread / (2 x {wide:.1f} s of spread >= 2 ticks)")
    else:
        cal.missing["inside_rate"] = "the spread was never two ticks or more"
    return rates, cal.estimates.get("inside_rate", Estimate(0.0)).value, depth


def _inside_fraction(flow: Flow, cal: Calibration) -> float:
    """Mean of (improvement - 1 tick) / (spread - 2 ticks) over inside orders."""
    bid, ask = flow.before(flow.bid), flow.before(flow.ask)
    inside = (flow.types == NEW) & (flow.distance == INSIDE) & ((ask - bid) > 2)
    improve = np.where(flow.directions == 1, flow.prices - bid, ask - flow.prices)[inside]
    room = (ask - bid)[inside] - 2
    if not len(room):
        cal.missing["inside_fraction"] = "no order inside a spread of three ticks or more"
        return 0.0
    shares = np.clip((improve - 1) / room, 0.0, 1.0)
    return cal.put("inside_fraction", round(min(float(shares.mean()), 0.95), 6),
                   float(shares.std() / math.sqrt(len(shares))),
                   f"mean share of the room inside the spread used, {len(shares)} orders")


def _cancels(flow: Flow, depth: int, cal: Calibration) -> list[float]:
    """Cancel rates per resting order by distance, the last bucket pooling the rest."""
    cancel = np.isin(flow.types, (DELETE,)) & flow.known & (flow.distance >= 0)
    dist = np.minimum(flow.distance[cancel], depth - 1)
    counts = np.bincount(dist, minlength=depth).astype(np.float64)
    exposure = flow.exposure[:depth].copy()
    exposure[depth - 1] = flow.exposure[depth - 1:].sum()
    rates = pooled_rates(counts, exposure)
    se = float(math.sqrt(counts[0]) / exposure[0]) if exposure[0] > 0 else None
    cal.put("cancel_rates", [round(float(r), 6) for r in rates], se,
            f"deletes of orders entered in the file at each distance / their order-seconds "
            f"there, pooled over >= {MIN_POOL} ({int(counts.sum())} deletes; se at distance 0)")
    partial = int((flow.types == PARTIAL_CANCEL).sum())
    if partial:
        cal.missing["partial_cancels"] = f"{partial} partial cancels are not modelled"
    return list(cal.estimates["cancel_rates"].value)


def _kind_bound(kind: str, name: str) -> float:
    """The ``max`` a kind's parameter accepts (its Params metadata; kinds found by name)."""
    params = registry.load(AGENT_GROUP, kind).Params
    return next(f.metadata["max"] for f in dataclasses.fields(params) if f.name == name)


def _timing(flow: Flow, cal: Calibration) -> tuple[float, float] | None:
    """Hawkes (branching, decay) from the times of the model's events, or None."""
    events = np.isin(flow.types, (NEW, DELETE, PARTIAL_CANCEL))
    times = np.sort(np.concatenate((flow.times[events], flow.market_orders()[0])))
    fitted = hawkes_fit.fit(times)
    if fitted is None:
        cal.missing["branching"] = cal.missing["decay"] = (
            f"{len(times)} events: fewer than {hawkes_fit.MIN_EVENTS} for a Hawkes fit")
        return None
    how = (f"Hawkes MLE on {fitted.events} events over {fitted.span_s:.1f} s "
           f"(baseline {fitted.mu:.4g}/s, se {fitted.mu_se:.2g})")
    n = cal.put("branching", round(min(fitted.branching, 0.99), 6), fitted.branching_se, how)
    top = _kind_bound("hawkes", "decay")
    if fitted.decay > top:
        cal.missing["decay"] = f"fitted {fitted.decay:.3g}/s, clipped to the kind's {top:g}/s"
    beta = cal.put("decay", round(min(fitted.decay, top), 6), fitted.decay_se, how)
    return n, beta


def _sign_exponent(signs: np.ndarray, cal: Calibration) -> tuple[float | None, float]:
    """(alpha = 1 + gamma from the sign autocorrelation's power-law decay, or None when it
    cannot be estimated or its standard error exceeds :data:`MAX_GAMMA_SE`; C(1))."""
    lags = np.arange(1, min(SIGN_LAGS, len(signs) // 4) + 1)
    acf = autocorrelation(signs, lags) if len(signs) >= MIN_TRADES else np.full(len(lags), np.nan)
    c1 = float(acf[0]) if len(acf) and np.isfinite(acf[0]) else math.nan
    ok = np.isfinite(acf) & (acf > 0)
    if len(signs) < MIN_TRADES or ok.sum() < 3 or not c1 > 0:
        cal.missing["sign_acf_exponent"] = (f"{len(signs)} market orders, {int(ok.sum())} "
                                            "positive sign autocorrelations: too few to fit")
        return None, c1 if c1 > 0 else 0.0
    gamma = -loglog_slope(lags[ok], acf[ok])
    x, y = np.log(lags[ok]), np.log(acf[ok])
    residual = y - (np.mean(y) - gamma * (x - np.mean(x)))
    se = float(np.sqrt(np.sum(residual ** 2) / max(len(x) - 2, 1) / np.sum((x - x.mean()) ** 2)))
    cal.put("sign_acf_exponent", round(gamma, 4), se,
            f"C(l) ~ l^-gamma, log-log slope over {int(ok.sum())} positive lags of 1..{len(lags)}")
    if se > MAX_GAMMA_SE:
        cal.missing["size_exponent from gamma"] = f"gamma's se {se:.2g} > {MAX_GAMMA_SE}: unused"
        return None, c1
    return float(np.clip(1.0 + gamma, *ALPHA_RANGE)), c1


def _mean_length(alpha: float) -> float:
    """Mean children per parent of the metaorder kind (found by name, as kinds are)."""
    params = registry.load(AGENT_GROUP, "metaorder").Params
    return params(size_exponent=alpha, max_children=MAX_CHILDREN).mean_length()


def _bisect(f: Callable[[float], float], low: float, high: float, steps: int = 50) -> float:
    """A root of the increasing function ``f`` on [low, high] (geometric bisection)."""
    for _ in range(steps):
        mid = math.sqrt(low * high)
        low, high = (mid, high) if f(mid) < 0 else (low, mid)
    return math.sqrt(low * high)


def _metaorder_shape(signs: np.ndarray, cal: Calibration) -> tuple[float, float]:
    """(alpha, mean live parents m). The model's lag-1 sign autocorrelation is about
    ``(1 - 1/E[L]) (1 - exp(-m)) / m``: the chance that the next market order comes from
    the same parent, which has children left (1 - 1/E[L]) and is not interleaved with
    the Poisson(m) other live parents. Alpha comes from gamma when it is reliable, else
    (or when gamma's alpha cannot reach C(1)) the largest alpha whose parents are long
    enough that C(1) needs no more than :data:`MIN_OVERLAP` of interleaving loss."""
    alpha, c1 = _sign_exponent(signs, cal)
    c1 = min(max(c1, 0.01), 0.95)
    needed = 1.0 / (1.0 - c1 / MIN_OVERLAP)  # E[L] at least this
    how = "alpha = 1 + gamma"
    if alpha is None or _mean_length(alpha) < needed:
        low, high = ALPHA_RANGE
        alpha = _bisect(lambda a: needed - _mean_length(a), low, high) if \
            _mean_length(high) < needed < _mean_length(low) else (low if _mean_length(low) <= needed else high)
        how = f"parents long enough for C(1) = {c1:.3g} (E[L] >= {needed:.3g})"
    alpha = round(alpha, 4)
    cal.put("size_exponent", alpha, how=how + f", kept in {ALPHA_RANGE}")
    share = c1 / (1.0 - 1.0 / _mean_length(alpha))  # (1 - exp(-m)) / m, decreasing in m
    m = _bisect(lambda x: share - (-math.expm1(-x) / x), 1e-3, 1e3) if share < 1 else 1e-3
    return alpha, m


def _market_flow(flow: Flow, cal: Calibration) -> dict[str, Any]:
    """The metaorder table: every market order is a child of some parent."""
    times, signs, sizes, _ = flow.market_orders()
    rate = max(len(times), 1) / flow.span_s
    cal.put("market_order_rate", round(rate, 6), math.sqrt(len(times)) / flow.span_s,
            f"{len(times)} market orders (executions at one time and side grouped)")
    alpha, live = _metaorder_shape(signs, cal)
    mean_length = _mean_length(alpha)
    child_rate = cal.put("child_rate", round(rate / live, 6),
                         how=f"market rate / {live:.3g} mean live parents (from C(1))")
    parent_rate = cal.put("parent_rate", round(rate / mean_length, 6),
                          how=f"market rate / mean parent length {mean_length:.3g}")
    child_sizes, weights = size_table(sizes) if len(sizes) else ([1], [1.0])
    return {"name": "meta", "kind": "metaorder", "parent_rate": parent_rate,
            "size_exponent": alpha, "max_children": MAX_CHILDREN, "child_rate": child_rate,
            "child_sizes": child_sizes, "child_size_weights": weights}


def _market(flow: Flow, duration: float | None, symbol: str, cal: Calibration) -> dict:
    """[simulation] and [market]: duration, tick size, price level."""
    tick = flow.tick_units / 10000
    mids = (flow.bid + flow.ask) / 2
    two_sided = np.flatnonzero(np.isfinite(mids))
    visible = np.flatnonzero(np.isin(flow.types, (NEW, DELETE, EXECUTE)))
    ticks = round(mids[two_sided[0]]) if len(two_sided) else int(flow.prices[visible[0]])
    cal.put("tick_size", tick, how="greatest common divisor of the prices")
    price = cal.put("initial_price", round(ticks * tick, 10),
                    how="first two-sided mid" if len(two_sided) else "first visible price")
    span = cal.put("duration", round(duration or flow.span_s, 6),
                   how="given" if duration else "the file's span")
    return {"simulation": {"duration": span, "seed": 1, "snapshot_interval": 1.0},
            "market": {"symbol": symbol, "tick_size": tick, "initial_price": price,
                       "depth_levels": 10}}


def _flow_table(flow: Flow, cal: Calibration) -> dict[str, Any]:
    """The limit-order and cancel flow: a ``hawkes`` table (``queue_reactive`` if the
    timing could not be fitted). Its market orders all come from the metaorder table."""
    limit_rates, inside_rate, depth = _limits(flow, cal)
    cancel_rates = _cancels(flow, depth, cal)
    sizes, weights = size_table(flow.sizes[flow.types == NEW])
    table: dict[str, Any] = {
        "name": "flow", "kind": "queue_reactive", "limit_rates": limit_rates,
        "inside_rate": inside_rate, "inside_fraction": _inside_fraction(flow, cal),
        "cancel_rates": cancel_rates, "market_rate": 0.0,
        "limit_sizes": sizes, "limit_size_weights": weights, "warm_start": True}
    timing = _timing(flow, cal)
    if timing is not None:
        table.update(kind="hawkes", branching=timing[0], decay=timing[1])
    return table


def mean_depth(flow: Flow, orderbook: np.ndarray, buckets: int) -> np.ndarray:
    """Time-weighted mean visible lots per side at 0 .. buckets-1 ticks behind the best,
    from the order-book file (both sides averaged). O(rows x levels)."""
    prices, lots = orderbook_levels(orderbook, flow.tick_units)
    weights = np.append(np.diff(flow.times), 0.0)[:, None]
    depth = np.zeros(buckets)
    for k, side in enumerate((1, -1)):  # empty levels have nan prices: left out
        behind = np.round(behind_best(prices[:, :, k], side, flow.bid[:, None], flow.ask[:, None]))
        ok = np.isfinite(behind) & (behind >= 0) & (behind < buckets)
        np.add.at(depth, behind[ok].astype(np.int64), (lots[:, :, k] * weights)[ok])
    return depth / (2 * max(weights.sum(), 1e-12))


def _resting_table(flow: Flow, orderbook: np.ndarray, short: dict[str, Any],
                   cal: Calibration) -> dict[str, Any] | None:
    """Long-lived liquidity: the mean depth the file shows beyond what the short-lived
    flow (``short``'s stationary depth, limit rate / cancel rate x mean size) accounts for,
    kept up by slow arrivals and cancels at the rate orders from before the file were
    deleted (their deleted lots per second / their mean visible lots)."""
    limit, cancel = np.array(short["limit_rates"]), np.array(short["cancel_rates"])
    size = float(np.average(short["limit_sizes"], weights=short["limit_size_weights"]))
    observed = mean_depth(flow, orderbook, len(limit))
    with np.errstate(divide="ignore", invalid="ignore"):
        modelled = np.where(cancel > 0, limit / cancel * size, 0.0)
    extra = np.maximum(observed - modelled, 0.0)
    if extra.sum() <= 0:
        cal.missing["resting depth"] = "the short-lived flow already gives the observed depth"
        return None
    prior = np.isin(flow.types, (DELETE, PARTIAL_CANCEL)) & ~flow.known
    rate = max(float(flow.sizes[prior].sum()) / flow.span_s / extra.sum(), 1.0 / flow.span_s)
    cal.put("resting_cancel_rate", round(rate, 6), how="per s: lots of pre-file orders deleted "
            f"per s / the {extra.sum():.0f} lots per side of depth beyond the short-lived flow's")
    rates = [round(float(x * rate / size), 6) for x in extra]
    cal.put("resting_limit_rates", rates, how="depth gap per tick x cancel rate / mean size")
    return {"name": "depth", "kind": "queue_reactive", "limit_rates": rates, "inside_rate": 0.0,
            "cancel_rates": [round(rate, 6)], "market_rate": 0.0,
            "limit_sizes": short["limit_sizes"], "limit_size_weights": short["limit_size_weights"],
            "warm_start": True}


def calibrate(flow: Flow, duration: float | None = None, symbol: str = "XYZ",
              orderbook: np.ndarray | None = None) -> Calibration:
    """Estimate a scenario from ``flow`` (see the module docstring) and, when given, the
    ``orderbook`` array it was built with (for the resting depth). ``duration`` in seconds
    (None: the file's span). The scenario data is validated by the scenario loader."""
    cal = Calibration(flow.source)
    if not flow.from_book:
        cal.missing["best quotes"] = ("no order-book file: rebuilt from the orders entered in "
                                      "the file (orders from before it are unknown)")
    if flow.stale:
        cal.missing["stale orders"] = (f"{flow.stale} price levels of orders entered in the file "
                                       "left it unseen (beyond its levels); dropped when found stale")
    data = _market(flow, duration, symbol, cal)
    short = _flow_table(flow, cal)
    data["agents"] = [short, _market_flow(flow, cal)]
    resting = _resting_table(flow, orderbook, short, cal) if orderbook is not None else None
    if resting is not None:
        data["agents"].insert(1, resting)
    elif orderbook is None:
        cal.missing["resting depth"] = "needs the order-book file"
    estimate_volatility(flow, cal)
    scenario.from_dict(data, flow.source)  # raises ScenarioError if it would not run
    cal.scenario = data
    return cal
