"""lobsim's error hierarchy.

Inside the library errors are specific and loud. The CLI (the only place that prints or
exits) turns every :class:`LobsimError` into one line on stderr and exit code 2.
An agent's bad *order* is never an error: it becomes a reject report.
"""

from __future__ import annotations


class LobsimError(Exception):
    """Base of every error lobsim raises on purpose."""


class InputError(LobsimError):
    """A file or argument given by the user is malformed; the message names the place."""


class ScenarioError(InputError):
    """A scenario file is invalid; the message names the file, the key path and what was expected."""


class CheckpointError(InputError):
    """A checkpoint is corrupt or does not match the configuration that should load it."""


class InvariantError(LobsimError):
    """An internal invariant does not hold: a bug in lobsim, never the user's fault."""


class AuditError(LobsimError):
    """The end-of-run audit found that quantities or cash were not conserved."""


class RangeError(LobsimError):
    """A figure of a run (cash, fees, volume, a time...) would leave the int64 range that
    both engines and the output files hold: sizes, prices or fees too large."""


class ResourceError(LobsimError):
    """The machine ran out of memory during a run; the message says how far it got."""


class LivelockError(LobsimError):
    """A runaway: an agent keeps sending messages or setting timers at one instant (a
    zero-latency feedback loop that stops simulated time), or sends messages faster than
    the market's ``max_messages_per_ms``. Give it latency or a rate limit, or fix its logic. ``result`` (set by
    :meth:`lobsim.sim.market.Market.run`): the run up to the stop, for diagnosis."""

    @classmethod
    def burst(cls, agent: str, messages: int, now_ns: int) -> LivelockError:
        """The error for ``agent``'s ``messages`` at the instant ``now_ns``."""
        return cls(f"agent {agent!r} sent {messages:,} messages at t={now_ns / 1e9:.9f} s "
                   "without simulated time moving (a zero-latency feedback loop?); give it "
                   "latency or a rate_limit")

    @classmethod
    def timers(cls, agent: str, timers: int, now_ns: int) -> LivelockError:
        """The error for ``agent``'s ``timers`` set at the instant ``now_ns``."""
        return cls(f"agent {agent!r} set {timers:,} timers at t={now_ns / 1e9:.9f} s without "
                   "simulated time moving (a timer of 0 ns set again from on_timer?); give its "
                   "delay a floor above 0")

    @classmethod
    def rate(cls, agent: str, messages: int, now_ns: int, burst: int, cap: int) -> LivelockError:
        """The error for ``agent``'s ``messages`` within the simulated millisecond of
        ``now_ns``, beyond the market's cap of ``cap`` a millisecond; ``burst`` of them came
        at ``now_ns`` itself (all of them: a loop at one instant, said as :meth:`burst`)."""
        if burst == messages:
            return cls.burst(agent, messages, now_ns)
        return cls(f"agent {agent!r} sent {messages:,} messages within the simulated millisecond "
                   f"from t={now_ns // 1_000_000 / 1e3:.3f} s, beyond market.max_messages_per_ms "
                   f"= {cap:,} (a runaway feedback loop?); give it latency or a rate_limit")


class MissingExtraError(LobsimError):
    """An optional dependency is needed for this command; the message says what to install."""


#: Optional packages and the extra that installs each (``pip install 'lobsim[EXTRA]'``).
EXTRAS = {"torch": "rl", "gymnasium": "rl", "pettingzoo": "rl", "matplotlib": "plots", "ray": "ray"}


def missing_extra(exc: ModuleNotFoundError) -> MissingExtraError | None:
    """The one-line error for an optional package that is not installed, or None when
    ``exc`` is about another module (a bug, not a missing extra)."""
    top = (exc.name or "").split(".")[0]
    if top not in EXTRAS:
        return None
    return MissingExtraError(f"this needs {top}, which is not installed: "
                             f"pip install 'lobsim[{EXTRAS[top]}]'")

