"""The ``lobster_replay`` agent following a real-looking file with its order-book file:
the starting book is seeded from the first row, the replayed liquidity is re-synced after
each message, and cancels and executions of orders from before the file land on the
seeded liquidity. The simulated book then shows the file's rows, row after row."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.market_harness import KINDS, scenario
from support.lobster_files import MESSAGES, ORDERBOOK

from agents.lobster_replay import LobsterReplayParams, LobsterReplayTrader
from lobsim.data import lobster
from lobsim.scenario.config import AgentConfig
from lobsim.errors import InputError
from lobsim.data.lobster_sync import orderbook_ticks, row_levels
from lobsim.sim.market import Market


def write(path: Path, *rows: str) -> Path:
    path.write_text("".join(row + "\n" for row in rows))
    return path


def replayed_book(messages: Path, orderbook: Path | None, duration: float, levels: int = 2):
    params = LobsterReplayParams(file=str(messages), orderbook=str(orderbook) if orderbook else "")
    flow = AgentConfig(name="bg", kind="lobster_replay", params=params)
    market = Market(scenario(flow, duration=duration),
                    resolve_kind={**KINDS, "lobster_replay": LobsterReplayTrader}.__getitem__)
    market.run()
    return market.exchange.venues["XYZ"].book.depth(levels), market.agents[0]


def test_the_simulated_book_shows_the_file_s_rows(tmp_path):
    m, b = write(tmp_path / "m.csv", *MESSAGES), write(tmp_path / "b.csv", *ORDERBOOK)
    rows = orderbook_ticks(lobster.read_orderbook(b), 100, "b.csv").tolist()
    for i in range(len(MESSAGES)):  # message i is at 0.1 * i s; stop just after it
        depth, agent = replayed_book(m, b, 0.1 * i + 0.05)
        assert depth == row_levels(rows[i]), f"row {i + 1}"
    # the two scroll-ins rest as prior liquidity; the file's own orders are tracked by id
    assert sorted(agent.prior) == [(-1, 10002), (-1, 10003), (1, 9998), (1, 9999)]
    assert [(lobster_id, e[1:]) for lobster_id, e in agent.live.items()] == [(2, [1, -1, 10002])]


def test_cancels_of_orders_from_before_the_file_take_the_seeded_liquidity(tmp_path):
    m = write(tmp_path / "m.csv", "34200.1,2,900,3,1000100,-1", "34200.2,3,901,4,999900,1",
              "34200.3,3,902,1,1000100,-1")
    b = write(tmp_path / "b.csv", "1000100,2,999900,4,1000200,1,-9999999999,0",
              "1000100,2,-9999999999,0,1000200,1,-9999999999,0",
              "1000100,1,-9999999999,0,1000200,1,-9999999999,0")
    (bids, asks), agent = replayed_book(m, b, 1.0, levels=5)
    assert (bids, asks) == ([], [(10001, 1), (10002, 1)]) and agent.skipped == 0
    (bids, asks), agent = replayed_book(m, None, 1.0, levels=5)  # nothing seeded: skipped
    assert (bids, asks) == ([], []) and agent.skipped == 3


def test_an_orderbook_file_that_does_not_fit_is_refused_when_the_market_is_built(tmp_path):
    m = write(tmp_path / "m.csv", *MESSAGES)
    b = write(tmp_path / "b.csv", *ORDERBOOK[:3])
    with pytest.raises(InputError, match="b.csv: 3 rows but .*m.csv has 7"):
        replayed_book(m, b, 1.0)
    off = write(tmp_path / "off.csv", *(["1000150,6,1000000,2,1000300,2,999900,5"] * 7))
    with pytest.raises(InputError, match="off.csv: row 1: a price is not a multiple of the tick size"):
        replayed_book(m, off, 1.0)


def test_replaying_a_five_level_export_rebuilds_its_rows(tmp_path):
    """A simulated run exported as a 5-level LOBSTER file (events beyond level 5 left out)
    and replayed by the agent alone: the simulated book ends on the file's last row, and
    half-way through shows the row of the last message before that time."""
    from support.scenarios import SCENARIO, make_run

    from lobsim.data.lobster_export import export_run

    run = make_run(tmp_path / "run", {**SCENARIO, "simulation": {"duration": 10.0, "seed": 5}})
    m, b, rows = export_run(run, tmp_path / "lobster", levels=5)
    messages = lobster.read_messages(m)
    book = orderbook_ticks(lobster.read_orderbook(b), 100, str(b)).tolist()
    span = (messages.time_ns[-1] - messages.time_ns[0]) / 1e9
    depth, agent = replayed_book(m, b, span + 0.01, levels=5)
    assert depth == row_levels(book[-1])
    assert agent.next == rows and agent.shadow.oddities["prior_order"] > 0
    half = int((messages.time_ns > messages.time_ns[0] + span / 2 * 1e9).argmax())  # first row after
    depth, _ = replayed_book(m, b, span / 2, levels=5)
    assert depth == row_levels(book[half - 1])


def test_stale_own_orders_are_cancelled_before_an_execution_is_replayed(tmp_path):
    from support.lobster_files import STALE_BETTER

    (bids, asks), agent = replayed_book(write(tmp_path / "m.csv", *STALE_BETTER), None, 1.0, levels=5)
    assert (bids, asks) == ([(10000, 2)], []) and list(agent.live) == [2]
