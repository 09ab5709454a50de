"""Vectorized Avellaneda-Stoikov / Cartea-Jaimungal market-making environment.

N trajectories advance together as torch tensors (no Python loop over trajectories).
Units: prices and depths in price units (currency per share), time in the model's time
unit (``T`` is the horizon), inventory in shares, cash in currency.

Dynamics of one step of length ``dt`` (all trajectories share the clock):

1. The agent quotes a bid at ``S - delta_bid`` and an ask at ``S + delta_ask``.
2. Market orders arrive at rate ``lam`` per side; each fills a quote at depth ``delta``
   with probability ``exp(-kappa*delta)``, i.e. fills come at intensity
   ``lam*exp(-kappa*delta)``. ``fill="bernoulli"``: at most one fill per side with
   probability ``min(1, lam*exp(-kappa*delta)*dt)`` (Avellaneda-Stoikov 2008);
   ``fill="poisson"``: a Poisson(``lam*exp(-kappa*delta)*dt``) number of fills.
   A side is not filled beyond the inventory bound ``q_max`` (Cartea-Jaimungal stop
   quoting it there); with Poisson fills each side is capped by the room at the start
   of the step.
3. The mid moves by ``sigma*sqrt(dt)*Z`` with ``Z`` standard normal
   (``mid="brownian"``) or ``+-1`` with equal probability (``mid="binomial"``, the 2008
   paper's walk).

Reward of a step: spread earned ``delta*fills`` plus inventory marked to the mid
``q_new*dS`` minus ``phi*q_new**2*dt``; the last step also subtracts ``alpha*q_T**2``.
The sum of rewards is therefore ``X_T + q_T*S_T - (X_0 + q_0*S_0)`` minus the penalties,
the Cartea-Jaimungal criterion.

Conventions shared with the order-book learners (so a policy can be warm-started here):
observation ``[q/q_max, (T-t)/T]`` (float32; ``q`` unscaled when ``q_max`` is None);
action ``[bid_depth, ask_depth]`` in price units. The order book quotes in ticks from
the mid: ``depth_ticks = depth / tick_size``. ``+inf`` depth means "no quote".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import torch

from lobsim.errors import InputError
from lobsim import seeding

#: Largest depth used in arithmetic (price units); larger depths, incl. +inf, never fill.
_NO_QUOTE = 1e9


#: Most steps an episode of an analytic model takes (the published ones take 200 to 1,000).
MAX_MODEL_STEPS = 10**6


@dataclass(frozen=True)
class ModelConfig:
    """Parameters of the analytic market-making model (units in brackets)."""

    sigma: float = 2.0  #: mid-price volatility [price / sqrt(time)]
    lam: float = 140.0  #: market-order arrival rate per side [1 / time]
    kappa: float = 1.5  #: fill-probability decay with depth [1 / price]
    T: float = 1.0  #: horizon [time]
    n_steps: int = 1000  #: steps per episode; dt = T / n_steps
    phi: float = 0.0  #: running inventory penalty [currency / (share^2 * time)]
    alpha: float = 0.0  #: terminal inventory penalty [currency / share^2]
    q_max: int | None = None  #: inventory bound |q| <= q_max [shares]; None: unbounded
    fill: Literal["bernoulli", "poisson"] = "bernoulli"  #: fill semantics (module doc)
    mid: Literal["brownian", "binomial"] = "brownian"  #: mid-price increments
    s0: float = 100.0  #: initial mid [price]
    q0: int = 0  #: initial inventory [shares]
    #: depths below this are treated as this [price]; keeps Poisson rates finite
    min_depth: float = -10.0
    #: include the zero-mean ``q*dS`` term in rewards; False keeps the expected return
    #: and lowers its variance (a control variate for training; evaluate with True)
    mid_pnl_in_reward: bool = True

    def __post_init__(self) -> None:
        positive = {"sigma": self.sigma, "lam": self.lam, "kappa": self.kappa, "T": self.T}
        for name, value in positive.items():
            if not (math.isfinite(value) and value > 0):
                raise InputError(f"model {name} must be a positive number, got {value!r}")
        if not (isinstance(self.n_steps, int) and 1 <= self.n_steps <= MAX_MODEL_STEPS):
            raise InputError(f"model n_steps must be an integer from 1 to {MAX_MODEL_STEPS:,}, "
                             f"got {self.n_steps!r}")
        for name in ("phi", "alpha"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise InputError(f"model {name} must be >= 0, got {value!r}")
        if self.q_max is not None and not (isinstance(self.q_max, int) and self.q_max >= 1):
            raise InputError(f"model q_max must be an integer >= 1 or None, got {self.q_max!r}")
        if self.q_max is not None and abs(self.q0) > self.q_max:
            raise InputError(f"model q0={self.q0} is outside [-q_max, q_max]")
        if self.fill not in ("bernoulli", "poisson"):
            raise InputError(f"model fill must be 'bernoulli' or 'poisson', got {self.fill!r}")
        if self.mid not in ("brownian", "binomial"):
            raise InputError(f"model mid must be 'brownian' or 'binomial', got {self.mid!r}")

    @property
    def dt(self) -> float:
        """Step length [time]."""
        return self.T / self.n_steps

    @property
    def inventory_scale(self) -> float:
        """Divisor of inventory in observations [shares]."""
        return float(self.q_max) if self.q_max is not None else 1.0

    def with_(self, **changes: Any) -> ModelConfig:
        """A copy with ``changes`` applied (validated)."""
        try:
            return replace(self, **changes)
        except TypeError as exc:
            raise InputError(f"unknown model parameter: {exc}") from None


def as2008_config(**changes: Any) -> ModelConfig:
    """Avellaneda & Stoikov (2008) simulation: s0=100, T=1, sigma=2, dt=0.005, A=140, k=1.5."""
    base = ModelConfig(sigma=2.0, lam=140.0, kappa=1.5, T=1.0, n_steps=200, mid="binomial")
    return base.with_(**changes)


def cj2015_config(**changes: Any) -> ModelConfig:
    """Cartea, Jaimungal & Penalva (2015) ch. 10: lambda=140, kappa=1.5, sigma=2,
    phi=0.01, alpha=0.001, T=1, q_max=100, 1000 steps."""
    base = ModelConfig(
        sigma=2.0, lam=140.0, kappa=1.5, T=1.0, n_steps=1000, phi=0.01, alpha=0.001, q_max=100
    )
    return base.with_(**changes)


@dataclass(frozen=True)
class BoxSpec:
    """A box space described without gymnasium (which is only in the ``rl`` extra)."""

    low: np.ndarray
    high: np.ndarray
    dtype: type

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.low.shape)


def _box(low: np.ndarray, high: np.ndarray, dtype: type) -> Any:
    """``gymnasium.spaces.Box`` when gymnasium is installed, else a :class:`BoxSpec`."""
    try:
        from gymnasium.spaces import Box
    except ImportError:
        return BoxSpec(low, high, dtype)
    return Box(low=low, high=high, dtype=dtype)


class MarketMakingVecEnv:
    """``num_envs`` market-making trajectories stepped together (gymnasium vector style).

    All trajectories share the clock, so they end together after ``n_steps`` steps with
    ``terminated`` all True; there is no auto-reset: call :meth:`reset` again.
    Random numbers are drawn the same way whatever the actions, so two policies run
    from the same seed see the same market (common random numbers).
    Run it with one torch thread (``rollout.torch_threads(1)``): the per-step tensors are
    small, and intra-op threads only add synchronisation.
    """

    def __init__(
        self,
        config: ModelConfig,
        num_envs: int,
        seed: int = 0,
        device: str | torch.device = "cpu",
    ) -> None:
        if not (isinstance(num_envs, int) and num_envs >= 1):
            raise InputError(f"num_envs must be an integer >= 1, got {num_envs!r}")
        self.config = config
        self.num_envs = num_envs
        self.device = torch.device(device)
        self.dtype = torch.float64  # cash sums thousands of small amounts
        n, dev, f64 = num_envs, self.device, torch.float64
        self._q = torch.zeros(n, dtype=f64, device=dev)
        self._cash = torch.zeros(n, dtype=f64, device=dev)
        self._mid = torch.zeros(n, dtype=f64, device=dev)
        # preallocated work buffers, (N, 2) laid out as [bid, ask]
        self._depth = torch.empty(n, 2, dtype=f64, device=dev)
        self._gain = torch.empty(n, 2, dtype=f64, device=dev)
        self._fills = torch.empty(n, 2, dtype=f64, device=dev)
        self._dmid = torch.empty(n, dtype=f64, device=dev)
        self._tmp = torch.empty(n, dtype=f64, device=dev)
        # random draws and fill rates in float32: ~3x faster to draw, ample precision
        # for comparing a uniform with a probability
        f32 = torch.float32
        self._rate = torch.empty(n, 2, dtype=f32, device=dev)
        self._u = torch.empty(n, 2, dtype=f32, device=dev)
        self._z = torch.empty(n, dtype=f32, device=dev)
        self._step_index = 0
        self._done = True
        self._seed_streams(seed)

    # -- gymnasium-style description -------------------------------------------------
    @property
    def single_observation_space(self) -> Any:
        """``[q/q_max, (T-t)/T]``, float32."""
        bound = 1.0 if self.config.q_max is not None else np.inf
        low, high = np.array([-bound, 0.0], np.float32), np.array([bound, 1.0], np.float32)
        return _box(low, high, np.float32)

    @property
    def single_action_space(self) -> Any:
        """``[bid_depth, ask_depth]`` in price units; +inf means no quote."""
        return _box(np.full(2, -np.inf, np.float32), np.full(2, np.inf, np.float32), np.float32)

    @property
    def observation_space(self) -> Any:
        return self._batched(self.single_observation_space)

    @property
    def action_space(self) -> Any:
        return self._batched(self.single_action_space)

    def _batched(self, single: Any) -> Any:
        n = (self.num_envs, 1)
        return _box(np.tile(single.low, n), np.tile(single.high, n), np.float32)

    # -- state (copies; in the model's units) ----------------------------------------
    @property
    def inventory(self) -> torch.Tensor:
        """Inventory per trajectory [shares]."""
        return self._q.clone()

    @property
    def cash(self) -> torch.Tensor:
        """Cash per trajectory [currency], 0 at reset."""
        return self._cash.clone()

    @property
    def mid(self) -> torch.Tensor:
        """Mid-price per trajectory [price]."""
        return self._mid.clone()

    @property
    def step_index(self) -> int:
        """Steps taken since the last reset."""
        return self._step_index

    def wealth_change(self) -> torch.Tensor:
        """``X_t + q_t*S_t - (X_0 + q_0*S_0)`` per trajectory [currency] (no penalties)."""
        c = self.config
        return self._cash + self._q * self._mid - c.q0 * c.s0

    # -- API ---------------------------------------------------------------------------
    def reset(
        self, seed: int | None = None, options: dict | None = None
    ) -> tuple[torch.Tensor, dict]:
        """Start all trajectories at ``(t=0, q=q0, cash=0, S=s0)``; ``options`` is ignored.

        With ``seed`` the random streams restart from it; without, they continue (the
        env was seeded at construction), so a run is always a pure function of seeds.
        """
        if seed is not None:
            self._seed_streams(seed)
        c = self.config
        self._q.fill_(c.q0)
        self._cash.zero_()
        self._mid.fill_(c.s0)
        self._step_index = 0
        self._done = False
        return self._observe(), {}

    def step(
        self, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, dict]:
        """Advance one step with ``actions`` ``(num_envs, 2)`` = [bid, ask] depths [price].

        Returns ``(obs, reward, terminated, truncated, info)``; reward is float64
        [currency]; ``info`` is empty except on the last step, where it holds
        ``wealth_change`` (profit without penalties) and ``inventory``.
        """
        if self._done:
            raise InputError("episode is over (or not started): call reset() first")
        c = self.config
        actions = torch.as_tensor(actions)
        if tuple(actions.shape) != (self.num_envs, 2):
            raise InputError(
                f"actions must have shape ({self.num_envs}, 2), got {tuple(actions.shape)}"
            )
        depth = self._depth
        depth.copy_(actions)
        depth.nan_to_num_(nan=_NO_QUOTE).clamp_(c.min_depth, _NO_QUOTE)
        fills = self._draw_fills(depth)
        self._apply_bounds(fills)
        # cash: buy at S - d_bid, sell at S + d_ask; spread earned = sum(d * fills)
        torch.mul(depth, fills, out=self._gain)
        reward = self._gain[:, 0] + self._gain[:, 1]  # new tensor: the caller keeps it
        torch.sub(fills[:, 1], fills[:, 0], out=self._tmp)
        self._cash.addcmul_(self._tmp, self._mid).add_(reward)
        self._q.sub_(self._tmp)
        self._draw_mid_move()
        self._mid.add_(self._dmid)
        q = self._q
        if c.mid_pnl_in_reward:
            reward.addcmul_(q, self._dmid)
        torch.mul(q, q, out=self._tmp)
        reward.add_(self._tmp, alpha=-c.phi * c.dt)
        self._step_index += 1
        last = self._step_index >= c.n_steps
        info: dict[str, Any] = {}
        if last:
            reward.add_(self._tmp, alpha=-c.alpha)
            self._done = True
            info = {"wealth_change": self.wealth_change(), "inventory": self.inventory}
        terminated = torch.full((self.num_envs,), last, dtype=torch.bool, device=self.device)
        truncated = torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)
        return self._observe(), reward, terminated, truncated, info

    # -- internals ---------------------------------------------------------------------
    def _seed_streams(self, seed: int) -> None:
        base = seeding.root(seed)
        self._gen_fill = seeding.torch_generator(seeding.child(base, "fills"), self.device)
        self._gen_mid = seeding.torch_generator(seeding.child(base, "mid"), self.device)

    def _observe(self) -> torch.Tensor:
        c = self.config
        obs = torch.empty(self.num_envs, 2, dtype=torch.float32, device=self.device)
        torch.mul(self._q, 1.0 / c.inventory_scale, out=obs[:, 0])
        obs[:, 1] = 1.0 - self._step_index / c.n_steps
        return obs

    def _draw_fills(self, depth: torch.Tensor) -> torch.Tensor:
        """Fill counts ``(N, 2)`` for quotes at ``depth`` (one uniform per side)."""
        c = self.config
        rate = self._rate
        torch.mul(depth, -c.kappa, out=rate).exp_().mul_(c.lam * c.dt)  # expected fills
        self._u.uniform_(generator=self._gen_fill)
        if c.fill == "bernoulli":
            torch.lt(self._u, rate, out=self._fills)  # rate > 1 always fills (prob capped)
            return self._fills
        return _poisson_inverse(self._u, rate, self._fills, self._gen_fill)

    def _apply_bounds(self, fills: torch.Tensor) -> None:
        """No buying above ``q_max``, no selling below ``-q_max``."""
        q_max = self.config.q_max
        if q_max is None:
            return
        if self.config.fill == "bernoulli":  # fills are 0/1: zero the side at the bound
            fills[:, 0].mul_(self._q < q_max)
            fills[:, 1].mul_(self._q > -q_max)
        else:
            torch.minimum(fills[:, 0], q_max - self._q, out=fills[:, 0])
            torch.minimum(fills[:, 1], q_max + self._q, out=fills[:, 1])

    def _draw_mid_move(self) -> None:
        c = self.config
        scale = c.sigma * math.sqrt(c.dt)
        if c.mid == "brownian":
            self._z.normal_(generator=self._gen_mid)
            torch.mul(self._z, scale, out=self._dmid)
        else:  # +-scale with probability 1/2 each
            self._z.uniform_(generator=self._gen_mid)
            torch.lt(self._z, 0.5, out=self._dmid)
            self._dmid.mul_(2.0 * scale).sub_(scale)


def _poisson_inverse(
    u: torch.Tensor, rate: torch.Tensor, out: torch.Tensor, gen: torch.Generator
) -> torch.Tensor:
    """Poisson(``rate``) draws by inverting the CDF at ``u`` (exact, one uniform each).

    Loops over the count value, not over trajectories: a few iterations at the small
    rates of these models. Counts not settled after 64 terms (rates of tens) fall back to
    ``torch.poisson``.
    """
    p = torch.exp(-rate)
    cdf = p.clone()
    out.zero_()
    active = u > cdf
    k = 0
    while k < 64 and bool(active.any()):
        k += 1
        p.mul_(rate).div_(k)
        cdf.add_(p)
        out.add_(active)
        active &= u > cdf
    if bool(active.any()):
        out[active] = torch.poisson(rate[active], generator=gen).to(out.dtype)
    return out
