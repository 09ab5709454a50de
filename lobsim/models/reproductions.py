"""Published market-making results reproduced on the analytic models.

Each reproduction is a callable ``(seed, **opts) -> {"rows": [...]}`` registered in the
``lobsim.validations`` entry-point group; a row is
``{"name": str, "ours": {metric: number}, "published": {metric: number}, "note": str}``.
``progress``, when given, is called as ``progress(done, total, label)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lobsim.errors import InputError
from lobsim import seeding
from lobsim.models import closed_form
from lobsim.models.baselines import AvellanedaStoikovPolicy, CJOptimalPolicy, FixedDepthPolicy
from lobsim.models.vecenv import ModelConfig, as2008_config, cj2015_config
from lobsim.models.rollout import run_episodes

Progress = Callable[[int, int, str], None]

#: Avellaneda & Stoikov (2008), Quantitative Finance 8(3), tables 1-3:
#: gamma -> strategy -> (mean profit, std profit, std final inventory)
AS2008_PUBLISHED: dict[float, dict[str, tuple[float, float, float]]] = {
    0.1: {"inventory": (65.0, 6.6, 2.9), "symmetric": (68.4, 12.7, 8.4)},
    0.01: {"inventory": (68.6, 8.7, 5.1), "symmetric": (68.8, 12.8, 8.7)},
    1.0: {"inventory": (31.4, 5.0, 1.7), "symmetric": (44.0, 11.0, 5.1)},
}


#: Most Monte Carlo paths a reproduction takes (each path holds its state in memory at once).
MAX_PATHS = 10**7


def _check_paths(paths: int) -> int:
    if not (isinstance(paths, int) and 2 <= paths <= MAX_PATHS):
        raise InputError(f"paths must be an integer from 2 to {MAX_PATHS:,}, got {paths!r}")
    return paths


def _model(base: ModelConfig, fill: str, mid: str | None, n_steps: int | None) -> ModelConfig:
    changes: dict[str, Any] = {"fill": fill}
    if mid is not None:
        changes["mid"] = mid
    if n_steps is not None:
        changes["n_steps"] = n_steps
    return base.with_(**changes)


def as2008(
    seed: int = 0,
    paths: int = 1000,
    fill: str = "bernoulli",
    mid: str = "binomial",
    n_steps: int | None = None,
    progress: Progress | None = None,
) -> dict:
    """Inventory vs symmetric strategy at gamma = 0.1, 0.01, 1 (s0=100, T=1, sigma=2,
    dt=0.005, q0=0, k=1.5, A=140): mean and std of profit [currency], std of q_T [shares].

    Both strategies at one gamma see the same market (common random numbers).
    """
    config = _model(as2008_config(), fill, mid, n_steps)
    paths = _check_paths(paths)
    root = seeding.root(seed)
    rows = []
    jobs = [(g, s) for g in AS2008_PUBLISHED for s in ("inventory", "symmetric")]
    for i, (gamma, strategy) in enumerate(jobs):
        policy = AvellanedaStoikovPolicy(config, gamma, symmetric=strategy == "symmetric")
        run_seed = seeding.int_seed(seeding.child(root, f"gamma={gamma:g}"))
        episodes = run_episodes(config, policy, paths, run_seed)
        mean, std, q_std = AS2008_PUBLISHED[gamma][strategy]
        rows.append(
            {
                "name": f"gamma={gamma:g}/{strategy}",
                "ours": {
                    "profit_mean": float(episodes.profit.mean()),
                    "profit_std": float(episodes.profit.std()),
                    "q_std": float(episodes.final_inventory.std()),
                },
                "published": {"profit_mean": mean, "profit_std": std, "q_std": q_std},
            }
        )
        if progress is not None:
            progress(i + 1, len(jobs), "as2008")
    return {"rows": rows}


def cj2015(
    seed: int = 0,
    paths: int = 1000,
    fill: str = "bernoulli",
    mid: str = "brownian",
    n_steps: int | None = None,
    progress: Progress | None = None,
) -> dict:
    """Cartea-Jaimungal (lambda=140, kappa=1.5, sigma=2, phi=0.01, alpha=0.001, T=1,
    q_max=100, 1000 steps): closed-form h(0, 0), the Monte Carlo value of the closed-form
    policy, and the risk-neutral value 2*lambda*T/(e*kappa), all in currency.
    """
    config = _model(cj2015_config(), fill, mid, n_steps)
    paths = _check_paths(paths)
    root = seeding.root(seed)
    solution = closed_form.solve(config)
    h00 = solution.value(0, config.q0)
    policy = CJOptimalPolicy(config, solution)
    mc = run_episodes(config, policy, paths, seeding.int_seed(seeding.child(root, "cj-policy")))
    if progress is not None:
        progress(1, 2, "cj2015")
    neutral = config.with_(phi=0.0, alpha=0.0)
    neutral_h = closed_form.solve(neutral).value(0, config.q0)
    neutral_mc = run_episodes(
        neutral.with_(q_max=None),
        FixedDepthPolicy(1.0 / config.kappa),
        paths,
        seeding.int_seed(seeding.child(root, "risk-neutral")),
    )
    if progress is not None:
        progress(2, 2, "cj2015")
    formula = closed_form.risk_neutral_value(config)
    rows = [
        {
            "name": "closed_form",
            "ours": {"value": h00},
            "published": {},
            "note": "h(0,0) by matrix exponential; the book gives the formula, not this number",
        },
        {
            "name": "closed_form_policy_mc",
            "ours": {"value": mc.value, "stderr": mc.value_stderr},
            "published": {"value": h00},
            "note": f"{paths} paths, {config.fill} fills; compared with closed-form h(0,0)",
        },
        {
            "name": "risk_neutral",
            "ours": {
                "value": neutral_h,
                "mc_value": neutral_mc.value,
                "mc_stderr": neutral_mc.value_stderr,
            },
            "published": {"value": formula},
            "note": "ours: h(0,0) with phi=alpha=0 (q_max bound kept) and MC of depth 1/kappa "
            "unbounded; published: 2*lambda*T/(e*kappa)",
        },
    ]
    return {"rows": rows}
