"""Closed-form quoting policies for :class:`~lobsim.models.vecenv.MarketMakingVecEnv`.

A policy maps observations ``(N, 2)`` = ``[q/q_max, (T-t)/T]`` to actions ``(N, 2)`` =
``[bid_depth, ask_depth]`` in price units, so it runs unchanged on any env whose
config it was built from.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from lobsim.errors import InputError
from lobsim.models.closed_form import CJSolution, solve
from lobsim.models.vecenv import ModelConfig


def _inventory(obs: torch.Tensor, config: ModelConfig) -> torch.Tensor:
    """Inventory [shares] from observations (rounded: inventory is an integer)."""
    return torch.round(obs[:, 0].double() * config.inventory_scale)


def _time_left(obs: torch.Tensor, config: ModelConfig) -> torch.Tensor:
    """Time left ``T - t`` [time] from observations."""
    return obs[:, 1].double() * config.T


class FixedDepthPolicy:
    """Quote both sides at a constant ``depth`` [price] from the mid."""

    def __init__(self, depth: float) -> None:
        self.depth = float(depth)

    def __call__(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.full((obs.shape[0], 2), self.depth, dtype=torch.float64, device=obs.device)


class AvellanedaStoikovPolicy:
    """Avellaneda & Stoikov (2008) quotes for risk aversion ``gamma`` [1/currency].

    Reservation price ``r = S - q*gamma*sigma^2*(T-t)``, total spread
    ``gamma*sigma^2*(T-t) + (2/gamma)*log(1 + gamma/kappa)``. The inventory strategy
    centres the spread on ``r``; the symmetric strategy centres the same spread on ``S``.
    """

    def __init__(self, config: ModelConfig, gamma: float, symmetric: bool = False) -> None:
        if not (math.isfinite(gamma) and gamma > 0):
            raise InputError(f"gamma must be a positive number, got {gamma!r}")
        self.config = config
        self.gamma = float(gamma)
        self.symmetric = symmetric

    def __call__(self, obs: torch.Tensor) -> torch.Tensor:
        c, g = self.config, self.gamma
        tau = _time_left(obs, c)
        risk = g * c.sigma**2 * tau  # [price per share of inventory]
        half_spread = 0.5 * risk + math.log1p(g / c.kappa) / g
        if self.symmetric:
            return torch.stack((half_spread, half_spread), dim=1)
        skew = _inventory(obs, c) * risk  # S - r
        return torch.stack((half_spread + skew, half_spread - skew), dim=1)


class TabularPolicy:
    """Depths looked up on the grid (step ``n`` in ``0..n_steps``) x (inventory ``-q_max..q_max``).

    ``bid`` and ``ask`` [price] have shape ``(n_steps + 1, 2*q_max + 1)``; row ``n`` is
    used at step ``n``. Needs a bounded model (``q_max``).
    """

    def __init__(self, config: ModelConfig, bid: torch.Tensor, ask: torch.Tensor) -> None:
        if config.q_max is None:
            raise InputError("a tabular policy needs a model with a finite q_max")
        shape = (config.n_steps + 1, 2 * config.q_max + 1)
        if tuple(bid.shape) != shape or tuple(ask.shape) != shape:
            raise InputError(f"depth tables must have shape {shape}")
        self.config = config
        self._bid = bid.double().reshape(-1).contiguous()
        self._ask = ask.double().reshape(-1).contiguous()
        self._width = shape[1]

    def __call__(self, obs: torch.Tensor) -> torch.Tensor:
        c = self.config
        q = _inventory(obs, c).clamp_(-c.q_max, c.q_max)
        step = torch.round((1.0 - obs[:, 1].double()) * c.n_steps).clamp_(0, c.n_steps)
        index = (step * self._width + q + c.q_max).long()
        return torch.stack((self._bid[index], self._ask[index]), dim=1)


def grid_observations(config: ModelConfig) -> torch.Tensor:
    """Every observation of a bounded model, ``(n_steps + 1, 2*q_max + 1, 2)`` float32,
    computed exactly as the env computes them (so a tabulated policy acts identically)."""
    if config.q_max is None:
        raise InputError("the observation grid needs a model with a finite q_max")
    q = torch.arange(-config.q_max, config.q_max + 1, dtype=torch.float64)
    obs = torch.empty(config.n_steps + 1, len(q), 2, dtype=torch.float32)
    obs[:, :, 0] = (q * (1.0 / config.inventory_scale)).float()
    for n in range(config.n_steps + 1):
        obs[n, :, 1] = 1.0 - n / config.n_steps
    return obs


def tabulate(config: ModelConfig, policy: Callable[[torch.Tensor], torch.Tensor]) -> TabularPolicy:
    """``policy`` evaluated once on every grid observation: same actions, far cheaper to run
    over many paths when the policy is a neural network."""
    obs = grid_observations(config)
    with torch.no_grad():
        actions = policy(obs.reshape(-1, 2)).reshape(obs.shape[0], obs.shape[1], 2)
    return TabularPolicy(config, actions[..., 0], actions[..., 1])


class CJOptimalPolicy(TabularPolicy):
    """The Cartea-Jaimungal optimal depths, looked up from :func:`closed_form.solve`.

    At step ``n`` (time ``n*dt``) the policy uses ``h`` at ``(n+1)*dt``: the value after
    the step, the discrete-time analogue of the continuous-time feedback rule.
    """

    def __init__(self, config: ModelConfig, solution: CJSolution | None = None) -> None:
        self.solution = solution if solution is not None else solve(config)
        bid, ask = (torch.from_numpy(d) for d in self.solution.depths())
        # row n holds the depths for h(t_{n+1}); the last row (never used) repeats
        super().__init__(config, torch.cat((bid[1:], bid[-1:])), torch.cat((ask[1:], ask[-1:])))
