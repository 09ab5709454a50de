"""Model selection: the greedy policy's mean reward on fixed validation episodes, scored
in the training process or, off its critical path, in a process of its own.

A DQN's greedy policy swings from one snapshot to the next even late in training
(measured: docs/learning.md), so a learner scores its greedy policy every so often and
keeps the best network, not merely the last one.

The episodes' market seeds come from the training seed's ``validate`` stream; ``lobsim
evaluate`` holds out seeds of the ``evaluate`` stream, so a policy is never selected on
the episodes it is judged on. The score is the task's reward: an executor's training-only
shaping is switched off (:func:`lobsim.rl.executor.without_shaping`). The scoring env is
the validation's own, so validating draws nothing from training's random streams: the
training run is the same with or without it, and the same whether the scoring runs in
the training process or beside it.

Used by DQN (on by default) and PPO (an option, off: its late snapshots differ by less
than 2 validation episodes can tell, measured: docs/learning.md), with the same three
settings (``validate_every``, ``validate_from``, ``validate_seconds``:
:func:`check_settings`), the same schedule (:func:`due`) and the same ending
(:func:`conclude`).
"""

from __future__ import annotations

import math
import pickle
import signal
import time
from collections import deque
from typing import Any

from torch import nn

from agents.rl.common import Policy, receive, spawn_worker, worker_loop, worker_scenario
from lobsim import registry
from lobsim.errors import LobsimError


def check_settings(args: Any, where: str, error: type[Exception]) -> None:
    """``error`` naming ``where`` unless ``args`` (a learner's ``Args``) has
    ``validate_every >= 0`` env steps (0: no validation), ``validate_seconds`` positive
    and finite, and ``validate_from`` a fraction of the run in [0, 1]."""
    finite_time = 0 < args.validate_seconds < float("inf")  # False for NaN too
    if args.validate_every < 0 or not finite_time or not 0 <= args.validate_from <= 1:
        raise error(f"{where}: validation needs validate_every >= 0, validate_seconds positive and "
                    f"finite, and 0 <= validate_from <= 1")


def start(scenario: Any, args: Any) -> Validation | None:
    """The validation a learner's ``args`` ask for (None with ``validate_every = 0``): with
    simulation processes (``workers`` 1 or more) it scores in a process of its own."""
    if not args.validate_every:
        return None
    return Validation(scenario, args.seed, args.validate_seconds, background=args.workers > 0)


def due(step: int, advanced: int, every: int, first: float) -> bool:
    """Whether the network at env step ``step`` (``advanced`` steps after the last check)
    is scored: from step ``first`` on, each time ``step`` crosses a multiple of ``every``."""
    return step >= first and step // every != (step - advanced) // every


def conclude(validation: Validation | None, step: int, network: nn.Module, policy: Policy,
             stopped: bool) -> tuple[dict, dict | None]:
    """The state dict to save as the policy, and the validations' record (None without
    validation): the best network scored, the last one (``network`` at ``step``) competing
    too unless training was ``stopped`` early or it was just scored. Waits for the scores
    still out."""
    if validation is None:
        return network.state_dict(), None
    if not stopped and validation.last_step != step:
        validation.offer(step, network, policy)
    validation.finish()
    if validation.best_state is None:  # only if every score was NaN
        return network.state_dict(), validation.record()
    return validation.best_state, validation.record()


def score_episodes(env: Any, policy: Policy, seeds: list[int]) -> float:
    """Mean episode reward per seat of ``policy`` on ``env``'s episodes of market seeds
    ``seeds``. O(episodes x steps per episode) policy calls and market steps."""
    from lobsim.rl.evaluation import play

    total = 0.0
    for seed in seeds:
        for rewards, _ in play(env, policy, seed):
            total += sum(rewards.values())
    return total / (len(seeds) * len(env.possible_agents))


class Validation:
    """Scores offered networks on the validation episodes; keeps the best (module docstring).

    ``background``: score in a spawned process of its own while training goes on
    (:meth:`offer` returns at once; :meth:`finish` waits for the scores still out). The
    scores, and so the network kept, are the same as in the training process: the same
    network (pickled at the step it is offered), the same episodes, one torch thread.
    """

    def __init__(self, scenario: Any, seed: int, seconds: float, background: bool = False) -> None:
        """``seconds``: simulated time per scoring, rounded up to whole episodes."""
        from lobsim.rl.evaluation import held_out_seeds
        from lobsim.rl.env import MarketEnv, load_scenario
        from lobsim.rl.executor import without_shaping

        self.env = MarketEnv(without_shaping(load_scenario(scenario)))  # scores the task, unshaped
        # round first: 2.1 s / 0.3 s is 7.000000000000001 in floats, and means 7 episodes
        episodes = max(1, math.ceil(round(seconds / self.env.scenario.simulation.duration, 9)))
        self.seeds = held_out_seeds(seed, episodes, "validate")
        self.best_score = -math.inf
        self.best_step: int | None = None
        self.best_state: dict | None = None  #: a copy of the best network's state dict
        self.history: list[dict] = []  #: {"step", "score"} per validation
        self.seconds = 0.0  #: wall time spent scoring (in the background: the worker's)
        self.waited = 0.0  #: wall time the training process waited for scores
        self._pending: deque = deque()  #: (step, state) offered, not scored yet, in order
        self._worker: tuple[Any, Any] | None = None
        if background:
            self._worker = spawn_worker(_serve, registry.agent_files(),
                                        pickle.dumps(self.env.scenario), self.seeds)

    @property
    def last_step(self) -> int | None:
        """The step of the last network offered (scored or still out), or None."""
        if self._pending:
            return self._pending[-1][0]
        return self.history[-1]["step"] if self.history else None

    def score(self, policy: Policy) -> float:
        """Mean episode reward per seat of ``policy`` over the validation seeds."""
        return score_episodes(self.env, policy, self.seeds)

    def offer(self, step: int, network: nn.Module, policy: Policy) -> None:
        """Score ``policy`` (the greedy policy of ``network``) at env step ``step``; keep a
        copy of ``network``'s state if it scored best so far (ties keep the earlier). In
        the background the scoring starts now and is taken in by a later call."""
        state = {k: v.detach().clone() for k, v in network.state_dict().items()}
        if self._worker is None:
            start = time.perf_counter()
            score = self.score(policy)
            self.seconds += time.perf_counter() - start
            self._take(step, score, state)
            return
        self._pending.append((step, state))
        try:
            self._worker[0].send_bytes(pickle.dumps(policy))  # the network as it is now
        except (BrokenPipeError, OSError):
            self._receive()  # the worker's reply, if any, says why
            raise LobsimError("the validation process exited unexpectedly") from None
        self.poll()

    def poll(self) -> None:
        """Take in the background scores that are ready, without waiting."""
        while self._pending and self._worker[0].poll():
            self._receive()

    def finish(self) -> None:
        """Wait for every score still out (:attr:`history` is then complete)."""
        start = time.perf_counter()
        while self._pending:
            self._receive()
        self.waited += time.perf_counter() - start

    def close(self) -> None:
        """End the background process (idempotent)."""
        if self._worker is not None:
            conn, proc = self._worker
            self._worker = None
            try:
                conn.send_bytes(b"")
            except (BrokenPipeError, OSError):
                pass
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()

    def _receive(self) -> None:
        score, seconds = receive(self._worker[0])
        self.seconds += seconds
        step, state = self._pending.popleft()
        self._take(step, score, state)

    def _take(self, step: int, score: float, state: dict) -> None:
        self.history.append({"step": step, "score": score})
        if score > self.best_score:
            self.best_score, self.best_step, self.best_state = score, step, state

    def restore(self, record: Any, state: dict) -> None:
        """Carry over a resumed checkpoint's best (``record``: its ``progress["validation"]``,
        ``state``: its selected network) if it was scored on these same seeds."""
        if isinstance(record, dict) and record.get("seeds") == self.seeds \
                and isinstance(record.get("best_score"), float):
            self.best_score, self.best_step = record["best_score"], record.get("best_step")
            self.best_state = state
            self.history = list(record.get("history", []))

    def record(self) -> dict:
        """What the checkpoint and the training summary keep of the validations."""
        return {"seeds": self.seeds, "best_step": self.best_step,
                "best_score": self.best_score if self.history else None, "history": self.history,
                "seconds": self.seconds, "waited": self.waited}


def _serve(conn, agent_files: tuple, scenario_blob: bytes, seeds: list[int]) -> None:
    """The background scorer: each message is a pickled policy (empty: stop); each reply
    ("ok", (score, wall seconds)) or ("error", one line)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the training process's to handle
    with worker_loop(conn):
        from lobsim.rl.env import MarketEnv

        env = MarketEnv(worker_scenario(agent_files, scenario_blob))
        while blob := conn.recv_bytes():
            start = time.perf_counter()
            score = score_episodes(env, pickle.loads(blob), seeds)
            conn.send(("ok", (score, time.perf_counter() - start)))
