"""FixedSpreadMaker on a fake session: quote prices, modify-on-requote, skew, inventory cap."""

from __future__ import annotations

from support.agent_harness import FakeSession

from agents.fixed_spread import FixedSpreadMaker, FixedSpreadParams
from lobsim.book.orders import Side

BUY, SELL = Side.BUY, Side.SELL


def start(**params):
    session = FakeSession(initial_price=10_000)
    agent = FixedSpreadMaker("mm", FixedSpreadParams(**params), session)
    session.start(agent)
    return session, agent


def ids(session):
    """(bid id, ask id) of the first two limits."""
    bid, ask = session.ops("limit")[:2]
    assert (bid.side, ask.side) == (BUY, SELL)
    return bid.order_id, ask.order_id


def new(session, since):
    return [(s.op, s.order_id if s.op != "limit" else s.side, s.price, s.qty)
            for s in session.sent[since:]]


def test_quotes_half_spread_around_initial_price_post_only():
    session, _ = start(half_spread=3, quote_size=4)
    assert [(s.op, s.side, s.price, s.qty, s.post_only) for s in session.sent] == [
        ("limit", BUY, 9_997, 4, True), ("limit", SELL, 10_003, 4, True)]


def test_requotes_with_modify_only_when_the_mid_moved_enough():
    session, _ = start(half_spread=2, requote_ticks=3)
    bid, ask = ids(session)
    session.accept(bid)
    session.accept(ask)
    session.quote(9_998, 10_002)
    session.quote(10_000, 10_002)  # mid 10_001: moved 1 < 3
    session.quote(10_001, 10_002)  # mid 10_001.5
    assert len(session.sent) == 2
    session.quote(10_002, 10_004)  # mid 10_003: moved 3 -> re-quote around it, ask first
    assert new(session, 2) == [("modify", ask, 10_005, 1), ("modify", bid, 10_001, 1)]
    session.quote(10_002, 10_004)
    assert len(session.sent) == 4  # nothing new while the modifies are in flight
    session.modified(ask, 10_005, 1)
    session.modified(bid, 10_001, 1)
    session.quote(10_001, 10_005)
    assert len(session.sent) == 4


def test_a_filled_quote_is_replaced_and_the_skew_moves_both_sides():
    session, agent = start(half_spread=2, skew_per_lot=1.0)
    bid, ask = ids(session)
    session.accept(bid)
    session.accept(ask)
    session.fill(bid, 1, 0)  # long 1: centre 9_999
    assert agent.inventory == 1
    assert new(session, 2) == [("limit", BUY, 9_997, 1), ("modify", ask, 10_001, 1)]
    session.fill(ask, 1, 0, price=10_001)  # flat again, but the ask was still at its old price
    assert agent.inventory == 0
    # the bid moves up, so the ask goes first (away from it)
    assert new(session, 4) == [("limit", SELL, 10_002, 1),
                               ("modify", session.sent[2].order_id, 9_998, 1)]


def test_skew_never_pushes_a_quote_to_or_through_the_mid():
    session, agent = start(half_spread=1, skew_per_lot=5.0)
    bid, ask = ids(session)
    session.fill(bid, 1, 0)  # centre 9_995: bid 9_994, ask would be 9_996 but stays at 10_001
    assert new(session, 2) == [("limit", BUY, 9_994, 1)]
    assert agent.quotes.order(SELL).order_id == ask


def test_inventory_cap_stops_and_cancels_a_side():
    session, agent = start(quote_size=2, max_inventory=2)
    bid, ask = ids(session)
    session.accept(bid)
    session.fill(bid, 1, 1)  # long 1: another full bid fill would make 3 > 2
    assert agent.inventory == 1
    assert new(session, 2) == [("cancel", bid, None, None)]
    session.cancelled(bid, 1)
    session.quote(9_999, 10_001)
    assert all(s.side is not BUY for s in session.ops("limit", 3))
    session.accept(ask)
    session.fill(ask, 2, 0)  # short 1: the bid comes back, the ask may not (-3 < -2)
    assert agent.inventory == -1
    assert [(s.op, s.side) for s in session.sent[3:]] == [("limit", BUY)]


def test_tolerates_a_modify_refused_because_the_quote_filled_meanwhile():
    session, agent = start(half_spread=2)
    bid, ask = ids(session)
    session.accept(bid)
    session.accept(ask)
    session.quote(10_002, 10_006)  # mid 10_004: modify both
    assert [s.op for s in session.sent[2:]] == ["modify", "modify"]
    session.fill(bid, 1, 0)  # the old bid traded before the modify arrived
    session.cancel_rejected(bid, "modify", "unknown_id")
    replacement = session.sent[-1]
    assert (replacement.op, replacement.side, replacement.price) == ("limit", BUY, 10_002)
    assert agent.quotes.order(BUY).order_id == replacement.order_id
    assert agent.inventory == 1


def test_a_refused_post_only_quote_is_posted_again_on_the_next_quote():
    session, _ = start(half_spread=1)
    bid, _ = ids(session)
    session.rejected(bid, "would_cross")
    assert len(session.sent) == 2  # no instant retry
    session.quote(None, 10_001)
    assert (session.sent[-1].op, session.sent[-1].side, session.sent[-1].price) == (
        "limit", BUY, 9_999)


def test_one_sided_book_keeps_the_last_mid_and_never_crosses():
    session, _ = start(half_spread=2)
    bid, ask = ids(session)
    session.quote(None, 9_997)  # bids gone and the asks fell under our old mid
    # the mid stays 10_000, but the bid must stay under the best ask
    assert new(session, 2) == [("modify", bid, 9_996, 1)]
