"""The ``lobsim`` command line: parse, call the library, print.

Each subcommand lives in its own module of this package (``train-sweep`` in
``train_sweep``) with two functions,
``add_parser(subparsers)`` and ``run(args) -> int``. This is the only place in lobsim
that prints or exits: every :class:`~lobsim.errors.LobsimError` becomes one line on
stderr and exit code 2, with no traceback.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import re
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from lobsim import __version__, fileio, registry
from lobsim.errors import LobsimError, missing_extra

#: Subcommand modules, in the order ``lobsim --help`` lists them.
COMMANDS = ("run", "kinds", "report", "realism", "calibrate", "replay", "export", "train", "evaluate",
            "sweep", "train-sweep", "study", "validate", "bench")


def add_agents_option(parser: argparse.ArgumentParser) -> None:
    """``--agents FILE.py`` (repeatable): the Agent subclasses of a user's file become kinds
    (:func:`lobsim.registry.load_agent_file`); :func:`main` loads them before the command."""
    parser.add_argument("--agents", action="append", type=Path, default=[], metavar="FILE.py",
                        help="load your own agent kinds from a Python file (repeatable)")


#: reStructuredText roles and literals as docstrings write them: ``x``, :class:`x`, `x`
_RST = re.compile(r"(?::[a-z]+:)?`{1,2}~?([^`]+?)`{1,2}")


def plain_text(text: str) -> str:
    """``text`` (a docstring) as help text: RST literals and roles reduced to their
    content (``x`` and :mod:`x` become x), so that ``--help`` reads as plain text."""
    return _RST.sub(r"\1", text)


def check_option(option: str, value: int | None, low: int, high: int) -> None:
    """:class:`~lobsim.errors.InputError` unless an integer option's ``value`` is within
    ``[low, high]`` (None: not given); the bounds come from :mod:`lobsim.scenario.config`."""
    from lobsim.errors import InputError

    if value is not None and not low <= value <= high:
        raise InputError(f"{option}: expected an integer from {low:,} to {high:,}, got {value}")


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad option is one line on stderr and exit code 2, as every other
    bad input (argparse prints its usage block first; ``--help`` still shows it)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


def unknown_options(parser: argparse.ArgumentParser, extra: list[str]) -> str:
    """The message for arguments ``parser`` does not take: each named, with the closest
    of its options where one is close (``--sed`` -> ``--seed``)."""
    known = [o for action in parser._actions for o in action.option_strings]
    parts = []
    for arg in extra:
        close = difflib.get_close_matches(arg.split("=", 1)[0], known, n=1) if arg.startswith("-") else []
        parts.append(f"{arg} (did you mean {close[0]}?)" if close else arg)
    return "unrecognized arguments: " + " ".join(parts)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="lobsim", description="Event-driven limit-order-book market simulator. "
                                   "`lobsim COMMAND --help` describes a command."
    )
    parser.add_argument("--version", action="version", version=f"lobsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"lobsim.cli.{name.replace('-', '_')}")
        except ModuleNotFoundError as exc:
            if exc.name != f"lobsim.cli.{name.replace('-', '_')}":
                raise
            continue  # command not built yet
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # name the subcommand's options, not the top level's
        command = _subparser(parser, args.command) if args.command else parser
        command.error(unknown_options(command, extra))
    if args.command is None:  # bare `lobsim`: what there is to do
        parser.print_help()
        return 0
    with warnings.catch_warnings():
        # a library's notice (the engine it fell back to, ...) as one line of ours
        warnings.showwarning = lambda message, *_, **__: print(
            f"lobsim {args.command}: {message}", file=sys.stderr)
        return _dispatch(args)


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    """The parser of subcommand ``name`` (``bench`` parses its targets' options itself)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[name]
    return parser


def _dispatch(args: argparse.Namespace) -> int:
    try:
        return _call(args)
    finally:  # whatever happened, a failed rerun loses nothing (a no-op after _kept)
        fileio.restore_retired()


def _kept() -> str:
    """Put back the previous output a failed command retired; the end of its error line."""
    restored = fileio.restore_retired()
    return f" (the previous output in {', '.join(map(str, restored))} is kept)" if restored else ""


def _call(args: argparse.Namespace) -> int:
    try:
        for path in getattr(args, "agents", None) or ():  # the user named their code: run it
            registry.load_agent_file(path)
        return int(args.func(args) or 0)
    except LobsimError as exc:
        print(f"lobsim {args.command}: error: {exc}{_kept()}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        missing = missing_extra(exc)
        if missing is None:
            raise
        print(f"lobsim {args.command}: error: {missing}{_kept()}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `lobsim replay ... | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        # a progress bar may be open on the line (a terminal only): the message goes below it
        below = "\n" if sys.stderr.isatty() else ""
        print(f"{below}lobsim {args.command}: interrupted{_kept()}", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
