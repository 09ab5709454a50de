"""Builds lobsim's compiled extensions: the order book (``lobsim/_cbook.pyx``), the market
engine (``lobsim/_cmarket.pyx``) and the compiled twins of the flow agents and the
baseline makers (``agents/_cflow.pyx``, ``agents/_cmaker.pyx``, which cimport the
engine's ``.pxd``), and the memory probe of the benchmarks (``lobsim/bench/_memory.pyx``).

Everything else about the package is in pyproject.toml. An editable install
(``pip install -e .``) builds the extension in place, next to ``lobsim/book.py``.
"""

import sys

from setuptools import Extension, setup

# -O3: the matching loop is the simulator's hot path. MSVC spells its flags differently.
FLAGS = [] if sys.platform == "win32" else ["-O3", "-std=c++17"]

# depends: the .pxd holds the structures, so a change there rebuilds (and ships in an sdist)
setup(ext_modules=[
    Extension("lobsim._cbook", ["lobsim/_cbook.pyx"], language="c++",
              depends=["lobsim/_cbook.pxd"], extra_compile_args=FLAGS),
    Extension("lobsim._cmarket", ["lobsim/_cmarket.pyx"], language="c++",
              depends=["lobsim/_cmarket.pxd"], extra_compile_args=FLAGS),
    Extension("lobsim.bench._memory", ["lobsim/bench/_memory.pyx"], language="c++",
              extra_compile_args=FLAGS),
    Extension("agents._cflow", ["agents/_cflow.pyx"], language="c++",
              depends=["lobsim/_cmarket.pxd", "agents/_ctracking.pxd"], extra_compile_args=FLAGS),
    Extension("agents._cmaker", ["agents/_cmaker.pyx"], language="c++",
              depends=["lobsim/_cmarket.pxd", "agents/_ctracking.pxd"], extra_compile_args=FLAGS),
])
