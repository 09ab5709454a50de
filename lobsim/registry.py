"""Named plug-ins: agent kinds, learners and reproductions, found by name.

``lobsim`` never imports ``agents`` at import time. A name is found in one of two ways:

* an entry point of the group (``lobsim.agents``, ``lobsim.learners``,
  ``lobsim.validations``), which is how lobsim's own kinds and an installed package's
  kinds are registered (``pyproject.toml``);
* for agent kinds, a Python file the user names on the command line (``--agents FILE.py``)
  or passes to :func:`load_agent_file`: each :class:`~lobsim.sim.agent.Agent` subclass
  defined in it with a ``kind`` attribute becomes that kind, in this process.

A scenario file only ever names kinds; it never causes code to be loaded. A user's file
runs because the user named it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from lobsim.errors import InputError

AGENTS = "lobsim.agents"

#: What the unknown-kind errors say about adding one.
HOW_TO_ADD_A_KIND = ("a kind of your own comes from `--agents FILE.py` (a file defining an Agent "
                     "subclass with kind = \"...\") or from a package's 'lobsim.agents' entry point")

#: kind name -> (class, the file that defined it), for kinds loaded from user files
_file_kinds: dict[str, tuple[type, Path]] = {}


@cache
def _entry_point_names(group: str) -> tuple[str, ...]:
    return tuple(sorted({ep.name for ep in entry_points(group=group)}))


def names(group: str) -> tuple[str, ...]:
    """The sorted names known in ``group``: entry points, and for agent kinds the kinds
    loaded from files in this process."""
    extra = tuple(_file_kinds) if group == AGENTS else ()
    return tuple(sorted({*_entry_point_names(group), *extra}))


@cache
def _load_entry_point(group: str, name: str) -> Any:
    for ep in entry_points(group=group):
        if ep.name == name:
            return ep.load()
    return None


def load(group: str, name: str) -> Any:
    """The object registered as ``name`` in ``group``.

    Raises :class:`InputError` naming the known names, and for agent kinds both ways of
    adding one, when ``name`` is not registered."""
    if group == AGENTS and name in _file_kinds:
        return _file_kinds[name][0]
    found = _load_entry_point(group, name)
    if found is not None:
        return found
    what = group.split(".")[-1][:-1]
    known = ", ".join(names(group)) or "none installed"
    hint = f"; {HOW_TO_ADD_A_KIND}" if group == AGENTS else ""
    raise InputError(f"unknown {what} {name!r} (known: {known}){hint}")


def load_agent_file(path: str | Path) -> list[str]:
    """Import the Python file ``path`` and register every ``Agent`` subclass it defines
    that declares ``kind``; return the kinds, in definition order.

    Loading the same file twice registers nothing new. Raises :class:`InputError` (one
    line) when the file is missing, fails to import, defines no kind, or defines a kind
    that another file or an installed package already names."""
    from lobsim.sim.agent import Agent

    path = Path(path).resolve()
    if not path.is_file():
        raise InputError(f"--agents: {path}: no such file")
    if any(source == path for _, source in _file_kinds.values()):
        return [k for k, (_, source) in _file_kinds.items() if source == path]
    module = _import_file(path)
    found = [obj for obj in vars(module).values()
             if isinstance(obj, type) and issubclass(obj, Agent) and obj.__module__ == module.__name__
             and isinstance(obj.__dict__.get("kind"), str)]
    if not found:
        raise InputError(f"--agents: {path}: defines no Agent subclass with a kind attribute "
                         "(e.g. kind = \"my_maker\")")
    for cls in found:
        taken = cls.kind in _file_kinds or cls.kind in _entry_point_names(AGENTS)
        if taken:
            raise InputError(f"--agents: {path}: kind {cls.kind!r} is already defined "
                             f"({_file_kinds[cls.kind][1] if cls.kind in _file_kinds else 'installed'})")
        _file_kinds[cls.kind] = (cls, path)
    return [cls.kind for cls in found]


def agent_files() -> tuple[Path, ...]:
    """The files loaded with :func:`load_agent_file`, in order: what a worker process must
    load again to know the same kinds (spawned processes start without them)."""
    return tuple(dict.fromkeys(source for _, source in _file_kinds.values()))


def _import_file(path: Path) -> Any:
    """``path`` imported as a module with a name of its own (stable for the same path)."""
    name = f"lobsim_user_agents_{hashlib.sha1(str(path).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InputError(f"--agents: {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's own code: report it in one line, not a traceback
        del sys.modules[name]
        where = f":{exc.lineno}" if isinstance(exc, SyntaxError) else ""
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == str(path):
                where = f":{tb.tb_lineno}"
            tb = tb.tb_next
        raise InputError(f"--agents: {path}{where}: {type(exc).__name__}: {exc}") from None
    return module
