"""Writing output files so that nothing is ever left half-written.

Everything goes to a temporary file beside the target and is renamed into place only
when complete; on any error the temporary file is removed and the target is untouched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from lobsim.errors import InputError


def _created_mode() -> int:
    """The mode ``open(path, "w")`` would give a new file: 0666 less the umask (0644 with
    the usual 022). Reading the umask means setting it; it is put back at once."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_write(path: Path, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file beside ``path``; rename it onto ``path`` if the block succeeds.
    The file gets the mode a plain ``open`` would give it (0644 under umask 022)."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"cannot write {path}: directory {directory} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        os.fchmod(fd, _created_mode())  # mkstemp makes 0600; a written file is a normal one
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if "b" not in mode else {})) as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def check_creatable(out_dir: Path) -> None:
    """InputError (naming ``out_dir``) unless ``out_dir`` is a directory or could be made one:
    probed by making and removing a directory in its nearest existing ancestor, so that a
    long command fails before its work, with nothing left behind. O(path depth)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir} exists and is not a directory")
    ancestor = out_dir
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"cannot create {out_dir}: {ancestor} is not a directory")
    try:  # os.access says yes to root on /proc, so try for real
        os.rmdir(tempfile.mkdtemp(prefix=".lobsim-probe.", dir=ancestor))
    except OSError as exc:
        raise InputError(f"cannot create {out_dir}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def staged_directory(out_dir: Path, last: str | None = None) -> Iterator[Path]:
    """A temporary directory beside ``out_dir`` to write files into; when the block
    succeeds every file in it is moved into ``out_dir`` (created if needed; ``last``
    is moved last, e.g. a page that links the others), replacing files of the same name.
    On any error nothing is moved and the temporary directory is removed."""
    out_dir = Path(out_dir)
    parent = out_dir.parent if str(out_dir.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {parent}: {exc.strerror or exc}") from None
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir} exists and is not a directory")
    try:  # a parent that exists but takes no new entries (read-only, /proc): refused here
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=parent))
    except OSError as exc:
        raise InputError(f"cannot create {out_dir}: {exc.strerror or exc}") from None
    try:
        yield staging
        try:
            out_dir.mkdir(exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create {out_dir}: {exc.strerror or exc}") from None
        for path in sorted(staging.iterdir(), key=lambda p: (p.name == last, p.name)):
            os.replace(path, out_dir / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
