"""Own-order bookkeeping: LiveOrders from reports, QuotePair's modify-on-requote, quote_ticks."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from support.agent_harness import FakeSession

from agents.tracking import LiveOrders, QuotePair, TopOfBook, quote_ticks
from lobsim.sim.messages import (CancelRejected, OrderAccepted, OrderCancelled, OrderFilled,
                             OrderModified, OrderRejected, Quote)
from lobsim.book.orders import Side

BUY, SELL = Side.BUY, Side.SELL


def filled(order_id, side, qty, left, price=100):
    return OrderFilled(order_id, "XYZ", side, price, qty, left, True, 0, 0)


def test_add_get_remove_swap_keeps_index_consistent():
    live = LiveOrders()
    for i in range(1, 6):
        live.add(i, BUY, 100 + i, 1)
    assert live.remove(2).order_id == 2
    assert live.remove(2) is None
    assert sorted(o.order_id for o in live) == [1, 3, 4, 5]
    for i in (1, 3, 4, 5):
        assert live.get(i).price == 100 + i and i in live
    live.remove(5)  # the last one: no swap
    live.remove(1)
    assert sorted(o.order_id for o in live) == [3, 4] and len(live) == 2


def test_reports_update_remaining_qty_and_end_orders():
    live = LiveOrders()
    live.add(1, BUY, 100, 5)
    live.add(2, SELL, 101, 5)
    live.add(3, SELL, 102, 5)
    live.apply(OrderAccepted(1, "XYZ", BUY, 100, 5, 0, 0))
    assert live.get(1).accepted and not live.get(2).accepted  # 2 is still in flight
    live.apply(filled(1, BUY, 2, 3))
    assert live.get(1).qty == 3 and live.position == 2
    live.apply(filled(1, BUY, 3, 0))
    assert 1 not in live and live.position == 5
    live.apply(OrderRejected(2, "XYZ", "would_cross", 0, 0))
    assert 2 not in live
    live.apply(OrderModified(3, "XYZ", 103, 4, 0, 0))
    assert (live.get(3).price, live.get(3).qty) == (103, 4)
    live.apply(OrderCancelled(3, "XYZ", 4, "request", 0, 0))
    assert len(live) == 0


def test_untracked_fills_count_in_position_and_unknown_reports_are_ignored():
    live = LiveOrders()
    assert live.apply(filled(9, SELL, 4, 0)) is None  # e.g. a market order, never tracked
    assert live.position == -4
    assert live.apply(CancelRejected(9, "XYZ", "cancel", "unknown_id", 0, 0)) is None
    assert live.apply(OrderCancelled(9, "XYZ", 1, "unfilled", 0, 0)) is None


def test_choice_is_uniform_over_live_orders():
    live = LiveOrders()
    for i in range(10):
        live.add(i, BUY, 100, 1)
    live.remove(3)
    rng = np.random.default_rng(1)
    counts = Counter(live.choice(rng).order_id for _ in range(9000))
    assert set(counts) == set(range(10)) - {3}
    assert all(abs(c - 1000) < 5 * 30 for c in counts.values())  # sd ~ 30
    with pytest.raises(IndexError):
        LiveOrders().choice(rng)


def test_quote_pair_posts_then_modifies_and_never_repeats_itself():
    session = FakeSession()
    live = LiveOrders()
    quotes = QuotePair(session, live)
    quotes.update(99, 101, 2)
    assert [(s.op, s.side, s.price, s.qty, s.post_only) for s in session.sent] == [
        ("limit", BUY, 99, 2, True), ("limit", SELL, 101, 2, True)]
    quotes.update(99, 101, 2)
    assert len(session.sent) == 2
    quotes.update(98, 100, 2)  # both down: the bid moves first, away from the ask
    assert [(s.op, s.order_id, s.price, s.qty) for s in session.sent[2:]] == [
        ("modify", 1, 98, 2), ("modify", 2, 100, 2)]
    quotes.update(98, 100, 2)  # modifies in flight: nothing more
    assert len(session.sent) == 4
    quotes.update(100, 102, 2)  # both up: the ask moves first
    assert [(s.op, s.order_id) for s in session.sent[4:]] == [("modify", 2), ("modify", 1)]


def test_quote_pair_refused_modify_leaves_the_confirmed_price():
    session = FakeSession()
    live = LiveOrders()
    quotes = QuotePair(session, live)
    quotes.update(99, None, 1)
    live.apply(OrderAccepted(1, "XYZ", BUY, 99, 1, 0, 0))
    quotes.update(100, None, 1)
    live.apply(CancelRejected(1, "XYZ", "modify", "would_cross", 0, 0))
    assert live.get(1).target_price == 99
    quotes.update(100, None, 1)  # tries again
    assert [s.op for s in session.sent] == ["limit", "modify", "modify"]


def test_quote_pair_cancels_a_side_and_reposts_after_fill():
    session = FakeSession()
    live = LiveOrders()
    quotes = QuotePair(session, live)
    quotes.update(99, 101, 1)
    quotes.update(None, 101, 1)
    assert (session.sent[-1].op, session.sent[-1].order_id) == ("cancel", 1)
    assert quotes.order(BUY) is None and 1 not in live
    live.apply(filled(2, SELL, 1, 0))
    assert quotes.order(SELL) is None
    quotes.update(None, 102, 1)
    assert (session.sent[-1].op, session.sent[-1].side, session.sent[-1].price) == (
        "limit", SELL, 102)


@pytest.mark.parametrize("mid, bid, ask, best_bid, best_ask, expected", [
    (100.0, 98.0, 102.0, 99, 101, (98, 102)),  # already fine
    (100.0, 99.6, 100.4, 99, 101, (99, 101)),  # rounded outward, at least a tick off the mid
    (100.5, 100.2, 100.8, 100, 101, (100, 101)),  # odd spread: half a tick off the mid
    (100.0, 97.2, 99.0, 99, 101, (97, 101)),  # a skewed ask may not reach the mid
    (100.0, 98.0, 102.0, None, 99, (98, 102)),  # stale mid: the bid stays off the ask
    (100.0, 98.9999999999, 101.0000000001, None, None, (99, 101)),  # float noise
    (1.0, -3.0, 5.0, None, None, (None, 5)),  # no positive bid
])
def test_quote_ticks(mid, bid, ask, best_bid, best_ask, expected):
    got = quote_ticks(mid, bid, ask, best_bid, best_ask)
    assert got == expected
    if best_ask is not None and got[0] is not None:
        assert got[0] < best_ask
    if best_bid is not None:
        assert got[1] > best_bid


def test_quote_ticks_stale_mid_never_crosses():
    assert quote_ticks(100.0, 98.0, 102.0, None, 97) == (96, 102)
    assert quote_ticks(100.0, 98.0, 102.0, 104, None) == (98, 105)


def test_top_of_book_keeps_last_known_sides_and_two_sided_mid():
    top = TopOfBook("XYZ", 10_000)
    assert top.mid == 10_000 and top.bid is None
    assert top.update(Quote("XYZ", 9_990, 1, 10_010, 1, 0, 0))
    assert top.mid == 10_000.0
    top.update(Quote("XYZ", None, 0, 10_020, 1, 0, 0))
    assert (top.bid, top.last_bid, top.ask, top.mid) == (None, 9_990, 10_020, 10_000.0)
    assert not top.update(Quote("ABC", 1, 1, 2, 1, 0, 0))
    assert top.ask == 10_020
