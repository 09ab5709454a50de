"""What one random read of memory costs on this machine, by block size.

The order book's cost per message at 10^5 resting orders is mostly random reads of its
order table (8 MiB by then), so whether that cost stays flat as the book grows depends
on how much cache the machine gives the process at the time. On a virtual machine that
shares its last-level cache with other tenants that amount moves from minute to minute,
and so do the book's figures. This prints the latency of one dependent read of a random
64-byte line in blocks of growing size (a pointer chase, see ``lobsim.bench._memory``):
where it jumps is how much cache this process had. The sizes take turns for
``--repeat`` rounds, so a busy spell of the neighbours falls on all of them; the best
and the median round are printed. ``lobsim bench book`` prints the 2 MiB and 8 MiB
figures of its own run.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import statistics

from lobsim.bench import progress_of
from lobsim.errors import InputError, LobsimError

MIB = 1 << 20
MAX_BLOCK = 1024 * MIB  #: bytes; a block is allocated whole, and this machine has 24 GiB


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.25, 0.5, 1, 2, 3, 4, 6, 8, 16],
                        help="block sizes in MiB (default: 0.25 0.5 1 2 3 4 6 8 16)")
    parser.add_argument("--reads", type=int, default=2_000_000, help="timed reads a block a round")
    parser.add_argument("--repeat", type=int, default=5, help="rounds, the sizes taking turns")
    parser.add_argument("--seed", type=int, default=0)


def built() -> bool:
    """Whether the compiled probe was built. A source checkout without a compiler runs
    the pure Python book (see :mod:`lobsim.book.orderbook`), and has no probe: a Python loop would
    time the interpreter, not the memory."""
    return importlib.util.find_spec("lobsim.bench._memory") is not None


def read_ns(blocks: list[int], reads: int, seed: int = 0) -> list[float] | None:
    """One round: ns per random read in each block of ``blocks`` (bytes), in that order;
    None if the probe was not built."""
    if not built():
        return None
    from lobsim.bench._memory import random_read_ns

    return [random_read_ns(block, reads, seed) for block in blocks]


def run(args: argparse.Namespace) -> list[str]:
    if not built():
        raise LobsimError("lobsim bench memory needs the compiled probe lobsim.bench._memory, "
                          "which this install did not build (pip install -e . builds it)")
    if args.reads < 1 or args.repeat < 1 or not all(128 <= size * MIB <= MAX_BLOCK for size in args.sizes):
        raise InputError("--reads and --repeat must be >= 1 and every --sizes from 128 bytes "
                         f"(0.0002 MiB) to {MAX_BLOCK // MIB} MiB")
    blocks = [int(size * MIB) for size in args.sizes]
    progress = progress_of(args)
    rounds = []
    for r in range(args.repeat):
        progress(r, args.repeat, "rounds")
        rounds.append(read_ns(blocks, args.reads, args.seed))
    lines = [f"random read of one 64-byte line, each naming the next (a pointer chase): "
             f"{args.reads:,} reads a block a round, {args.repeat} rounds, the sizes taking turns",
             f"{'block':>10} {'best ns':>8} {'median ns':>10}"]
    for i, size in enumerate(args.sizes):
        times = [round_[i] for round_ in rounds]
        lines.append(f"{size:>6g} MiB {tenth(min(times)):>8} {tenth(statistics.median(times)):>10}")
    return lines


def tenth(ns: float) -> str:
    """``ns`` to a tenth, truncated (figures are never rounded up)."""
    return f"{math.floor(10 * ns) / 10:.1f}"
