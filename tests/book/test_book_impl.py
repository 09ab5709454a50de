"""The two order book implementations: the compiled one is built and chosen by default,
both give the same outcomes on odd inputs and byte-identical runs, and the compiled one
neither leaks references nor keeps garbage cycles alive."""

from __future__ import annotations

import gc
import os
import random
import subprocess
import sys
import tracemalloc
import weakref
from pathlib import Path

import pytest
from support.book_model import book_class

import lobsim
from lobsim import Cancelled, Modified, Rejected, Side, TimeInForce, Traded
from lobsim.book.orderbook import PyOrderBook

BUY, SELL = Side.BUY, Side.SELL
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def test_compiled_book_is_built_and_is_the_default():
    # Not a skip: the supported install (pip install -e .) builds the extension, and an
    # install without it would silently run the slow book.
    from lobsim.book import _cbook

    if os.environ.get("LOBSIM_PURE_PYTHON", "") not in ("", "0"):
        assert lobsim.OrderBook is PyOrderBook
    else:
        assert lobsim.OrderBook is _cbook.OrderBook and lobsim.book.orderbook.OrderBook is _cbook.OrderBook
        assert lobsim.book.orderbook.IMPLEMENTATION == "compiled"


@pytest.mark.parametrize("value, expected", [("1", "pure PyOrderBook"), ("0", "compiled OrderBook"),
                                             ("", "compiled OrderBook")])
def test_environment_variable_selects_the_pure_book(value, expected):
    env = dict(os.environ, LOBSIM_PURE_PYTHON=value)
    code = "import lobsim; print(lobsim.book.orderbook.IMPLEMENTATION, lobsim.OrderBook.__name__)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == expected.split()


def test_reports_are_the_report_named_tuples():
    book = book_class("compiled")()
    book.limit(1, "a", SELL, 100, 5)
    reports = (book.limit(2, "b", BUY, 100, 2) + book.modify(1, qty=2) + book.cancel(1)
               + book.cancel(1) + book.market(3, "c", BUY, 1))
    assert [type(r) for r in reports] == [Traded, Modified, Cancelled, Rejected, Cancelled]
    assert reports[0].maker == 1 and reports[0].aggressor is BUY and reports[1].side is SELL
    assert hash(reports[0]) == hash(tuple(reports[0]))


def _outcome(method, args):
    try:
        return "ok", method(*args)
    except Exception as exc:  # noqa: BLE001 - comparing which exception each book raises
        return "raised", type(exc)


ODD_STEPS = [
    ("limit", (1, "a", SELL, 101, 5)), ("limit", (True, "a", SELL, 101, 1)),  # True is id 1
    ("limit", (1.0, "a", SELL, 101, 1)), ("limit", (-1, "b", SELL, 102, 2)),
    ("limit", (-1.0, "b", SELL, 102, 2)), ("limit", (2**61 - 1, "c", SELL, 103, 3)),
    ("limit", (0, "c", SELL, 103, 3)), ("limit", (2**64, "d", SELL, 104, 1)),
    ("limit", ("x", 7, SELL, 104, 1)), ("limit", (("t", 1), 7.0, SELL, 104, 1)),
    ("limit", ([1], "a", SELL, 104, 1)), ("limit", (2.5, "a", BUY, 99, 1)),
    ("modify", (1.0, None, 100)),  # re-enters under the id object 1.0
    ("market", ({"k": 1}, "z", BUY, 1)), ("cancel", ([1],)), ("modify", ([1], 1, None)),
    ("limit", (10, 7, BUY, 104, 2, TimeInForce.FOK)),  # meets owner 7.0 == 7: not fillable
    ("limit", (11, "q", BUY, 104, 4, TimeInForce.IOC)), ("limit", (12, "q", BUY, 100, 1, TimeInForce.GTC, 1)),
    ("market", (13, "z", BUY, 100)),
]
ODD_QUERIES = [("get", (1,)), ("get", (True,)), ("get", ([1],)), ("remaining", (1,)), ("remaining", ({},)),
               ("is_used", (1.0,)), ("is_used", ([1],)), ("is_used", (-1.0,)), ("is_used", (3,)),
               ("queue_position", (2.5,)), ("queue_position", ([],)), ("queue", (BUY, 99.0)),
               ("queue", (SELL, 104)), ("queue", ("sell", 104)), ("queue", (BUY, [99])), ("depth", (10**30,)),
               ("depth", (-1,)), ("depth", (True,)), ("top", ()), ("best_bid", ()), ("best_ask", ()),
               ("level_count", ()), ("snapshot", ()), ("__len__", ())]


BIG = 2**32  # the compiled book keeps quantities from 2**32 - 1 lots up in a side table
BIG_STEPS = [
    ("limit", (1, "a", SELL, 100, BIG + 5)), ("limit", (2, "b", SELL, 100, 2**62 - 1)),
    ("limit", (3, "c", BUY, 100, 7)), ("modify", (1, BIG - 1, None)), ("modify", (1, 2**40, None)),
    ("modify", (1, 3, None)), ("modify", (1, BIG, None)), ("limit", (4, "c", BUY, 100, BIG + 1, TimeInForce.FOK)),
    ("limit", (5, "c", BUY, 101, BIG * 3, TimeInForce.IOC)), ("modify", (2, BIG - 2, 101)),
    ("market", (6, "d", BUY, BIG - 1)), ("limit", (7, "e", BUY, 99, 2**62 - 1)),
    ("limit", (8, "f", SELL, 99, BIG - 1)), ("cancel", (7,)), ("limit", (9, "g", SELL, 98, BIG)),
]
BIG_QUERIES = [("remaining", (n,)) for n in range(1, 10)] + [
    ("queue_position", (2,)), ("get", (2,)), ("depth", (3,)), ("top", ()), ("snapshot", ())]


def _agree(steps, queries):
    """Run ``steps`` on both books; after each, every outcome and query must be equal."""
    books = [book_class("compiled")(), PyOrderBook()]
    for method, args in steps:
        got = [_outcome(getattr(b, method), args) for b in books]
        assert got[0] == got[1], (method, args, got)
        for query, query_args in queries:
            queried = [_outcome(getattr(b, query), query_args) for b in books]
            assert queried[0] == queried[1], (method, args, query, query_args, queried)
        for b in books:
            b.check()


def test_both_books_agree_on_odd_ids_owners_and_queries():
    _agree(ODD_STEPS, ODD_QUERIES)


def test_both_books_agree_on_quantities_past_32_bits():
    _agree(BIG_STEPS, BIG_QUERIES)


def _random_request(rng, next_id, live):
    """One request of a seeded stream: mostly limits near the touch, cancels and modifies
    of live orders, some market orders, now and then a bad one."""
    u = rng.random()
    if u < 0.2 and live:
        return "cancel", (rng.choice(live),), {}
    if u < 0.3 and live:
        return "modify", (rng.choice(live),), {"qty": rng.choice([None, rng.randint(1, 30)]),
                                               "price": rng.choice([None, None, rng.randint(90, 110)])}
    side, owner = rng.choice([BUY, SELL]), rng.choice("abcdef")
    qty = rng.choice([rng.randint(1, 30), rng.randint(1, 30), 2**32 + rng.randint(0, 3)])
    if u < 0.37:
        return "market", (next_id, owner, side, qty), {}
    price = 100 + (-1 if side is BUY else 1) * rng.randint(-3, 8)
    tif = rng.choice([TimeInForce.GTC] * 6 + [TimeInForce.IOC, TimeInForce.FOK])
    post_only = tif is TimeInForce.GTC and rng.random() < 0.1
    order_id = next_id if rng.random() < 0.98 else rng.choice([next_id - 1, (next_id, "t"), float(next_id)])
    return "limit", (order_id, owner, side, price, qty, tif, post_only), {}


def test_a_long_random_stream_gives_the_same_reports_on_both_books():
    # thousands of fills, cancels and re-entries: the compiled book's free lists and
    # index rebuilds (see _cbook.pxd) run many times over
    rng = random.Random(11)
    books = [book_class("compiled")(), PyOrderBook()]
    live: list = []
    for step in range(30_000):
        method, args, kwargs = _random_request(rng, step, live)
        got = [getattr(b, method)(*args, **kwargs) for b in books]
        assert got[0] == got[1], (step, method, args, kwargs)
        if method == "limit" and books[1].remaining(args[0]):
            live.append(args[0])
        if step % 1000 == 999:
            live = [i for i in live if books[1].remaining(i)]
            assert books[0].snapshot() == books[1].snapshot()
            for b in books:
                b.check()


class Owner:
    """An owner that holds the book it trades on: a reference cycle through the book."""

    def __init__(self, book):
        self.book = book


@pytest.mark.parametrize("impl", ["compiled", "pure"])
def test_modify_reenters_under_the_id_object_it_names(impl):
    book = book_class(impl)()
    book.limit(1, "a", SELL, 101, 5)
    assert book.modify(1.0, price=102) == [Modified(1.0, "a", SELL, 102, 5, 101, 5)]
    assert type(book.snapshot()["asks"][0]["orders"][0][0]) is float and book.is_used(True)


def _churn(book, ids, owner, other, start):
    """Orders that all end cancelled or filled, through every request path."""
    for i, order_id in enumerate(ids):
        book.limit(order_id, owner, SELL, 100 + i % 7, 3)
        book.modify(order_id, qty=2)
        book.modify(order_id, price=101 + i % 7)
        book.limit(start + 3 * i, other, BUY, 99 - i % 5, 2)
        book.limit(start + 3 * i + 1, other, BUY, 200, 1, TimeInForce.IOC)
        book.market(start + 3 * i + 2, other, SELL, 1)
        book.cancel(order_id)
        book.cancel(start + 3 * i)


def test_compiled_book_releases_ids_and_owners():
    book = book_class("compiled")()
    owner, other = "owner-" + str(id(book)), Owner(None)
    odd_ids = [("tuple", 1), "text", 2.5, 10**30, -7]
    before = [sys.getrefcount(x) for x in (owner, other, *odd_ids)]
    _churn(book, odd_ids, owner, other, 10**6)
    book.check()
    assert len(book) == 0 and all(book.is_used(x) for x in odd_ids)
    del book  # ids that are not small ints stay referenced as used ids while the book lives
    assert [sys.getrefcount(x) for x in (owner, other, *odd_ids)] == before


def test_compiled_book_memory_does_not_grow_with_finished_orders():
    book = book_class("compiled")()
    owner, other = "a", "b"
    _churn(book, range(20_000), owner, other, 10**6)  # warm the free lists and tables
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    _churn(book, range(20_000, 40_000), owner, other, 2 * 10**6)
    grown = tracemalloc.get_traced_memory()[0] - start
    tracemalloc.stop()
    assert len(book) == 0 and grown < 10_000, grown  # no Python object kept per order


def test_compiled_book_in_a_reference_cycle_is_collected():
    book = book_class("compiled")()
    owner = Owner(book)
    book.limit(1, owner, SELL, 100, 5)
    book.limit((2, "id"), owner, BUY, 99, 5)
    owner_ref = weakref.ref(owner)
    del book, owner
    gc.collect()
    assert owner_ref() is None


def _run(scenario: Path, out: Path, pure: bool) -> None:
    env = dict(os.environ, LOBSIM_PURE_PYTHON="1" if pure else "0")
    subprocess.run([sys.executable, "-m", "lobsim", "run", str(scenario), "--out", str(out), "--no-progress"],
                   env=env, check=True, capture_output=True)


@pytest.mark.parametrize("name", ["santa_fe", "latency_race"])
def test_both_books_give_byte_identical_runs(tmp_path, name):
    text = (SCENARIOS / f"{name}.toml").read_text()
    head, sep, tail = text.partition("duration = ")
    scenario = tmp_path / f"{name}.toml"
    scenario.write_text(head + sep + "30.0" + tail[tail.index("\n"):])
    _run(scenario, tmp_path / "compiled", pure=False)
    _run(scenario, tmp_path / "pure", pure=True)
    for output in ("events.parquet", "book.parquet", "agents.parquet"):
        compiled, pure = ((tmp_path / impl / output).read_bytes() for impl in ("compiled", "pure"))
        assert compiled == pure, output


@pytest.mark.parametrize("flag", [(), ("--pure",)])
def test_book_benchmark_says_which_book_it_measured(capsys, flag):
    from lobsim.cli import main

    default = f"{lobsim.book.orderbook.IMPLEMENTATION} ({lobsim.OrderBook.__module__}.{lobsim.OrderBook.__qualname__})"
    named = "order book: " + ("pure Python (lobsim.book.orderbook.PyOrderBook)" if flag else default)
    assert main(["bench", "book", "--messages", "2000", "--sizes", "50", "100", "--repeat", "1", *flag]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == named and len(lines) == 7 and lines[-2].startswith("per-message cost")
    assert lines[1].startswith("round 1/1: best ns/msg so far ")
    assert lines[-1].startswith("memory during the run, one random read (median of 1 rounds;")


def test_book_benchmark_flatness_counts_the_dearest_size_not_only_the_last(monkeypatch):
    import argparse

    from lobsim.bench import book as bench

    seconds = {100: 1.0, 1000: 1.5, 10_000: 1.2}  # a slow middle size
    kinds = dict.fromkeys(bench.KINDS, 1)
    monkeypatch.setattr(bench, "_generate", lambda target, n, seed, cls: bench._Stream(target, [], [], kinds))
    monkeypatch.setattr(bench, "_time_once", lambda stream, cls: (seconds[stream.target], cls()))
    monkeypatch.setattr(bench.memory, "read_ns", lambda blocks, reads: [20.0, 100.0])
    args = argparse.Namespace(pure=False, sizes=list(seconds), repeat=1, messages=10, seed=0, by_kind=False)
    last = list(bench.run(args))[-2]
    assert last == "per-message cost, largest / smallest book: 1.20x; dearest / cheapest size: 1.50x"
    assert bench._ratio(2, 3) == "0.66x"  # truncated, never rounded up


def test_book_benchmark_times_one_stream_per_size_with_the_sizes_taking_turns(monkeypatch):
    import argparse

    from lobsim.bench import book as bench

    generated, timed = [], []
    kinds = dict.fromkeys(bench.KINDS, 1)

    def generate(target, n, seed, cls):
        generated.append(target)
        return bench._Stream(target, [], [], kinds)

    passes_of_100 = iter([3.0, 2.0, 4.0])  # seconds; the best is the second

    def time_once(stream, cls):
        timed.append(stream.target)
        return (next(passes_of_100) if stream.target == 100 else 1.0), cls()

    probes = iter([[10.0, 100.0], [30.0, 300.0], [20.0, 250.0]])  # ns in 2 and 8 MiB, a round each
    probed = []

    def read_ns(blocks, reads):
        probed.append((list(timed), blocks))
        return next(probes)

    monkeypatch.setattr(bench, "_generate", generate)
    monkeypatch.setattr(bench, "_time_once", time_once)
    monkeypatch.setattr(bench.memory, "read_ns", read_ns)
    reported = []
    args = argparse.Namespace(pure=False, sizes=[100, 200], repeat=3, messages=10, seed=0, by_kind=False,
                              progress=lambda done, total, label: reported.append((done, total, label)))
    lines = list(bench.run(args))
    assert generated == [100, 200] and timed == [100, 200] * 3
    assert reported == ([(i, 2, "generating the streams") for i in range(2)]
                        + [(i, 6, "timed passes") for i in range(6)])
    assert lines[-2].startswith("per-message cost, largest / smallest book: 0.50x")  # best pass of 100: 2 s
    # memory is probed after each round of passes, and the medians are printed
    assert probed == [([100, 200] * r, [2 << 20, 8 << 20]) for r in (1, 2, 3)]
    assert lines[-1].endswith("more sizes): 20.0 ns in 2 MiB, 250.0 ns in 8 MiB")


@pytest.mark.parametrize("options", [("book", "--repeat", "0"), ("book", "--messages", "0"),
                                     ("book", "--sizes", "10", "0"), ("market", "--repeat", "0"),
                                     ("memory", "--reads", "0"), ("memory", "--repeat", "0"),
                                     ("memory", "--sizes", "1", "0"), ("memory", "--sizes", "inf"),
                                     ("memory", "--sizes", "nan"), ("memory", "--sizes", "2048")])
def test_benchmarks_refuse_counts_below_one_in_one_line(capsys, options):
    from lobsim.cli import main

    assert main(["bench", *options]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "must be >= 1" in captured.err


def test_book_benchmark_by_kind_times_every_kind_of_message(capsys):
    from lobsim.cli import main

    assert main(["bench", "book", "--messages", "3000", "--sizes", "200", "--repeat", "1", "--by-kind"]) == 0
    lines = capsys.readouterr().out.splitlines()
    by_kind = lines[4].split("ns per call:")[1]
    figures = dict(part.split() for part in by_kind.split(","))
    assert set(figures) == {"passive", "cancel", "marketable"}
    assert all(int(ns) > 0 for ns in figures.values())  # timer overhead subtracted, work left


# The compiled book cancels by tombstone: the order leaves the order table, its entry in
# the level's queue is marked dead and stays until matching passes it or the level
# compacts its queue (when its dead entries outnumber its live orders by 8). These runs
# put tombstones where every rule has to see past them, and compare each step and query
# with the pure book, which unlinks.

def _level_queries(ids, price=100, side=SELL):
    return ([("queue_position", (i,)) for i in ids] + [("remaining", (i,)) for i in ids]
            + [("queue", (side, price)), ("depth", (3,)), ("level_count", ()), ("snapshot", ()), ("__len__", ())])


def test_cancels_in_the_middle_of_a_level_leave_queries_and_matching_right():
    steps = [("limit", (i, f"m{i % 3}", SELL, 100, i)) for i in range(1, 13)]
    steps += [("cancel", (i,)) for i in (4, 5, 7, 2)]  # tombstones between live orders
    steps += [("limit", (13, "t", BUY, 100, 1 + 3 + 6)),  # fills 1 and 3, passing dead 2, then part of 6
              ("modify", (8, 20, None)), ("modify", (9, 1, None)),  # 8 to the back, 9 keeps its place
              ("cancel", (6,)), ("limit", (14, "m0", SELL, 100, 2)),
              ("limit", (15, "t", BUY, 100, 100, TimeInForce.IOC)),  # sweeps the level through its dead
              ("limit", (16, "m1", SELL, 100, 3)), ("cancel", (16,)),  # the level empties by a cancel
              ("limit", (17, "m1", SELL, 100, 4))]  # and opens again
    _agree(steps, _level_queries(range(1, 18)))


def test_a_level_compacts_its_queue_and_keeps_time_priority():
    # 60 orders at one price; cancelling most of them compacts the queue several times
    rng = random.Random(5)
    steps = [("limit", (i, "m", SELL, 100, rng.randint(1, 9))) for i in range(1, 61)]
    doomed = [i for i in range(1, 61) if i % 5]
    rng.shuffle(doomed)
    for n, i in enumerate(doomed):
        steps.append(("cancel", (i,)))
        if n % 7 == 0:  # growth to the back and in-place shrinks between the compactions
            keep = 5 * (n % 12 + 1)
            steps.append(("modify", (keep, rng.choice([1, 30]), None)))
    steps += [("limit", (100 + i, "m", SELL, 100, 2)) for i in range(20)]
    steps += [("limit", (200, "t", BUY, 100, 40)), ("limit", (201, "m", BUY, 100, 500, TimeInForce.FOK)),
              ("limit", (202, "t", BUY, 100, 500, TimeInForce.FOK))]
    _agree(steps, _level_queries([5 * k for k in range(1, 13)] + [100, 110, 119]))


def test_the_order_table_rehashes_with_tombstones_queued():
    # from 64 slots to 8192 with dead entries in the queues of many levels; ids that are
    # not sequential (sparse, negative, not ints) take long probe runs
    rng = random.Random(8)
    books = [book_class("compiled")(), PyOrderBook()]
    ids = list(range(1, 2500)) + [k << 40 for k in range(1, 300)] + [-(k << 20) for k in range(1, 300)] \
        + [(k, "id") for k in range(300)]
    rng.shuffle(ids)
    live = []
    for n, order_id in enumerate(ids):
        side = rng.choice([BUY, SELL])
        price = 100 - rng.randint(1, 20) if side is BUY else 100 + rng.randint(1, 20)
        qty = rng.randint(1, 5)
        got = [b.limit(order_id, "o" + str(n % 4), side, price, qty) for b in books]
        assert got[0] == got[1]
        live.append(order_id)
        if rng.random() < 0.4:
            victim = live.pop(rng.randrange(len(live)))
            assert books[0].cancel(victim) == books[1].cancel(victim)
        if n % 500 == 0:
            for b in books:
                b.check()
            assert books[0].snapshot() == books[1].snapshot()
    for b in books:
        b.check()
    assert books[0].snapshot() == books[1].snapshot()
    assert [books[0].queue_position(i) for i in live] == [books[1].queue_position(i) for i in live]
    gone = ids[:50]
    assert [books[0].remaining(i) for i in gone] == [books[1].remaining(i) for i in gone]
    for side in (BUY, SELL):  # match through everything, dead entries included
        got = [b.market(10**9 + (side is BUY), "sweeper", side, 10**6) for b in books]
        assert got[0] == got[1]
    for b in books:
        b.check()
    assert len(books[0]) == len(books[1]) == 0


class _CallsBack:
    """An owner whose ``__eq__`` tries to cancel an order of the book that compares it."""

    def __init__(self, book, victim):
        self.book, self.victim, self.raised = book, victim, []

    def __eq__(self, other):
        try:
            self.book.cancel(self.victim)
        except RuntimeError as exc:
            self.raised.append(exc)
            raise
        return self is other

    __hash__ = object.__hash__


def test_compiled_book_refuses_a_call_back_from_inside_its_own_operation():
    book = lobsim.OrderBook()
    book.limit(1, "a", SELL, 100, 5)
    owner = _CallsBack(book, 1)
    book.limit(2, owner, SELL, 101, 5)
    # the incoming buy meets resting orders whose owners it compares with its own
    with pytest.raises(RuntimeError, match="cannot be called"):
        book.limit(3, owner, BUY, 101, 8)
    assert len(owner.raised) == 1
    book.check()  # the refused call changed nothing, and the raising operation left it valid
    assert book.get(1) is not None and book.get(2) is not None and book.get(3) is None
    # outside an operation the book takes calls as usual
    (report,) = book.cancel(1)
    assert type(report) is Cancelled and report.qty == 5
    book.check()
    assert book.limit(4, "b", BUY, 90, 1) == []
    book.check()


def test_book_benchmark_yields_each_line_as_soon_as_it_is_known(monkeypatch):
    import argparse

    from lobsim.bench import book as bench

    timed = []
    kinds = dict.fromkeys(bench.KINDS, 1)
    monkeypatch.setattr(bench, "_generate", lambda target, n, seed, cls: bench._Stream(target, [], [], kinds))
    monkeypatch.setattr(bench, "_time_once", lambda stream, cls: (timed.append(1) or 1.0, cls()))
    monkeypatch.setattr(bench.memory, "read_ns", lambda blocks, reads: [20.0, 100.0])
    args = argparse.Namespace(pure=False, sizes=[100, 200], repeat=2, messages=10, seed=0, by_kind=False)
    lines = bench.run(args)
    assert next(lines).startswith("order book: ") and timed == []  # before any timing
    assert next(lines).startswith("round 1/2: best ns/msg so far ") and len(timed) == 2
    assert next(lines).startswith("round 2/2: ") and len(timed) == 4
