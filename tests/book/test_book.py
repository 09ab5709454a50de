"""Example tests, one or more per matching rule of the order book contract, run on both
implementations (the compiled book and the pure Python one)."""

from __future__ import annotations

import pytest
from support.book_model import IMPLEMENTATIONS, book_class

from lobsim import (
    CancelCause,
    Cancelled,
    Modified,
    Rejected,
    RejectReason,
    Side,
    TimeInForce,
    Traded,
)

BUY, SELL = Side.BUY, Side.SELL
GTC, IOC, FOK = TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK
UNFILLED, SELF = CancelCause.UNFILLED, CancelCause.SELF_TRADE


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def impl(request):
    return request.param


@pytest.fixture
def book(impl):
    b = book_class(impl)()
    yield b
    b.check()


def reject(order_id, owner, reason):
    return [Rejected(order_id, owner, RejectReason(reason))]


# rule 1: crossing, price and time priority, trade at the resting price
def test_buy_crosses_asks_at_or_below_limit_best_price_first_then_oldest(book):
    book.limit(1, "s1", SELL, 102, 2)
    book.limit(2, "s2", SELL, 101, 2)
    book.limit(3, "s3", SELL, 101, 2)
    book.limit(4, "s4", SELL, 103, 2)
    reports = book.limit(5, "b", BUY, 102, 5)
    assert [(r.maker, r.price, r.qty) for r in reports] == [(2, 101, 2), (3, 101, 2), (1, 102, 1)]
    assert all(r.aggressor is BUY and r.taker == 5 for r in reports)
    assert book.snapshot()["asks"] == [{"price": 102, "orders": [[1, 1]]}, {"price": 103, "orders": [[4, 2]]}]


def test_sell_crosses_bids_at_or_above_limit(book):
    book.limit(1, "b1", BUY, 99, 3)
    book.limit(2, "b2", BUY, 100, 3)
    reports = book.limit(3, "s", SELL, 100, 10)
    assert reports == [Traded(100, 3, 2, 3, "b2", "s", SELL, 0)]
    assert book.best_bid() == (99, 3)
    assert book.best_ask() == (100, 7)  # the rest rests at its limit


def test_non_crossing_limit_rests_and_reports_nothing(book):
    assert list(book.limit(1, "a", BUY, 99, 3)) == []
    assert list(book.limit(2, "b", SELL, 100, 3)) == []
    assert book.best_bid() == (99, 3) and book.best_ask() == (100, 3)


def test_market_order_crosses_any_price_and_never_rests(book):
    book.limit(1, "s", SELL, 100, 2)
    book.limit(2, "s", SELL, 10_000, 2)
    reports = book.market(3, "b", BUY, 5)
    assert reports == [Traded(100, 2, 1, 3, "s", "b", BUY, 0), Traded(10_000, 2, 2, 3, "s", "b", BUY, 0),
                       Cancelled(3, "b", 1, UNFILLED)]
    assert book.best_ask() is None and book.best_bid() is None


def test_market_order_on_empty_book_is_cancelled_whole(book):
    assert book.market(1, "b", SELL, 4) == [Cancelled(1, "b", 4, UNFILLED)]


def test_partial_fill_keeps_maker_priority(book):
    book.limit(1, "s1", SELL, 100, 5)
    book.limit(2, "s2", SELL, 100, 5)
    assert book.limit(3, "b", BUY, 100, 2) == [Traded(100, 2, 1, 3, "s1", "b", BUY, 3)]
    assert book.queue(SELL, 100) == [(1, 3), (2, 5)]


# rule 2: self-trade prevention, cancel newest
def test_self_trade_prevention_cancels_incoming_remainder(book):
    book.limit(1, "x", SELL, 100, 2)
    book.limit(2, "me", SELL, 100, 2)
    book.limit(3, "y", SELL, 100, 2)
    reports = book.limit(4, "me", BUY, 101, 5)
    assert reports == [Traded(100, 2, 1, 4, "x", "me", BUY, 0), Cancelled(4, "me", 3, SELF)]
    assert book.queue(SELL, 100) == [(2, 2), (3, 2)]  # own order and everything behind untouched
    assert book.best_bid() is None  # the remainder did not rest


def test_self_trade_prevention_applies_to_market_orders(book):
    book.limit(1, "me", BUY, 100, 2)
    assert book.market(2, "me", SELL, 1) == [Cancelled(2, "me", 1, SELF)]
    assert book.remaining(1) == 2


# rule 3: GTC, IOC, FOK
def test_gtc_rests_remainder_at_back_of_its_level(book):
    book.limit(1, "a", BUY, 100, 1)
    book.limit(2, "s", SELL, 100, 1)
    book.limit(3, "b", BUY, 99, 1)
    book.limit(4, "s", SELL, 99, 3)  # trades 1 with order 3, rests 2 at 99
    assert book.best_ask() == (99, 2) and book.best_bid() is None


def test_ioc_cancels_remainder(book):
    book.limit(1, "s", SELL, 100, 2)
    assert book.limit(2, "b", BUY, 100, 5, IOC) == [Traded(100, 2, 1, 2, "s", "b", BUY, 0), Cancelled(2, "b", 3, UNFILLED)]
    assert book.limit(3, "b", BUY, 100, 5, IOC) == [Cancelled(3, "b", 5, UNFILLED)]
    assert len(book) == 0


def test_fok_fills_completely_or_not_at_all(book):
    book.limit(1, "s", SELL, 100, 2)
    book.limit(2, "s", SELL, 101, 2)
    assert book.limit(3, "b", BUY, 101, 5, FOK) == [Cancelled(3, "b", 5, UNFILLED)]
    assert book.queue(SELL, 100) == [(1, 2)]  # no trade happened
    reports = book.limit(4, "b", BUY, 101, 4, FOK)
    assert [r.qty for r in reports] == [2, 2] and len(book) == 0


def test_fok_counts_only_liquidity_before_first_own_order(book):
    book.limit(1, "s", SELL, 100, 2)
    book.limit(2, "b", SELL, 100, 5)  # the FOK sender's own order
    book.limit(3, "s", SELL, 100, 5)
    assert book.limit(4, "b", BUY, 100, 3, FOK) == [Cancelled(4, "b", 3, UNFILLED)]
    assert book.limit(5, "b", BUY, 100, 2, FOK) == [Traded(100, 2, 1, 5, "s", "b", BUY, 0)]


def test_fok_limit_price_bounds_available_qty(book):
    book.limit(1, "s", SELL, 100, 2)
    book.limit(2, "s", SELL, 102, 9)
    assert book.limit(3, "b", BUY, 101, 3, FOK) == [Cancelled(3, "b", 3, UNFILLED)]


# rule 4: post-only
def test_post_only_rejected_if_it_would_cross_else_rests(book):
    book.limit(1, "s", SELL, 100, 2)
    assert book.limit(2, "b", BUY, 100, 1, post_only=True) == reject(2, "b", "would_cross")
    assert list(book.limit(3, "b", BUY, 99, 1, post_only=True)) == []
    assert book.best_bid() == (99, 1)
    # a would_cross reject does not use up the id
    assert list(book.limit(2, "b", BUY, 98, 1, post_only=True)) == []


def test_post_only_with_ioc_or_fok_is_invalid(book):
    assert book.limit(1, "b", BUY, 99, 1, IOC, post_only=True) == reject(1, "b", "invalid")
    assert book.limit(2, "b", BUY, 99, 1, FOK, post_only=True) == reject(2, "b", "invalid")


# rule 5: cancel
def test_cancel_reports_remaining_qty_and_rejects_unknown(book):
    book.limit(1, "s", SELL, 100, 5)
    book.limit(2, "b", BUY, 100, 2)
    assert book.cancel(1) == [Cancelled(1, "s", 3, CancelCause.REQUEST)]
    assert book.cancel(1) == [Rejected(1, None, RejectReason.UNKNOWN_ID)]
    assert book.cancel(2) == [Rejected(2, None, RejectReason.UNKNOWN_ID)]  # filled: no longer live
    assert book.cancel(99) == [Rejected(99, None, RejectReason.UNKNOWN_ID)]
    assert book.cancel([1]) == [Rejected([1], None, RejectReason.UNKNOWN_ID)]


def test_cancel_from_middle_of_queue_keeps_others_order(book):
    for i in range(1, 5):
        book.limit(i, f"s{i}", SELL, 100, i)
    book.cancel(2)
    book.cancel(4)
    assert book.queue(SELL, 100) == [(1, 1), (3, 3)]
    book.cancel(1)
    book.cancel(3)
    assert book.best_ask() is None and book.level_count() == (0, 0)


# rule 6: modify
def test_modify_unknown_or_malformed(book):
    assert book.modify(1, qty=3) == [Rejected(1, None, RejectReason.UNKNOWN_ID)]
    book.limit(1, "a", BUY, 99, 5)
    for kwargs in ({}, {"qty": 0}, {"qty": -1}, {"qty": 2.0}, {"qty": True}, {"price": 0},
                   {"price": 99.5}, {"qty": 2, "price": "x"}):
        assert book.modify(1, **kwargs) == [Rejected(1, "a", RejectReason.INVALID)], kwargs
    assert book.get(1).qty == 5


def test_modify_same_price_lower_qty_keeps_priority(book):
    book.limit(1, "a", BUY, 99, 5)
    book.limit(2, "b", BUY, 99, 5)
    assert book.modify(1, qty=2) == [Modified(1, "a", BUY, 99, 2, 99, 5)]
    assert book.queue(BUY, 99) == [(1, 2), (2, 5)]


def test_modify_same_price_higher_qty_loses_priority(book):
    book.limit(1, "a", BUY, 99, 5)
    book.limit(2, "b", BUY, 99, 5)
    book.modify(1, qty=6, price=99)
    assert book.queue(BUY, 99) == [(2, 5), (1, 6)]


def test_modify_equal_qty_changes_nothing(book):
    book.limit(1, "a", BUY, 99, 5)
    book.limit(2, "b", BUY, 99, 5)
    assert book.modify(1, qty=5) == [Modified(1, "a", BUY, 99, 5, 99, 5)]
    assert book.queue(BUY, 99) == [(1, 5), (2, 5)]


def test_modify_price_reenters_at_back_and_may_trade(book):
    book.limit(1, "a", BUY, 99, 5)
    book.limit(2, "b", BUY, 98, 5)
    book.limit(3, "s", SELL, 101, 2)
    assert list(book.modify(1, price=98)) == [Modified(1, "a", BUY, 98, 5, 99, 5)]
    assert book.queue(BUY, 98) == [(2, 5), (1, 5)]
    reports = book.modify(2, price=101, qty=3)
    assert reports == [Modified(2, "b", BUY, 101, 3, 98, 5), Traded(101, 2, 3, 2, "s", "b", BUY, 0)]
    assert book.best_bid() == (101, 1)


def test_modify_post_only_that_would_cross_is_rejected_and_unchanged(book):
    book.limit(1, "a", BUY, 99, 5, post_only=True)
    book.limit(2, "b", BUY, 99, 1)
    book.limit(3, "s", SELL, 101, 2)
    assert book.modify(1, price=101) == [Rejected(1, "a", RejectReason.WOULD_CROSS)]
    assert book.queue(BUY, 99) == [(1, 5), (2, 1)]
    book.modify(1, price=100)
    assert book.get(1).post_only and book.best_bid() == (100, 5)


# rule 7: checks and their order
def test_duplicate_id_checked_first_and_covers_finished_orders(book):
    book.limit(1, "a", BUY, 99, 5)
    assert book.limit(1, "z", "nonsense", -1, 0) == reject(1, "z", "duplicate_id")
    book.cancel(1)
    assert book.limit(1, "a", BUY, 99, 5) == reject(1, "a", "duplicate_id")
    book.market(2, "a", SELL, 1)  # cancelled on an empty book, id still used
    assert book.market(2, "a", SELL, 1) == reject(2, "a", "duplicate_id")


@pytest.mark.parametrize("side, price, qty, tif, post_only", [
    ("buy", 100, 1, GTC, False), (1, 100, 1, GTC, False), (None, 100, 1, GTC, False),
    (BUY, 0, 1, GTC, False), (BUY, -5, 1, GTC, False), (BUY, 100.0, 1, GTC, False),
    (BUY, True, 1, GTC, False), (BUY, 100, 0, GTC, False), (BUY, 100, 1.0, GTC, False),
    (BUY, 100, False, GTC, False), (BUY, 100, 1, "gtc", False), (BUY, 100, 1, None, False),
    (BUY, 100, 1, GTC, 1), (BUY, 2**62, 1, GTC, False), (BUY, 100, 2**62, GTC, False),
])
def test_invalid_orders_are_rejected_and_do_not_use_the_id(book, side, price, qty, tif, post_only):
    assert book.limit(7, "a", side, price, qty, tif, post_only) == reject(7, "a", "invalid")
    assert len(book) == 0 and not book.is_used(7)
    assert list(book.limit(7, "a", BUY, 100, 1)) == []


def test_invalid_market_orders(book):
    assert book.market(1, "a", "sell", 1) == reject(1, "a", "invalid")
    assert book.market(1, "a", SELL, 0) == reject(1, "a", "invalid")
    assert book.market([1], "a", SELL, 1) == reject([1], "a", "invalid")


def test_unhashable_id_is_invalid(book):
    assert book.limit({"id": 1}, "a", BUY, 100, 1) == reject({"id": 1}, "a", "invalid")


# queries
def test_depth_queue_position_and_snapshot(book):
    for i, price in enumerate([99, 99, 98, 97, 96], start=1):
        book.limit(i, "b", BUY, price, i)
    book.limit(10, "s", SELL, 101, 4)
    book.limit(11, "s", SELL, 103, 1)
    assert book.depth(2) == ([(99, 3), (98, 3)], [(101, 4), (103, 1)])
    assert book.depth(0) == ([], [])
    assert book.queue_position(2) == (1, 1)
    assert book.queue_position(1) == (0, 0)
    assert book.queue_position(42) is None
    assert book.snapshot()["bids"][0] == {"price": 99, "orders": [[1, 1], [2, 2]]}
    assert book.bid_price == 99 and book.ask_price == 101


def test_check_detects_corruption(impl):
    from lobsim.errors import InvariantError
    book = book_class(impl)()
    book.limit(1, "a", BUY, 99, 5)
    # simulate a bookkeeping bug
    if impl == "pure":
        book._bids[99].qty += 1
    else:
        book._corrupt_level_qty(BUY, 99, 1)
    with pytest.raises(InvariantError, match="level 99 totals"):
        book.check()
