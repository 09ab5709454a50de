"""The ``lobsim`` command line: parse, call the library, print.

Each subcommand lives in its own module of this package with two functions,
``add_parser(subparsers)`` and ``run(args) -> int``. This is the only place in lobsim
that prints or exits: every :class:`~lobsim.errors.LobsimError` becomes one line on
stderr and exit code 2, with no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from lobsim.errors import LobsimError

#: Subcommand modules, in the order ``lobsim --help`` lists them.
COMMANDS = ("replay", "run", "train", "evaluate", "report", "export", "sweep", "validate", "bench",
            "calibrate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lobsim", description="Event-driven limit-order-book market simulator."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"lobsim.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"lobsim.cli.{name}":
                raise
            continue  # command not built yet
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except LobsimError as exc:
        print(f"lobsim {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `lobsim replay ... | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(f"lobsim {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
