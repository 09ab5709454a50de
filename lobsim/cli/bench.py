"""``lobsim bench TARGET [OPTIONS]``: speed benchmarks that print figures (never timed tests).

Each target is a module with ``add_arguments(parser)`` and ``run(args)`` returning an
iterable of the lines to print; each line is printed and flushed as soon as the target
yields it, so that a pipe (``lobsim bench book | tee``) sees figures as they come. A
target's docstring is its ``--help`` description, as plain text. A target's module is imported only when it is chosen, so the
CLI starts fast and ``lobsim bench book`` never imports torch. ``args.progress`` is a
``progress(done, total, label)`` callback (a bar on stderr when it is a terminal) that a
long target may call between its timed sections, never inside one.
"""

from __future__ import annotations

import argparse
import importlib
import inspect

from lobsim.cli import OneLineParser, plain_text, unknown_options
from lobsim.cli.progress import ProgressBar
from lobsim.errors import InputError

#: target name -> module implementing it
TARGETS = {
    "book": "lobsim.bench.book",
    "env": "lobsim.bench.env",
    "market": "lobsim.bench.market",
    "memory": "lobsim.bench.memory",
    "lobster": "lobsim.bench.lobster",
    "models": "lobsim.models.bench",
    "soak": "lobsim.bench.soak",
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "bench", help="run a speed benchmark and print its figures",
        description="Speed benchmarks. `lobsim bench TARGET --help` lists a target's options.")
    # optional for argparse, so that a missing target gets our message, not argparse's
    parser.add_argument("target", nargs="?", choices=sorted(TARGETS), help="what to measure")
    parser.add_argument("options", nargs=argparse.REMAINDER, help="the target's own options")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.target is None:
        raise InputError(f"give a target to measure: {', '.join(sorted(TARGETS))} "
                         "(`lobsim bench TARGET --help` lists its options)")
    module = importlib.import_module(TARGETS[args.target])
    target = OneLineParser(prog=f"lobsim bench {args.target}",
                           formatter_class=argparse.RawDescriptionHelpFormatter,
                           description=plain_text(inspect.cleandoc(module.__doc__ or "")))
    module.add_arguments(target)
    options, extra = target.parse_known_args(args.options)
    if extra:
        target.error(unknown_options(target, extra))
    options.progress = ProgressBar(f"bench {args.target}")
    try:
        for line in module.run(options):
            options.progress.close()  # a line on stdout would cut through the bar
            print(line, flush=True)
    finally:
        options.progress.close()
    return 0
