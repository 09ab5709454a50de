"""Run data from a run directory and from LOBSTER files: the same structure, the same
numbers for the same market (a run against its own LOBSTER export), and one-line errors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from support.scenarios import make_run

from lobsim.analysis import samples
from lobsim.book import OrderBook
from lobsim.data import rundata
from lobsim.data.rundata import load, load_lobster, load_run
from lobsim.errors import InputError
from lobsim.data.lobster import export_run
from support.lobster_files import DAY_MESSAGES as MESSAGES
from support.lobster_files import DAY_ORDERBOOK as ORDERBOOK
from support.lobster_files import write_rows as write

@pytest.fixture
def files(tmp_path) -> tuple[Path, Path]:
    return write(tmp_path / "m.csv", MESSAGES), write(tmp_path / "ob.csv", ORDERBOOK)


def test_lobster_messages_quotes_and_taker_orders(files):
    data = load_lobster(*files)
    assert list(data.t) == [0, 500_000_000, 1_200_000_000, 2_000_000_000, 2_000_000_000, 2_500_000_000,
                            3_000_000_000]
    assert data.duration_ns == 3_000_000_000 and data.tick_size == 0.01
    assert list(data.msg_type) == [1, 1, 1, 4, 4, 2, 3] and list(data.msg_price[:3]) == [9900, 9902, 9903]
    assert list(data.bid[:6]) == [9900] * 6 and np.isnan(data.bid[6])
    assert np.isnan(data.ask[0]) and list(data.ask[1:]) == [9902, 9902, 9903, 9903, 9903, 9903]
    assert list(data.ask_qty[1:]) == [5, 5, 4, 3, 2, 2]
    # the two executions at t=2.0 are one buyer-initiated order of 6 lots
    assert list(data.trade_t) == [2_000_000_000] and list(data.trade_sign) == [1.0]
    assert list(data.trade_size) == [6.0] and data.trade_price[0] == pytest.approx((5 * 9902 + 9903) / 6)
    assert (data.impact_before[0], data.impact_after[0]) == (9901.0, 9901.5)
    # depth snapshots each second, the book as it stood then (level 0 = best)
    at = {(int(t), int(s), int(lv)): (int(p), int(q)) for t, s, lv, p, q in
          zip(*(data.book[k] for k in ("time_ns", "side", "level", "price", "qty")))}
    assert at[(1_000_000_000, -1, 0)] == (9902, 5) and (1_000_000_000, -1, 1) not in at
    assert at[(2_000_000_000, -1, 0)] == (9903, 3) and at[(3_000_000_000, -1, 0)] == (9903, 2)
    assert (3_000_000_000, 1, 0) not in at


def test_without_an_orderbook_the_replay_gives_the_same_quotes(files):
    with_book, replayed = load_lobster(files[0], files[1]), load_lobster(files[0])
    for name in ("bid", "ask", "bid_qty", "ask_qty", "trade_size", "impact_after"):
        np.testing.assert_array_equal(getattr(replayed, name), getattr(with_book, name))
    for name in ("time_ns", "side", "level", "price", "qty"):
        np.testing.assert_array_equal(replayed.book[name], with_book.book[name])


def test_a_run_and_its_lobster_export_give_the_same_samples(tmp_path):
    run = make_run(tmp_path / "run")
    # levels enough that no event falls outside the file (an N-level file has only what touched N levels)
    messages, orderbook, rows = export_run(run, tmp_path / "lobster", levels=200)
    sim, real = load_run(run), load(messages, orderbook)
    assert len(sim.t) == len(real.t) == rows > 100
    np.testing.assert_array_equal(real.t, sim.t - sim.t[0])  # the file's clock starts at its first message
    for name in ("msg_type", "msg_id", "msg_size", "msg_price", "msg_dir", "bid", "ask", "bid_qty", "ask_qty"):
        np.testing.assert_array_equal(getattr(real, name), getattr(sim, name), err_msg=name)
    for sample in (samples.spread, samples.inter_arrival, samples.limit_sizes, samples.lifetimes,
                   samples.impacts, lambda d: samples.distance_from_best(d, (2, 3))):
        np.testing.assert_array_equal(sample(real), sample(sim))
    # executions grouped by instant and side are exactly the run's taker orders here
    np.testing.assert_array_equal(real.trade_size, sim.trade_size)
    np.testing.assert_array_equal(real.trade_sign, sim.trade_sign)


def test_bad_inputs_are_one_line_errors(tmp_path, files):
    with pytest.raises(InputError, match="3 order-book rows for 7 messages"):
        load_lobster(files[0], write(tmp_path / "short.csv", ORDERBOOK[:3]))
    with pytest.raises(InputError, match="empty.csv"):  # no messages: refused, naming the file
        load_lobster(write(tmp_path / "empty.csv", []))
    with pytest.raises(InputError, match="an order-book file goes with a LOBSTER message file"):
        load(tmp_path, files[1])
    with pytest.raises(InputError, match="cannot read"):
        load(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="not a multiple of the tick size"):
        load_lobster(files[0], tick_size=0.05)


def test_a_file_the_replay_refuses_keeps_its_message_statistics(tmp_path, monkeypatch):
    """Sizes, times and signs need no book: if the replay refuses the file, they stay,
    quotes and depth are left empty, and a note says why."""
    def refusing(tick_size, source):
        def apply(message):
            if message.row == 3:
                raise InputError(f"{source}:{message.row}: new order at price 990300 crosses the book")
        return OrderBook(), apply

    monkeypatch.setattr(rundata, "lobster_rebuilder", refusing)
    data = load_lobster(write(tmp_path / "m.csv", MESSAGES))
    assert list(data.msg_size) == [10, 5, 4, 5, 1, 1, 10] and list(data.trade_size) == [6.0]
    assert np.isnan(data.bid).all() and np.isnan(data.ask).all() and data.book == {}
    assert len(data.notes) == 1 and "m.csv:3" in data.notes[0] and "--orderbook" in data.notes[0]
    assert math.isnan(data.impact_before[0])
