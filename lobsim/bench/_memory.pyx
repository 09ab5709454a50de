# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""What a random read of memory costs on this machine, now: a dependent pointer chase.

A block is cut into 64-byte lines (one cache line each) linked in one random cycle, and
each read loads the number of the next line to read, so no two reads overlap and no
prefetcher can guess ahead: the time per read is the latency of whatever holds the block
(L2, the shared L3, or DRAM). The order book's per-message cost at 10^5 resting orders is
mostly such reads of its order table, so ``lobsim bench book`` prints these figures beside
its own (see ``lobsim.bench.memory`` for the sweep over block sizes).

The block is a numpy array, which numpy advises onto transparent huge pages from 4 MiB
(Linux), as the book does its tables from 2 MiB.
"""

import time

import numpy as np

from libc.stdint cimport uint64_t

LINE = 64  #: bytes a line: the cache line of x86-64 and of most ARM cores
_WORDS = LINE // 8


def cycle(Py_ssize_t lines, seed=0):
    """The random cycle over ``lines`` lines: ``next[i]`` is the line read after line
    ``i``; following it from any line visits every line once before coming back.
    Seeded (numpy's PCG64). O(lines)."""
    if lines < 2:
        raise ValueError(f"a cycle needs at least 2 lines, got {lines}")
    order = np.random.default_rng(seed).permutation(lines)
    following = np.empty(lines, dtype=np.uint64)
    following[order] = np.roll(order, -1)
    return following


def random_read_ns(Py_ssize_t block_bytes, Py_ssize_t reads, seed=0):
    """Mean nanoseconds per dependent read of a random line of a block of ``block_bytes``
    bytes (rounded down to whole lines), over ``reads`` reads that follow one untimed lap
    of the whole cycle (which brings the block into whatever cache will hold it).
    O(block_bytes / 64 + reads)."""
    cdef uint64_t[::1] words
    cdef uint64_t k
    cdef Py_ssize_t i, lines = block_bytes // LINE
    if lines < 2 or reads < 1:
        raise ValueError(f"need a block of at least {2 * LINE} bytes and at least 1 read, "
                         f"got {block_bytes} bytes and {reads} reads")
    block = np.zeros(lines * _WORDS, dtype=np.uint64)
    block[::_WORDS] = cycle(lines, seed) * _WORDS  # each line's first word: the next line's
    words = block
    k = 0
    with nogil:
        for i in range(lines):
            k = words[k]
    start = time.perf_counter()
    with nogil:
        for i in range(reads):
            k = words[k]
    elapsed = time.perf_counter() - start
    if k >= <uint64_t>(lines * _WORDS):  # never: uses k, so the chase cannot be optimised away
        raise AssertionError("the chase left the block")
    return elapsed / reads * 1e9
