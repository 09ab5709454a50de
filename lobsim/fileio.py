"""Writing output files so that nothing is ever left half-written, mixed or stale.

Everything goes to a temporary file or directory beside the target and is renamed into
place only when complete; on any error the temporary is removed and the target is
untouched. Temporaries are named ``.NAME.lobsim-PID-XXXXXXXX`` (``.tmp`` for files):
one left by a killed process (SIGKILL, power loss) is recognized by its dead PID and
removed by the next write beside it (:func:`remove_stale`). A live process's
temporaries are never touched, so concurrent writers do not disturb each other (on
one machine: a PID means nothing to another host sharing the file system).

An output directory is replaced as a whole, never merged into: a rerun into the same
``--out`` leaves no file of the previous run (an old ``report/`` or ``lob/``) beside the
new results. To keep this from deleting a user's own files, lobsim replaces only a
directory that is empty or its own: one holding the marker file ``.lobsim`` that every
output directory gets, or, written before the marker existed, a ``summary.json``,
``sweep.parquet`` or ``report.html``. Anything else is refused with one line (choose
another ``--out`` or remove it). docs/robustness.md states the rule.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from lobsim.errors import InputError

#: The marker file of a directory lobsim wrote (see the module docstring).
MARKER = ".lobsim"
#: Files that mark an output directory of lobsim's without :data:`MARKER`: written before the
#: marker existed, or a training directory (written as training goes, resumable in place).
LEGACY_OUTPUTS = ("summary.json", "sweep.parquet", "report.html", "policy.pt")


def _tag(name: str) -> str:
    """The prefix of this process's temporaries for target ``name``."""
    return f".{name}.lobsim-{os.getpid()}-"


def _owner_pid(entry: str, name: str) -> int | None:
    """The PID in a temporary's name for target ``name``, or None if it is not one."""
    match = re.fullmatch(rf"\.{re.escape(name)}\.lobsim-(\d+)-[A-Za-z0-9_]+(\.tmp|\.old)?", entry)
    return int(match.group(1)) if match else None


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (PermissionError: another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(directory: Path, name: str) -> None:
    """Remove the temporaries for target ``name`` in ``directory`` whose process is gone.
    O(entries of ``directory``)."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(directory):
            pid = _owner_pid(entry.name, name)
            if pid is not None and not _alive(pid):
                _remove(Path(entry.path))


def _remove(path: Path) -> None:
    """Remove a file or a directory tree, ignoring what is already gone."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


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
    remove_stale(directory, path.name)
    try:
        fd, tmp = tempfile.mkstemp(prefix=_tag(path.name), suffix=".tmp", dir=directory)
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


def is_lobsim_output(directory: Path) -> bool:
    """Whether ``directory`` is one lobsim wrote (module docstring), so it may be replaced."""
    return any((Path(directory) / name).is_file() for name in (MARKER, *LEGACY_OUTPUTS))


def claim_output(out_dir: Path) -> None:
    """Make ``out_dir`` ready to receive a new output, before the work that fills it:
    refuse it (:class:`InputError`) if it exists and is neither empty nor lobsim's, and
    move a previous lobsim output out of sight (renamed to a temporary of this process),
    so that the work writes into a clean place. The retired copy is removed when the new
    output is installed; if the work fails first, :func:`restore_retired` puts it back (the
    CLI calls it whatever the outcome), and a copy left by a killed process is removed as
    stale by the next write beside it."""
    out_dir = Path(out_dir)
    check_creatable(out_dir)
    parent = out_dir.parent if str(out_dir.parent) else Path(".")
    remove_stale(parent, out_dir.name)
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise InputError(f"{out_dir} exists and is not a directory")
    if not any(out_dir.iterdir()):
        return
    if not is_lobsim_output(out_dir):
        raise InputError(f"{out_dir} is a directory that lobsim did not write (no {MARKER} "
                         "file); choose another output directory or remove it")
    retired = parent / f"{_tag(out_dir.name)}{secrets.token_hex(4)}.old"
    try:
        os.replace(out_dir, retired)
    except OSError as exc:
        raise InputError(f"cannot replace {out_dir}: {exc.strerror or exc}") from None
    _retired[out_dir.absolute()] = retired.absolute()


#: out_dir -> its previous output, retired by :func:`claim_output` in this process and not yet
#: replaced by a new one (:func:`staged_directory` forgets it once the new output is in place).
_retired: dict[Path, Path] = {}


def restore_retired() -> list[Path]:
    """Put back the previous outputs this process retired whose new output never came (the
    work failed or was interrupted before it was installed), so that a failed rerun loses
    nothing. An ``out_dir`` that holds something again (an interrupted training's
    resumable checkpoint) keeps it; its retired copy is removed as stale later, as before.
    Returns the directories restored. O(outputs retired)."""
    restored = []
    for out_dir, retired in list(_retired.items()):
        del _retired[out_dir]
        with contextlib.suppress(OSError):
            if out_dir.is_dir() and not any(out_dir.iterdir()):
                out_dir.rmdir()  # an empty directory the failed work left: the old one goes back
            if retired.is_dir() and not out_dir.exists():
                os.replace(retired, out_dir)
                restored.append(out_dir)
    return restored


@contextlib.contextmanager
def staged_directory(out_dir: Path, last: str | None = None) -> Iterator[Path]:
    """A temporary directory beside ``out_dir`` to write files into; when the block
    succeeds it gets the :data:`MARKER` file and becomes ``out_dir``, replacing a previous
    output as a whole (see :func:`claim_output`, which runs first). Into an existing empty
    directory the files are moved instead (``last`` moved last, e.g. a page that links
    the others). On any error nothing is installed and the temporary is removed."""
    out_dir = Path(out_dir)
    parent = out_dir.parent if str(out_dir.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {parent}: {exc.strerror or exc}") from None
    claim_output(out_dir)
    staging = parent / f"{_tag(out_dir.name)}{secrets.token_hex(4)}"
    try:  # a parent that exists but takes no new entries (read-only, /proc): refused here
        staging.mkdir()  # not mkdtemp: the installed directory keeps the usual permissions
    except OSError as exc:
        raise InputError(f"cannot create {out_dir}: {exc.strerror or exc}") from None
    try:
        yield staging
        (staging / MARKER).write_text("written by lobsim; the directory is replaced as a whole\n")
        _install(staging, out_dir, last)
        _retired.pop(out_dir.absolute(), None)
        for entry in os.scandir(parent):  # the previous output this process retired
            if entry.name.startswith(_tag(out_dir.name)) and entry.name.endswith(".old"):
                _remove(Path(entry.path))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _install(staging: Path, out_dir: Path, last: str | None) -> None:
    """``staging`` becomes ``out_dir``: one rename, or file by file into an empty directory."""
    if out_dir.exists() and any(out_dir.iterdir()):
        claim_output(out_dir)  # written to meanwhile: the same rule again
    if out_dir.is_dir():  # empty (perhaps the working directory): fill it in place
        for path in sorted(staging.iterdir(), key=lambda p: (p.name == last, p.name)):
            os.replace(path, out_dir / path.name)
        return
    os.replace(staging, out_dir)
