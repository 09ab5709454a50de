"""Replaying files that look like real ones: a book that predates the file, levels that
scroll in from beyond the file's depth, stale levels that look crossed, hidden executions,
cross trades, halts and an attribution column; the re-sync and the one-step score."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lobsim import Side
from lobsim.data import lobster
from lobsim.cli import main
from lobsim.errors import InputError
from lobsim.data.lobster_score import replay
from lobsim.data.lobster_sync import LobsterBook
from support.lobster_files import MESSAGES, ORDERBOOK, STALE_BETTER

def write(path: Path, *rows: str) -> Path:
    path.write_text("".join(row + "\n" for row in rows))
    return path


def test_a_real_looking_file_is_seeded_resynced_and_scored(tmp_path, capsys):
    m, b = write(tmp_path / "m.csv", *MESSAGES), write(tmp_path / "b.csv", *ORDERBOOK)
    assert main(["replay", "--lobster", str(m), "--orderbook", str(b), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == 7 and report["resyncs"] == 2  # after the two scroll-ins
    assert report["levels"] == {"1": {"match_rate": 1.0, "rows_compared": 6},
                                # rows 2 and 4: level 2 came from beyond the file's depth
                                "2": {"match_rate": 1.0, "rows_compared": 4}}
    odd = report["oddities"]
    assert (odd["extra_columns"], odd["hidden_execution"], odd["cross_trade"], odd["halt"]) == (7, 1, 1, 1)
    assert (odd["prior_order"], odd["prior_lots_unseen"], odd["stale_crossed"]) == (1, 0, 0)
    result = replay(lobster.read_messages(m), None, lobster.read_orderbook(b))
    assert result.book.depth(5) == ([(9999, 5), (9998, 4)], [(10002, 7), (10003, 2)])
    assert result.all_rows_rates() == [1.0, 4 / 6]  # the two scroll-ins counted as misses
    # seeded liquidity rests ahead of what the file placed; a scroll-in rests as its own
    assert result.book.queue(Side.SELL, 10002) == [(("prior", 3), 6), (2, 1)]
    assert result.book.queue(Side.BUY, 9998) == [(("prior", 5), 4)]


def test_a_wrong_prediction_at_a_known_level_is_scored_as_a_miss(tmp_path):
    rows = list(ORDERBOOK)
    rows[6] = "1000200,8,999900,5,1000300,2,999800,4"  # 8 where the message leaves 7
    result = replay(lobster.read_messages(write(tmp_path / "m.csv", *MESSAGES)), None,
                    lobster.read_orderbook(write(tmp_path / "b.csv", *rows)))
    assert result.match_rates() == [5 / 6, 1.0] and result.resyncs == 3
    assert result.mismatches == ["row 7 level 1: expected bid (9999, 5) ask (10002, 8), "
                                 "predicted bid (9999, 5) ask (10002, 7) (ticks, lots)"]
    assert result.book.depth(1) == ([(9999, 5)], [(10002, 8)])  # re-synced to the file


def test_a_stale_level_beyond_the_file_s_depth_does_not_stop_the_replay(tmp_path, capsys):
    # ask 100.03 drops out of a 2-level view and is cancelled out of view (no message);
    # later a bid rests at 100.03: the remembered ask is stale, not a trade
    m = write(tmp_path / "m.csv", "34200.1,1,1,2,1000300,-1", "34200.2,1,2,1,1000100,-1",
              "34200.3,1,3,1,1000200,-1", "34200.4,4,2,1,1000100,-1", "34200.5,4,3,1,1000200,-1",
              "34200.6,1,4,5,1000300,1", "34200.7,3,1,2,1000300,-1")
    assert main(["replay", "--lobster", str(m), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["oddities"]["stale_crossed"] == 1 and report["rows"] == 7
    assert report["oddities"]["prior_order"] == 1  # the stale order's own delete comes later
    result = replay(lobster.read_messages(m))
    assert result.book.depth(5) == ([(10003, 5)], [])
    with pytest.raises(InputError, match="m.csv:6: new order at 10003 ticks crosses the book"):
        replay(lobster.read_messages(m), strict=True)


def test_repairs_are_counted_by_kind():
    lob = LobsterBook("f.csv")
    lob.apply(1, 7, 5, 100, 1, 1)
    lob.apply(2, 7, 9, 100, 1, 2)     # more than it has: clipped, the order is gone
    assert lob.oddities["size_mismatch"] == 1 and lob.book.depth(1) == ([], [])
    lob.apply(1, 8, 5, 100, 1, 3)
    lob.apply(4, 8, 1, 101, 1, 4)     # the order is at 100: its own price wins
    assert lob.oddities["price_mismatch"] == 1 and lob.book.depth(1) == ([(100, 4)], [])
    lob.apply(1, 8, 2, 99, 1, 5)      # a live id again: the old order is dropped
    assert lob.oddities["duplicate_id"] == 1 and lob.book.depth(2) == ([(99, 2)], [])
    assert lob.resync([(101, 1)], [(100, 1)], 2) == [] and lob.oddities["crossed_row"] == 1
    changes = lob.resync([(99, 3), (98, 1)], [(102, 4)], 2)
    assert changes == [(1, 99, 1), (1, 98, 1), (-1, 102, 4)]
    assert lob.book.depth(5) == ([(99, 3), (98, 1)], [(102, 4)])
    assert lob.resync([(99, 3)], [(102, 4)], 2) == [(1, 98, -1)]  # a side shown whole keeps nothing beyond
    assert lob.book.queue(Side.BUY, 99) == [((8, 1), 2), (("prior", 2), 1)]  # the id came back


def test_the_agent_side_of_the_sync_is_what_the_replay_uses():
    lob = LobsterBook("f.csv")
    placed = lob.seed([(100, 5), (99, 2)], [(101, 3)], 2, (1, 2, 100, 1))  # first row, a new bid undone
    assert placed == [(1, 100, 3), (1, 99, 2), (-1, 101, 3)]
    lob.apply(1, 1, 2, 100, 1, 1)
    assert lob.book.depth(2) == ([(100, 5), (99, 2)], [(101, 3)])


def test_on_a_book_grounded_by_an_orderbook_file_a_message_moves_its_level_by_its_size():
    lob = LobsterBook("f.csv")
    lob.seed([(100, 5)], [], 2, (1, 2, 100, 1))  # bids 100 x 5 after a new order of 2: 3 prior
    assert lob.apply(1, 1, 2, 100, 1, 1) == [] and lob.book.depth(1) == ([(100, 5)], [])
    assert lob.follow([(100, 4)], [], 2) == [(1, 100, -1)]  # one lot left out of view: from prior
    lob.follow([(100, 5), (99, 3)], [], 2)  # ... and one came back, with a level below
    assert lob.book.queue(Side.BUY, 100) == [(("prior", 1), 2), (1, 2), (("prior", 2), 1)]
    # the file's delete says order 1 had 1 lot: the level drops by 1, the other lot stays
    assert lob.apply(3, 1, 1, 100, 1, 2) == [(1, 100, 1)] and lob.book.depth(1) == ([(100, 4)], [])
    # a cancel of an order from before the file takes prior liquidity first, then the level
    lob.apply(1, 2, 1, 100, 1, 3)
    assert lob.apply(3, 77, 5, 100, 1, 4) == [(1, 100, -5)] and lob.book.depth(1) == ([(99, 3)], [])
    assert (lob.oddities["size_mismatch"], lob.oddities["prior_lots_unseen"]) == (1, 0)
    # an execution larger than its order takes the rest from the level
    lob.apply(1, 3, 1, 99, 1, 5)
    assert lob.apply(4, 3, 2, 99, 1, 6) == [(1, 99, -1)] and lob.book.depth(1) == ([(99, 2)], [])
    ungrounded = LobsterBook("f.csv")  # no order-book file: nothing to ground a repair on
    ungrounded.apply(1, 1, 2, 100, 1, 1)
    assert ungrounded.apply(3, 1, 1, 100, 1, 2) == [] and ungrounded.book.depth(1) == ([], [])
    assert ungrounded.apply(3, 77, 1, 100, 1, 3) == [] and ungrounded.oddities["prior_lots_unseen"] == 1


def test_levels_better_than_a_visible_execution_are_stale(tmp_path):
    result = replay(lobster.read_messages(write(tmp_path / "m.csv", *STALE_BETTER)))
    assert result.book.depth(5) == ([(10000, 2)], []) and result.oddities["stale_better"] == 1
    strict = replay(lobster.read_messages(tmp_path / "m.csv"), strict=True)
    assert strict.book.depth(5) == ([(10001, 1), (10000, 2)], [])  # exactly what the messages say


def test_the_docstring_example_holds():
    import doctest

    from lobsim.data import lobster_sync

    assert doctest.testmod(lobster_sync).failed == 0
