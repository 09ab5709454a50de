"""The recorder's columns against a list of row tuples (the obviously correct model), on
both builds: every row in order, across chunks and batches, with malformed values null."""

import random

import pytest
from hypothesis import given, settings, strategies as st

from lobsim.sim import build
from lobsim.sim.recorder import CHUNK_ROWS, KINDS, MemorySink
from lobsim.sim.requests import new_request

AGENTS = ["a", "b", "c"]
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
#: values an int field may be given, and what the log holds for each
INTS = [(0, 0), (7, 7), (-3, -3), (INT64_MAX, INT64_MAX), (INT64_MIN + 1, INT64_MIN + 1),
        (INT64_MIN, None), (1 << 63, None), (2 ** 80, None), (1.0, None), (None, None),
        ("5", None), (True, None)]


class Batches(MemorySink):
    """Keeps every batch handed over, in order."""

    def __init__(self, batch_rows):
        super().__init__(batch_rows)
        self.batches = []

    def events(self, log):
        self.batches.append(log)
        super().events(log)


def recorded(recorder_class, calls, batch_rows):
    """(rows of the sink's log, the batches' sizes and first seqs) after ``calls``."""
    sink = Batches(batch_rows)
    recorder = recorder_class(AGENTS, sink)
    for method, args in calls:
        getattr(recorder, method)(*args)
    assert len(recorder) == len(calls)
    recorder.flush()
    return sink.event_log.rows(), [(len(b), b.first_seq) for b in sink.batches]


def model(calls):
    """The rows the calls stand for, written out one by one."""
    rows = []
    for seq, (method, args) in enumerate(calls):
        if method == "row":
            time_ns, kind, agent, order_id, side, price, qty, flag = args
            rows.append((seq, time_ns, KINDS[kind], AGENTS[agent], plain(order_id),
                         None if side is None else int(side), plain(price), plain(qty), flag))
        else:
            time_ns, agent, request = args
            new = request.op in ("limit", "market")
            side = request.side if new and request.side in (1, -1) and type(request.side) is not bool else None
            priced = request.op != "cancel"
            rows.append((seq, time_ns, request.op, AGENTS[agent], plain(request.order_id), side,
                         plain(request.price) if priced else None,
                         plain(request.qty) if priced else None, None))
    return rows


def plain(value):
    return dict((repr(given_), held) for given_, held in INTS)[repr(value)]


def random_call(rng):
    value = lambda: rng.choice(INTS)[0]  # noqa: E731
    time_ns = rng.randrange(0, 1 << 62)
    agent = rng.randrange(len(AGENTS))
    if rng.random() < 0.5:
        return "row", (time_ns, rng.randrange(4, len(KINDS)), agent, value(), rng.choice([None, 1, -1]),
                       value(), value(), rng.choice([None, "maker", "taker", "post_only_would_cross"]))
    op = rng.choice(["limit", "market", "cancel", "modify"])
    request = new_request(None, op, value(), "X", rng.choice([1, -1, 0, True, None, 2.0]), value(),
                          value(), None, False)
    return "request", (time_ns, agent, request)


BUILDS = {"compiled": lambda: build.compiled().Recorder, "python": lambda: build.interpreted().Recorder}


@pytest.mark.parametrize("name", BUILDS)
def test_rows_across_chunks_and_batches_are_the_rows_recorded(name):
    rng = random.Random(5)
    calls = [random_call(rng) for _ in range(2 * CHUNK_ROWS + 123)]
    rows, batches = recorded(BUILDS[name](), calls, batch_rows=3_000)
    assert rows == model(calls)
    assert batches == [(3_000, 0), (3_000, 3_000), (len(calls) - 6_000, 6_000)]


@pytest.mark.parametrize("name", BUILDS)
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2 ** 32), n=st.integers(0, 60), batch_rows=st.integers(1, 70))
def test_any_rows_in_any_batches(name, seed, n, batch_rows):
    rng = random.Random(seed)
    calls = [random_call(rng) for _ in range(n)]
    rows, batches = recorded(BUILDS[name](), calls, batch_rows)
    assert rows == model(calls)
    # full batches as the rows come, then the rest (none: an empty batch) at the end
    sizes = [size for size, _ in batches]
    assert sizes == [batch_rows] * (n // batch_rows) + [n % batch_rows]
    assert [first for _, first in batches] == [i * batch_rows for i in range(len(batches))]
