"""Named plug-ins found through entry-point groups.

``lobsim`` never imports ``agents`` at import time: agent kinds, learners and
reproductions are resolved by name through the entry-point groups that
``pyproject.toml`` declares (``lobsim.agents``, ``lobsim.learners``,
``lobsim.validations``), so a user's own package can add kinds the same way.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import Any

from lobsim.errors import InputError


@cache
def names(group: str) -> tuple[str, ...]:
    """The sorted names registered in ``group``."""
    return tuple(sorted({ep.name for ep in entry_points(group=group)}))


@cache
def load(group: str, name: str) -> Any:
    """The object registered as ``name`` in ``group``.

    Raises :class:`InputError` naming the known names when ``name`` is not registered.
    """
    for ep in entry_points(group=group):
        if ep.name == name:
            return ep.load()
    known = ", ".join(names(group)) or "none installed"
    raise InputError(f"unknown {group.split('.')[-1][:-1]} {name!r} (known: {known})")
