"""``lobsim kinds [KIND] [--agents FILE.py] [--json]``: every agent kind's parameters (type,
range, default and meaning), from :mod:`lobsim.scenario.reference`."""

from __future__ import annotations

import argparse
import json

from lobsim.cli import add_agents_option


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "kinds", help="list agent kinds and their parameters",
        description="Print every agent kind a scenario may name (kind = \"...\"), or one, with "
                    "each parameter's type, range, default and meaning.")
    parser.add_argument("kind", nargs="?", help="one kind (default: all)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--markdown", action="store_true",
                        help="print the Markdown reference (docs/kinds.md is this output)")
    add_agents_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lobsim import registry
    from lobsim.scenario import reference

    classes = ({args.kind: registry.load(registry.AGENTS, args.kind)} if args.kind
               else reference.kinds())
    if args.markdown:
        print(reference.markdown_page(classes), end="")
    elif args.json:
        print(json.dumps({name: reference.as_dict(cls) for name, cls in classes.items()}, indent=2))
    else:
        print("\n\n".join(reference.text(name, cls) for name, cls in classes.items()))
    return 0
