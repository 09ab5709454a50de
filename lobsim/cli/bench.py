"""``lobsim bench TARGET [OPTIONS]``: speed benchmarks that print figures (never timed tests).

Each target is a module with ``add_arguments(parser)`` and ``run(args) -> list[str]``
(the lines to print). A target's module is imported only when it is chosen, so the
CLI starts fast and ``lobsim bench book`` never imports torch. ``args.progress`` is a
``progress(done, total, label)`` callback (a bar on stderr when it is a terminal) that a
long target may call between its timed sections, never inside one.
"""

from __future__ import annotations

import argparse
import importlib

from lobsim.cli.progress import ProgressBar

#: target name -> module implementing it
TARGETS = {
    "book": "lobsim.bench.book",
    "market": "lobsim.bench.market",
    "memory": "lobsim.bench.memory",
    "models": "lobsim.models.bench",
    "soak": "lobsim.bench.soak",
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "bench", help="run a speed benchmark and print its figures",
        description="Speed benchmarks. `lobsim bench TARGET --help` lists a target's options.")
    parser.add_argument("target", choices=sorted(TARGETS), help="what to measure")
    parser.add_argument("options", nargs=argparse.REMAINDER, help="the target's own options")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    module = importlib.import_module(TARGETS[args.target])
    target = argparse.ArgumentParser(prog=f"lobsim bench {args.target}",
                                     description=(module.__doc__ or "").strip())
    module.add_arguments(target)
    options = target.parse_args(args.options)
    options.progress = ProgressBar(f"bench {args.target}")
    try:
        lines = module.run(options)
    finally:
        options.progress.close()
    for line in lines:
        print(line, flush=True)
    return 0
