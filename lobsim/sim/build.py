"""The market engine's two builds, from one source: compiled and interpreted.

The engine's modules (:data:`MODULES`: scheduler, sessions, latency, exchange, ledger,
recorder, the ``Agent`` base and the built-in flow kinds) are plain Python, each typed by
the ``.pxd`` beside it. When a C compiler is present, ``pip install`` compiles them with
Cython's pure-Python mode and the compiled modules shadow the ``.py`` files on import; the
same files also stay loadable as Python. A :class:`Build` is one complete set of them:

* :func:`compiled` is what ``import lobsim.sim.exchange`` gives (compiled if built);
* :func:`interpreted` loads every module of :data:`MODULES` again from its ``.py`` source,
  under the same names but outside ``sys.modules``, so that both builds live in one
  process: the interpreted one is the reference that every compiled run must match byte
  for byte (tests/sim/test_builds.py).

Only the engine is duplicated this way, and only in memory: a user's own agent class runs
as it is in either build (it talks to its session through ordinary method calls).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
from functools import cache
from types import ModuleType
from typing import Any

#: The modules Cython compiles (setup.py reads this tuple), in an order in which each
#: one's imports of the others come first.
MODULES = (
    "lobsim.units", "lobsim.sim.streams", "lobsim.sim.latency", "lobsim.sim.owners", "lobsim.sim.ledger",
    "lobsim.sim.requests", "lobsim.sim.recorder", "lobsim.sim.scheduler", "lobsim.sim.agent",
    "lobsim.sim.gateway", "lobsim.sim.exchange", "agents.tracking", "agents.poisson", "agents.santa_fe",
    "agents.looking", "agents.hawkes", "agents.queue_reactive", "agents.metaorder",
    "agents.fundamental", "agents.momentum", "agents.informed", "agents.scripted",
    "agents.maker", "agents.fixed_spread", "agents.avellaneda_stoikov", "agents.execution",
    "agents.twap", "agents.almgren_chriss", "agents.lobster_replay", "lobsim.rl.seat",
    "lobsim.rl.executor",
)


class Build:
    """One build of the engine: its modules by name, and the classes a market wires."""

    def __init__(self, name: str, modules: dict[str, ModuleType]) -> None:
        self.name = name  #: "compiled" or "python"
        self.modules = modules
        self.Scheduler = modules["lobsim.sim.scheduler"].Scheduler
        self.Session = modules["lobsim.sim.gateway"].Session
        self.Exchange = modules["lobsim.sim.exchange"].Exchange
        self.Ledger = modules["lobsim.sim.ledger"].Ledger
        self.Recorder = modules["lobsim.sim.recorder"].Recorder
        self.BatchedRandom = modules["lobsim.sim.streams"].BatchedRandom
        self.legs = modules["lobsim.sim.latency"].legs

    def kind(self, cls: type) -> type:
        """``cls`` as this build has it: a built-in kind's class from this build's module,
        any other class (a user's, a learner seat) as it is."""
        module = self.modules.get(cls.__module__)
        return getattr(module, cls.__qualname__, cls) if module is not None else cls


def is_compiled(module: ModuleType) -> bool:
    """Whether ``module`` was loaded from a compiled extension."""
    return isinstance(getattr(module, "__loader__", None), importlib.machinery.ExtensionFileLoader)


@cache
def compiled() -> Build:
    """The build ``import`` gives: compiled where the extensions are built."""
    return Build("compiled", {name: importlib.import_module(name) for name in MODULES})


def compiled_is_built() -> bool:
    """Whether every module of the engine loaded compiled."""
    return all(is_compiled(module) for module in compiled().modules.values())


@cache
def interpreted() -> Build:
    """Every engine module loaded again from its ``.py`` source (see the module docstring);
    the same modules as :func:`compiled` when nothing is compiled. Not thread-safe on its
    first call (it swaps ``sys.modules`` entries while it imports)."""
    build = compiled()  # and everything it imports, so that only MODULES load again
    if not any(is_compiled(module) for module in build.modules.values()):
        return Build("python", build.modules)
    saved = {name: sys.modules.pop(name) for name in MODULES}
    finder = _SourceFinder(build.modules)
    sys.meta_path.insert(0, finder)
    try:
        modules = {name: importlib.import_module(name) for name in MODULES}
    finally:
        sys.meta_path.remove(finder)
        for name in MODULES:
            sys.modules.pop(name, None)
        sys.modules.update(saved)
    return Build("python", modules)


def pure_python_requested() -> bool:
    """``LOBSIM_PURE_PYTHON`` is set (to anything but ``""``/``0``): run interpreted."""
    return os.environ.get("LOBSIM_PURE_PYTHON", "") not in ("", "0")


class _SourceFinder:
    """Finds the engine's modules as ``.py`` sources, beside their compiled files."""

    def __init__(self, compiled_modules: dict[str, ModuleType]) -> None:
        self._files = {name: module.__file__ for name, module in compiled_modules.items()}

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        file = self._files.get(name)
        if file is None:
            return None
        source = os.path.join(os.path.dirname(file), name.rpartition(".")[2] + ".py")
        return importlib.util.spec_from_file_location(name, source)
