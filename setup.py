"""Builds lobsim's compiled extensions: the order book (``lobsim/book/_cbook.pyx``), the
market engine's modules, compiled from their Python source in Cython's pure-Python mode
(``MODULES`` of ``lobsim/sim/build.py``, each typed by the ``.pxd`` beside it), the older
hand-written twins of the engine and the scripted kinds (``lobsim/sim/_cmarket.pyx``,
``agents/_cflow.pyx``, ``agents/_cmaker.pyx``), and the memory probe of the benchmarks
(``lobsim/bench/_memory.pyx``).

Everything else about the package is in pyproject.toml. An editable install
(``pip install -e .``) builds the extensions in place, beside their sources.

Every extension is optional: on a machine without a C/C++ compiler the build skips them
(setuptools prints why) and lobsim runs on its interpreted engine and Python book.
"""

import ast
import shutil
import sys
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# -O3: the matching loop is the simulator's hot path. MSVC spells its flags differently.
FLAGS = [] if sys.platform == "win32" else ["-O3", "-std=c++17"]


def extension(name: str, source: str, depends: tuple[str, ...] = ()) -> Extension:
    # depends: the .pxd files hold the structures, so a change there rebuilds (and ships in an sdist)
    return Extension(name, [source], language="c++", depends=list(depends),
                     extra_compile_args=FLAGS, optional=True)


class ReuseBuiltExtensions(build_ext):
    """Skip compiling an extension whose in-place build is newer than its sources, its
    ``depends`` and this file: installing another extra (``pip install -e ".[rl]"``) then
    takes seconds instead of minutes. The compiled file is copied where the build wants it."""

    def build_extension(self, ext: Extension) -> None:
        built = Path(self.get_ext_filename(ext.name))  # beside its source in the tree
        inputs = [Path(s) for s in (*ext.sources, *ext.depends, __file__)]
        if built.is_file() and all(built.stat().st_mtime > s.stat().st_mtime for s in inputs):
            target = Path(self.get_ext_fullpath(ext.name))
            if target.resolve() != built.resolve():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(built, target)
            return
        super().build_extension(ext)


def engine_modules() -> tuple[str, ...]:
    """The modules written once in Python that Cython compiles in its pure-Python mode (typed
    by the ``.pxd`` beside one where there is one): ``MODULES`` of lobsim/sim/build.py (read,
    not imported: the package's dependencies need not be installed yet)."""
    tree = ast.parse(Path("lobsim/sim/build.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "MODULES":
            return ast.literal_eval(node.value)
    raise RuntimeError("lobsim/sim/build.py has no MODULES")


TWINS = ("lobsim/sim/_cmarket.pxd", "agents/_ctracking.pxd")


def pure_python(module: str) -> Extension:
    path = module.replace(".", "/")
    typed = [path + ".pxd"] if Path(path + ".pxd").is_file() else []  # most kinds have none
    return Extension(module, [path + ".py"], depends=typed, optional=True,
                     extra_compile_args=[] if sys.platform == "win32" else ["-O3"])


EXTENSIONS = cythonize([
    extension("lobsim.book._cbook", "lobsim/book/_cbook.pyx", ("lobsim/book/_cbook.pxd",)),
    extension("lobsim.bench._memory", "lobsim/bench/_memory.pyx"),
    extension("lobsim.sim._cmarket", "lobsim/sim/_cmarket.pyx", ("lobsim/sim/_cmarket.pxd",)),
    extension("agents._cflow", "agents/_cflow.pyx", TWINS),
    extension("agents._cmaker", "agents/_cmaker.pyx", TWINS),
    *(pure_python(module) for module in engine_modules()),
], compiler_directives={"language_level": 3, "annotation_typing": False}, quiet=True)
for compiled in EXTENSIONS:  # cythonize builds new Extension objects, without the flag
    compiled.optional = True

setup(cmdclass={"build_ext": ReuseBuiltExtensions}, ext_modules=EXTENSIONS)
