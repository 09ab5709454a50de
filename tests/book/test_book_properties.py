"""The order book against a small, obviously correct model, driven by random operations.

After every step: the reports must be identical, the whole book (every level, every
queue) must be identical, the book's own invariant checker must pass, and every
accepted order's quantity must be conserved: submitted = traded + cancelled + resting.
The same machine runs on both implementations (compiled and pure Python).
"""

from __future__ import annotations

from collections import Counter

from support.book_model import ModelBook, book_class
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from lobsim import Cancelled, Modified, Rejected, Side, TimeInForce, Traded

# Mostly small ints; sometimes ids that equal them (True, 1.0, -1.0: the same id as 1 and
# -1, as in a dict), ids that equal no small int, and an unhashable one.
odd_ids = st.sampled_from([True, False, 1.0, 2.5, -1, -1.0, -2, "7", ("t", 1), 2**61 - 1,
                           -(2**61) + 1, 2**64, [1]])
ids = st.one_of(st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=40),
                st.integers(min_value=0, max_value=40), odd_ids)
owners = st.sampled_from(["a", "b", "c", "a", "b", "c", 7, 7.0])
good_sides = st.sampled_from([Side.BUY, Side.SELL])
sides = st.one_of(good_sides, good_sides, good_sides, st.sampled_from(["buy", 1, None]))
good_prices = st.integers(min_value=95, max_value=105)
bad_numbers = st.sampled_from([0, -3, 2.0, True, None, "100", 1 << 62])
prices = st.one_of(good_prices, good_prices, good_prices, good_prices, bad_numbers)
good_qtys = st.integers(min_value=1, max_value=12)
big_qtys = st.sampled_from([2**32 - 2, 2**32 - 1, 2**32, 2**40])  # past a 32-bit field
qtys = st.one_of(good_qtys, good_qtys, good_qtys, good_qtys, good_qtys, good_qtys, good_qtys,
                 bad_numbers, big_qtys)
tifs = st.one_of(st.sampled_from(list(TimeInForce)), st.just("gtc"))
post_only_flags = st.sampled_from([False, False, False, True, 1])


class BookMatchesModel(RuleBasedStateMachine):
    book_class: type  #: the implementation under test, set by each subclass below

    def __init__(self) -> None:
        super().__init__()
        self.book = self.book_class()
        self.model = ModelBook()
        self.submitted: Counter = Counter()
        self.traded: Counter = Counter()
        self.cancelled: Counter = Counter()

    def _both(self, method: str, *args, **kwargs):
        got = list(getattr(self.book, method)(*args, **kwargs))
        want = getattr(self.model, method)(*args, **kwargs)
        assert got == want, f"{method}{args}{kwargs}: book {got} != model {want}"
        return got

    def _hashable_id(self, order_id) -> bool:
        try:
            hash(order_id)
        except TypeError:
            return False
        return True

    def _account_new(self, order_id, qty, reports) -> None:
        if not any(type(r) is Rejected for r in reports):
            self.submitted[order_id] += qty
        self._account(reports)

    def _account(self, reports) -> None:
        for r in reports:
            if type(r) is Traded:
                self.traded[r.maker] += r.qty
                self.traded[r.taker] += r.qty
            elif type(r) is Cancelled:
                self.cancelled[r.order_id] += r.qty
            elif type(r) is Modified:
                change = r.qty - r.old_qty
                if change > 0:
                    self.submitted[r.order_id] += change
                else:
                    self.cancelled[r.order_id] -= change

    @rule(order_id=ids, owner=owners, side=sides, price=prices, qty=qtys, tif=tifs,
          post_only=post_only_flags)
    def limit(self, order_id, owner, side, price, qty, tif, post_only):
        self._account_new(order_id, qty,
                          self._both("limit", order_id, owner, side, price, qty, tif, post_only))

    @rule(order_id=ids, owner=owners, side=sides, qty=qtys)
    def market(self, order_id, owner, side, qty):
        self._account_new(order_id, qty, self._both("market", order_id, owner, side, qty))

    @rule(order_id=ids)
    def cancel(self, order_id):
        self._account(self._both("cancel", order_id))

    @rule(order_id=ids, qty=st.one_of(st.none(), qtys), price=st.one_of(st.none(), prices))
    def modify(self, order_id, qty, price):
        self._account(self._both("modify", order_id, qty=qty, price=price))

    def _live_ids(self) -> list:
        snapshot = self.book.snapshot()
        return [order_id for key in ("bids", "asks") for level in snapshot[key]
                for order_id, _ in level["orders"]]

    @precondition(lambda self: len(self.book) > 0)
    @rule(data=st.data())
    def cancel_live(self, data):
        self.cancel(data.draw(st.sampled_from(self._live_ids())))

    @precondition(lambda self: len(self.book) > 0)
    @rule(data=st.data(), qty=st.one_of(st.none(), qtys), price=st.one_of(st.none(), prices))
    def modify_live(self, data, qty, price):
        self.modify(data.draw(st.sampled_from(self._live_ids())), qty, price)

    @invariant()
    def same_book_and_invariants_hold(self):
        self.book.check()
        assert self.book.snapshot() == self.model.snapshot()

    @rule(order_id=ids)
    def is_used(self, order_id):
        if self._hashable_id(order_id):
            assert self.book.is_used(order_id) == self.model.is_used(order_id), order_id

    @invariant()
    def quantity_is_conserved(self):
        for order_id, submitted in self.submitted.items():
            resting = self.book.remaining(order_id)
            assert submitted == self.traded[order_id] + self.cancelled[order_id] + resting, order_id

    @invariant()
    def queries_agree_with_snapshot(self):
        snapshot = self.book.snapshot()
        for side, key in ((Side.BUY, "bids"), (Side.SELL, "asks")):
            levels = snapshot[key]
            best = self.book.best_bid() if side is Side.BUY else self.book.best_ask()
            if levels:
                top = levels[0]
                assert best == (top["price"], sum(q for _, q in top["orders"]))
            else:
                assert best is None
            top = self.book.top()
            assert (top[0:2] if side is Side.BUY else top[2:4]) == (best or (None, 0))
            depth = self.book.depth(3)[0 if side is Side.BUY else 1]
            assert depth == [(lv["price"], sum(q for _, q in lv["orders"])) for lv in levels[:3]]
            for level in levels:
                ahead = 0
                for position, (order_id, qty) in enumerate(level["orders"]):
                    assert self.book.queue_position(order_id) == (position, ahead)
                    ahead += qty


SETTINGS = settings(max_examples=150, stateful_step_count=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _test_case(name: str) -> type:
    """A TestCase running the machine on implementation ``name``; the class is looked up
    when a case starts, so a compiled book that fails to import fails its test."""
    machine = type(f"BookMatchesModel_{name}", (BookMatchesModel,), {
        "book_class": property(lambda self: book_class(name))})
    case = machine.TestCase
    case.settings = SETTINGS
    return case


TestCompiledBookMatchesModel = _test_case("compiled")
TestPureBookMatchesModel = _test_case("pure")
