"""What PPO's training loop (:mod:`agents.rl.ppo`) puts its observations and rewards
through: running statistics per feature, rewards over the running std of the discounted
return, and potential-based shaping on the makers' inventory.

Plain numpy and torch; each keeps its state where a checkpoint can hold it."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from agents.rl.common import BAD_PAYLOAD, short_error
from lobsim.errors import CheckpointError
from lobsim.rl.seat import LearnerParams


class RunningMeanStd(nn.Module):
    """Running mean and variance per feature of a stream of batches (Chan et al.'s parallel
    update), in float64 buffers so that they travel in a state dict. O(batch) an update."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(shape, dtype=torch.float64))
        self.register_buffer("var", torch.ones(shape, dtype=torch.float64))
        self.register_buffer("count", torch.tensor(1e-4, dtype=torch.float64))

    def update(self, batch: torch.Tensor) -> None:
        """batch (n, *shape): n more samples."""
        n = batch.shape[0]
        mean, var = batch.mean(0), batch.var(0, unbiased=False)
        delta, total = mean - self.mean, self.count + n
        self.var.copy_((self.var * self.count + var * n + delta ** 2 * self.count * n / total) / total)
        self.mean.add_(delta * n / total)
        self.count.fill_(float(total))


class RewardNormalizer:
    """Rewards divided by the running standard deviation of each seat's discounted return
    (CleanRL's ``NormalizeReward``): the value targets keep a scale near 1 whatever the
    reward's units. The return restarts at each env's episode end. O(agents x envs) a call."""

    def __init__(self, n_agents: int, n_envs: int, gamma: float) -> None:
        self.gamma = gamma
        self.ret = torch.zeros(n_agents, n_envs, dtype=torch.float64)
        self.stats = RunningMeanStd((n_agents,))

    def __call__(self, rewards: torch.Tensor, dones: torch.Tensor) -> torch.Tensor:
        """rewards (agents, envs) of one step, dones (envs,) -> the normalized rewards."""
        self.ret = self.ret * self.gamma + rewards
        self.stats.update(self.ret.T)
        self.ret[:, dones.bool()] = 0.0
        return (rewards / torch.sqrt(self.stats.var[:, None] + 1e-8)).float()

    def state(self) -> dict:
        return {"ret": self.ret, **self.stats.state_dict()}

    def load(self, state: Any, where: str) -> None:
        try:
            ret = state["ret"].to(torch.float64)
            if ret.shape != self.ret.shape:
                raise ValueError(f"returns of shape {tuple(ret.shape)}")
            self.stats.load_state_dict({k: v for k, v in state.items() if k != "ret"})
        except BAD_PAYLOAD as exc:
            raise CheckpointError(f"{where}: reward normalizer does not match the run "
                                  f"({short_error(exc)})") from None
        self.ret = ret


class InventoryPotential:
    """Potential-based shaping on each maker seat's inventory: the step's reward gets
    ``gamma * phi(q') - phi(q)`` (``phi(q') = 0`` at an episode's end), with ``phi(q) =
    -penalty(q) x seconds`` (the scenario's ``inventory_coef`` x q^2 or |q| per second; 0
    for other seats), summed over seats in team mode. Price units, O(agents x envs) a call."""

    def __init__(self, seats: list[Any], gamma: float, seconds: float, n_envs: int, team: bool) -> None:
        self.gamma, self.team = gamma, team
        scale = [p.inventory_coef * seconds if isinstance(p, LearnerParams) else 0.0 for p in seats]
        self.scale = np.array(scale)
        self.square = np.array([isinstance(p, LearnerParams) and p.inventory_penalty == "quadratic" for p in seats])
        # inventory after the previous step; a resumed run starts fresh (flat) episodes too
        self.last = np.zeros((n_envs, len(seats)))  # (envs, agents), lots

    def phi(self, q: np.ndarray) -> np.ndarray:
        return -self.scale * np.where(self.square, q * q, np.abs(q))

    def __call__(self, inventory: np.ndarray, dones: np.ndarray) -> np.ndarray:
        """inventory (envs, agents) lots after the step, dones (envs,) -> shaping (envs, agents)."""
        after = np.where(dones[:, None], 0.0, self.phi(inventory))
        out = self.gamma * after - self.phi(self.last)
        self.last = np.where(dones[:, None], 0.0, inventory)
        return out.sum(1, keepdims=True).repeat(out.shape[1], 1) if self.team else out
