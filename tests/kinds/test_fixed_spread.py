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


def moved_to_10_005(session):
    """Accepted quotes at 9_999 / 10_001, then the market moves to 10_004 / 10_006: the
    maker re-anchors on 10_005 and sends both modifies, which stay in flight."""
    bid, ask = ids(session)
    session.accept(bid)
    session.accept(ask)
    session.quote(10_004, 10_006)
    assert new(session, 2) == [("modify", ask, 10_006, 1), ("modify", bid, 10_004, 1)]
    return bid, ask


def test_an_own_quote_at_the_touch_is_seen_while_its_modify_is_in_flight():
    """The quote shows the bid where the exchange has it (9_999), not where its modify
    will take it (10_004): the mid 10_004 is the maker's own making, and chasing it was
    the runaway of docs/engine-edges.md (it compared the touch with the in-flight price)."""
    session, agent = start(half_spread=1)
    moved_to_10_005(session)
    session.quote(9_999, 10_009)  # the others' bids left: the best bid is our own
    assert agent.anchor == 10_005.0 and len(session.sent) == 4


def test_a_one_sided_quote_keeps_whose_mid_it_was():
    """Our ask made the last two-sided mid; when it is lifted and the asks are gone, the
    mid that stays (10_002) is still our own: no re-anchor on it."""
    session, agent = start(half_spread=1)
    bid, ask = ids(session)
    session.accept(bid)
    session.accept(ask)
    session.quote(10_003, 10_005)  # others: re-anchor on 10_004
    session.modified(ask, 10_005, 1)
    session.modified(bid, 10_003, 1)
    session.quote(9_999, 10_005)  # the others' bids left; our ask is the best ask
    assert agent.anchor == 10_004.0
    session.quote(9_999, None)  # our ask lifted, no asks left: the mid stays 10_002
    assert agent.anchor == 10_004.0
    session.quote(10_010, 10_012)  # the others again: follow them
    assert agent.anchor == 10_011.0


def test_an_own_price_still_in_flight_is_not_at_the_touch():
    """A new quote not yet accepted is not in the book: a touch at its price is others'."""
    session, agent = start(half_spread=1)
    session.quote(9_997, 9_999)  # mid 9_998: re-anchor (our quotes are still in flight)
    assert agent.anchor == 9_998.0
