"""Builds lobsim's compiled extensions: the order book (``lobsim/book/_cbook.pyx``), the market
engine (``lobsim/sim/_cmarket.pyx``) and the compiled twins of the flow agents and the
baseline makers (``agents/_cflow.pyx``, ``agents/_cmaker.pyx``, which cimport the
engine's ``.pxd``), and the memory probe of the benchmarks (``lobsim/bench/_memory.pyx``).

Everything else about the package is in pyproject.toml. An editable install
(``pip install -e .``) builds the extensions in place, beside their sources.

Every extension is optional: on a machine without a C++ compiler the build skips them
(setuptools prints why) and lobsim runs on its interpreted engine and Python book.
"""

import sys

from setuptools import Extension, setup

# -O3: the matching loop is the simulator's hot path. MSVC spells its flags differently.
FLAGS = [] if sys.platform == "win32" else ["-O3", "-std=c++17"]


def extension(name: str, source: str, depends: tuple[str, ...] = ()) -> Extension:
    # depends: the .pxd files hold the structures, so a change there rebuilds (and ships in an sdist)
    return Extension(name, [source], language="c++", depends=list(depends),
                     extra_compile_args=FLAGS, optional=True)


ENGINE = ("lobsim/sim/_cmarket.pxd", "agents/_ctracking.pxd")
setup(ext_modules=[
    extension("lobsim.book._cbook", "lobsim/book/_cbook.pyx", ("lobsim/book/_cbook.pxd",)),
    extension("lobsim.sim._cmarket", "lobsim/sim/_cmarket.pyx", ("lobsim/sim/_cmarket.pxd",)),
    extension("lobsim.bench._memory", "lobsim/bench/_memory.pyx"),
    extension("agents._cflow", "agents/_cflow.pyx", ENGINE),
    extension("agents._cmaker", "agents/_cmaker.pyx", ENGINE),
])
