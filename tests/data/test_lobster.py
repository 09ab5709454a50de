"""LOBSTER export and import: the event -> message mapping, round trip (export then replay
gives the same book at every row), hidden prior liquidity, malformed rows, and the
``lobster_replay`` agent kind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from support.market_harness import KINDS, probe, scenario
from support.scenarios import SCENARIO, make_run

from agents.lobster_replay import LobsterReplayParams, LobsterReplayTrader
from lobsim import Side, TimeInForce
from lobsim.data import lobster
from lobsim.data import lobster_export
from lobsim.data import tape
from lobsim.cli import main
from lobsim.scenario.config import AgentConfig
from lobsim.errors import InputError
from lobsim.data.lobster_score import replay
from lobsim.sim.market import Market
from lobsim.sim.messages import OrderFilled
from lobsim.sim.recorder import COLUMNS

BUY, SELL = Side.BUY, Side.SELL
NEW, PART, DEL, EXE = lobster.NEW, lobster.PARTIAL_CANCEL, lobster.DELETE, lobster.EXECUTE


def write(path: Path, *rows: str) -> Path:
    path.write_text("".join(row + "\n" for row in rows))
    return path


def test_events_map_to_lobster_messages():
    a = probe("a", [(1000, "limit", (SELL, 101, 5), {}),            # id 1 rests
                    (2000, "limit", (SELL, 102, 3), {}),            # id 2 rests
                    (5000, "market", (SELL, 3), {}),                # id 5: hits 4 then 3
                    (8000, "cancel", (2,), {}),
                    (9000, "limit", (SELL, 100, 1, TimeInForce.IOC), {})])  # id 6: hits 3, nothing rests
    b = probe("b", [(3000, "limit", (BUY, 99, 4), {}),              # id 3 rests
                    (4000, "limit", (BUY, 101, 7), {}),             # id 4: takes 5 of 1, 2 rest
                    (6000, "modify", (3,), {"qty": 2}),             # down at the same price
                    (7000, "modify", (3,), {"price": 100}),         # new price: delete + new
                    (10000, "modify", (3,), {"qty": 5}),            # up: loses priority
                    (11000, "modify", (3,), {"qty": 5, "price": 100})])  # no change: nothing
    _, result = run_probes(a, b)
    columns = dict(zip(COLUMNS, map(list, zip(*result.events))))
    messages = [m[:6] for m in tape.book_messages(columns)]
    assert messages == [
        (1000, NEW, 1, 5, 101, -1), (2000, NEW, 2, 3, 102, -1), (3000, NEW, 3, 4, 99, 1),
        (4000, EXE, 1, 5, 101, -1), (4000, NEW, 4, 2, 101, 1),
        (5000, EXE, 4, 2, 101, 1), (5000, EXE, 3, 1, 99, 1),
        (6000, PART, 3, 1, 99, 1),
        (7000, DEL, 3, 2, 99, 1), (7000, NEW, 3, 2, 100, 1),
        (8000, DEL, 2, 3, 102, -1),
        (9000, EXE, 3, 1, 100, 1),
        (10000, DEL, 3, 1, 100, 1), (10000, NEW, 3, 5, 100, 1),
    ]


def test_non_finite_tick_size_is_a_one_line_error():
    for tick in (float("nan"), float("inf"), 0.0):
        with pytest.raises(InputError, match="tick size must be a positive number"):
            lobster.price_factor(tick)


def run_probes(*agents):
    market = Market(scenario(*agents, duration=0.001), resolve_kind=KINDS.__getitem__)
    return market, market.run()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return make_run(tmp_path_factory.mktemp("lobster") / "run",
                    {**SCENARIO, "simulation": {"duration": 10.0, "seed": 5, "snapshot_interval": 0.5}})


def test_export_of_every_event_replays_strictly_to_the_run_s_own_book(run_dir, tmp_path, capsys):
    assert main(["export", str(run_dir), "--lobster", str(tmp_path), "--levels", "0"]) == 0
    (message_file,) = tmp_path.glob("XYZ_2000-01-03_34200000_34210000_message_0.csv")
    (book_file,) = tmp_path.glob("*_orderbook_0.csv")
    first = message_file.read_text().splitlines()[0].split(",")
    assert len(first) == 6 and first[0].startswith("34200.") and len(first[0].split(".")[1]) == 9
    assert int(first[4]) % 100 == 0  # price x 10000 with a 0.01 tick
    book = lobster.read_orderbook(book_file)
    assert book.shape[1] % 4 == 0 and (book[:, 0::4] > 0).all()
    assert ((book[:, 1::4] == 0) == (book[:, 0::4] == lobster.EMPTY_ASK)).all()  # empty levels
    assert ((book[:, 3::4] == 0) == (book[:, 2::4] == lobster.EMPTY_BID)).all()
    assert (book[:, -3::2] > 0).any()  # as deep as the book ever got: the last level is used
    capsys.readouterr()
    assert main(["replay", "--lobster", str(message_file), "--orderbook", str(book_file), "--strict"]) == 0
    out = capsys.readouterr().out
    assert "L1 100.00%" in out and "every row matches" in out
    # and the rebuilt book is the run's own final snapshot (book.parquet)
    result = replay(lobster.read_messages(message_file), 0.01, strict=True)
    snap = pq.read_table(run_dir / "book.parquet").to_pylist()
    end = max(r["time_ns"] for r in snap)
    final = {(r["side"], r["level"]): (r["price"], r["qty"]) for r in snap if r["time_ns"] == end}
    bids, asks = result.book.depth(5)
    assert {**{(1, i): b for i, b in enumerate(bids)}, **{(-1, i): a for i, a in enumerate(asks)}} == final
    assert result.oddities["prior_order"] == 0


def test_export_of_five_levels_reads_like_a_real_file_and_replays_at_100_percent(run_dir, tmp_path, capsys):
    _, _, every = lobster_export.export_run(run_dir, tmp_path / "all", levels=0)
    message_file, book_file, rows = lobster_export.export_run(run_dir, tmp_path, levels=5)
    assert 0 < rows < every  # events beyond level 5 are left out, as LOBSTER does
    book = lobster.read_orderbook(book_file)
    assert book.shape == (rows, 20) and (book[1:] != book[:-1]).any(axis=1).all()  # every row changed
    capsys.readouterr()
    assert main(["replay", "--lobster", str(message_file), "--orderbook", str(book_file), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == rows and report["resyncs"] > 0  # levels scrolled in from beyond view
    assert set(report["levels"]) == {"1", "2", "3", "4", "5"}
    assert all(level["match_rate"] == 1.0 for level in report["levels"].values())
    assert report["levels"]["1"]["rows_compared"] == rows - 1
    assert 0 < report["levels"]["5"]["rows_compared"] < rows - 1
    # strict refuses it: a level that scrolls in is not in the messages
    assert main(["replay", "--lobster", str(message_file), "--orderbook", str(book_file), "--strict"]) == 1


def test_mismatching_orderbook_is_reported(run_dir, tmp_path, capsys):
    message_file, book_file, rows = lobster_export.export_run(run_dir, tmp_path, levels=0)
    lines = book_file.read_text().splitlines()
    cells = lines[9].split(",")
    cells[1] = str(int(cells[1]) + 1)  # ask size at level 1, row 10
    lines[9] = ",".join(cells)
    book_file.write_text("\n".join(lines) + "\n")
    assert main(["replay", "--lobster", str(message_file), "--orderbook", str(book_file), "--strict",
                 "--out", str(tmp_path / "report.json")]) == 1
    out = capsys.readouterr().out
    assert "mismatch: row 10 level 1" in out and "stopped at row 10" in out and "L2 100.00% (10)" in out
    assert json.loads((tmp_path / "report.json").read_text())["first_difference"] == 10
    assert main(["replay", "--lobster", str(message_file), "--orderbook", str(book_file), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    # row 10 is off, and so is row 11 predicted from it; the window is re-synced after both
    assert report["resyncs"] == 2 and report["levels"]["1"]["rows_compared"] == rows - 1
    assert report["levels"]["1"]["match_rate"] == pytest.approx((rows - 3) / (rows - 1))
    assert report["levels"]["2"]["match_rate"] == 1.0


PRIOR = ("34200.1,3,900,5,1000100,-1", "34200.2,1,1,2,999700,1", "34200.3,4,901,1,999800,1",
         "34200.4,2,1,1,999700,1", "34200.5,5,0,7,1000000,1", "34200.6,7,0,0,-1,-1")
PRIOR_BOOK = ("1000200,3,999800,4,9999999999,0,-9999999999,0",
              "1000200,3,999800,4,9999999999,0,999700,2",
              "1000200,3,999800,3,9999999999,0,999700,2",
              "1000200,3,999800,3,9999999999,0,999700,1",
              "1000200,3,999800,3,9999999999,0,999700,1",
              "1000200,3,999800,3,9999999999,0,999700,1")


def test_orders_from_before_the_file_are_prior_liquidity(tmp_path):
    messages = lobster.read_messages(write(tmp_path / "m.csv", *PRIOR))
    alone = replay(messages)
    assert (alone.oddities["prior_order"], alone.oddities["prior_lots_unseen"]) == (2, 2)
    assert alone.book.depth(5) == ([(9997, 1)], [])
    assert alone.by_type == {1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 7: 1}
    book = lobster.read_orderbook(write(tmp_path / "b.csv", *PRIOR_BOOK))
    seeded = replay(messages, 0.01, book)
    assert seeded.all_match and seeded.match_rates() == [1.0, 1.0] and seeded.resyncs == 0
    assert (seeded.oddities["prior_order"], seeded.oddities["prior_lots_unseen"]) == (2, 0)
    assert seeded.book.depth(5) == ([(9998, 3), (9997, 1)], [(10002, 3)])
    assert seeded.compared == [5, 5]  # the first row seeds the book; it predicts nothing


@pytest.mark.parametrize("row, expected", [
    ("34200.1,1,5,2,999900", "expected 6 columns"),
    ("34200.1,one,5,2,999900,1", "type must be a number, got 'one'"),
    ("34200.1,9,5,2,999900,1", "type must be one of 1-7, got 9"),
    ("34200.1,1,5,2,999900,0", "direction must be 1 (buy) or -1 (sell), got 0"),
    ("34200.1,1,5,-2,999900,1", "size and price must be positive"),
    ("34200.1,1,5,2,9000000000000000000,1", "size and price must be positive (and below 2**62)"),
    ("34200.1,1,5,2.5,999900,1", "size must be an integer, got '2.5'"),
    ("abc,1,5,2,999900,1", "time must be a non-negative number of seconds, got 'abc'"),
    ("34200.1,1,5,2,99999999999999999999999,1", "price is out of range"),
    ("34200.1,1,5,2,1e400,1", "price must be an integer, got '1e400'"),
    ("1e10,1,5,2,999900,1", "time must be a non-negative number of seconds"),
    ("34200.0,1,5,2,999900,1", "goes back before"),
])
def test_malformed_row_is_one_line_error_naming_the_row(tmp_path, capsys, row, expected):
    path = write(tmp_path / "m.csv", "34200.05,1,1,1,1000000,1", row)
    with pytest.raises(InputError, match="m.csv:2: ") as info:
        lobster.read_messages(path)
    assert expected in str(info.value)
    assert main(["replay", "--lobster", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "m.csv:2: " in captured.err


def test_malformed_row_from_the_command_line_exit_2_no_traceback(tmp_path):
    path = write(tmp_path / "m.csv", "34200.05,1,1,1,1000000,1", "34200.1,1,x,1,1000000,1")
    out = tmp_path / "report.json"
    result = subprocess.run([sys.executable, "-m", "lobsim", "replay", "--lobster", str(path), "--out", str(out)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2 and result.stdout == "" and not out.exists()
    assert result.stderr == f"lobsim replay: error: {path}:2: order id must be a number, got 'x'\n"


def test_replay_errors(tmp_path, capsys):
    off_grid = write(tmp_path / "m.csv", "34200.1,1,1,1,999950,1")
    assert main(["replay", "--lobster", str(off_grid), "--tick-size", "0.01"]) == 2
    assert "m.csv:1: price 999950 is not a multiple of the tick size" in capsys.readouterr().err
    assert main(["replay", "--lobster", str(off_grid)]) == 0  # the tick is inferred: 0.005
    assert "tick = 50 LOBSTER units" in capsys.readouterr().out
    assert main(["replay", "--lobster", str(tmp_path / "none.csv")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["replay"]) == 2
    assert "expected a JSON-lines message file or --lobster" in capsys.readouterr().err
    assert main(["replay", str(off_grid), "--json"]) == 2
    assert "--json needs --lobster" in capsys.readouterr().err
    crossing = write(tmp_path / "c.csv", "1.0,1,1,1,1000000,-1", "2.0,1,2,1,1000000,1")
    assert main(["replay", "--lobster", str(crossing), "--strict"]) == 2
    assert "c.csv:2: new order at 10000 ticks crosses the book" in capsys.readouterr().err
    short = write(tmp_path / "b.csv", "1000000,1,-9999999999,0")
    assert main(["replay", "--lobster", str(crossing), "--orderbook", str(short)]) == 2
    assert "order-book file has 1 rows but the message file has 2" in capsys.readouterr().err
    reused = write(tmp_path / "r.csv", "1.0,1,1,1,1000000,-1", "2.0,1,1,1,1000100,-1")
    assert main(["replay", "--lobster", str(reused), "--strict"]) == 2
    assert "r.csv:2: order id 1 is already live" in capsys.readouterr().err
    assert main(["replay", "--lobster", str(reused), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["oddities"]["duplicate_id"] == 1 and report["levels"] == {} and report["rows"] == 2


def test_export_errors(tmp_path, capsys, run_dir):
    assert main(["export", str(tmp_path / "none"), "--lobster", str(tmp_path / "out")]) == 2
    assert "events.parquet" in capsys.readouterr().err
    assert main(["export", str(run_dir), "--lobster", str(tmp_path / "out"), "--levels", "-1"]) == 2
    assert capsys.readouterr().err == "lobsim export: error: --levels: expected an integer from 0 to 10,000, got -1\n"
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_lobster_replay_agent_is_background_flow(tmp_path):
    path = write(tmp_path / "flow.csv",
                 "34200.0,1,11,2,999900,1", "34200.0,1,12,3,1000100,-1",
                 "34200.5,2,12,1,1000100,-1",   # 12 down to 2 lots
                 "34201.0,4,11,1,999900,1",     # someone sold into 11: a market sell
                 "34201.5,3,12,2,1000100,-1",   # 12 deleted
                 "34202.0,3,77,1,1000000,1")    # from before the file: skipped
    flow = AgentConfig(name="bg", kind="lobster_replay", params=LobsterReplayParams(file=str(path)))
    better_bid = probe("p", [(800_000_000, "limit", (BUY, 10000, 1), {})])
    market = Market(scenario(flow, better_bid, duration=3.0),
                    resolve_kind={**KINDS, "lobster_replay": LobsterReplayTrader}.__getitem__)
    market.run()
    book = market.exchange.venues["XYZ"].book
    assert book.depth(5) == ([(9999, 2)], [])  # 11 untouched: the probe's better bid was hit
    fills = [r for _, r in market.agents[1].received if type(r) is OrderFilled]
    assert [(f.price, f.qty, f.maker) for f in fills] == [(10000, 1, True)]
    assert market.agents[0].skipped == 1 and market.agents[0].live == {11: [market.agents[0].live[11][0], 2, 1, 9999]}


def test_lobster_replay_params_validate_through_the_scenario_loader(tmp_path):
    from lobsim.scenario.loader import from_dict

    resolve = {"lobster_replay": LobsterReplayTrader, **KINDS}.__getitem__
    data = {"simulation": {"duration": 1.0}, "agents": [{"name": "bg", "kind": "lobster_replay",
                                                          "file": "x.csv", "speed": 2.0}]}
    s = from_dict(data, "s.toml", resolve)
    assert s.agents[0].params == LobsterReplayParams(file="x.csv", start=-1.0, speed=2.0)
    with pytest.raises(InputError, match="speed"):
        from_dict({**data, "agents": [{**data["agents"][0], "speed": 0}]}, "s.toml", resolve)
    bad = write(tmp_path / "bad.csv", "1.0,1,1,1,1000000")
    flow = AgentConfig(name="bg", kind="lobster_replay", params=LobsterReplayParams(file=str(bad)))
    with pytest.raises(InputError, match="bad.csv:1: expected 6 columns"):
        Market(scenario(flow), resolve_kind={"lobster_replay": LobsterReplayTrader}.__getitem__)


def test_lobster_file_is_found_beside_the_scenario_from_any_working_directory(tmp_path, monkeypatch):
    from lobsim.scenario.loader import load, to_toml

    folder = tmp_path / "study"
    folder.mkdir()
    write(folder / "msgs.csv", "34200.0,1,1,2,1000000,1")
    (folder / "s.toml").write_text('[simulation]\nduration = 1.0\n[[agents]]\nname = "bg"\n'
                                   'kind = "lobster_replay"\nfile = "msgs.csv"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    loaded = load(Path("..") / "study" / "s.toml")
    assert loaded.agents[0].params.file == str(folder / "msgs.csv")
    (elsewhere / "resolved.toml").write_text(to_toml(loaded))  # the copy a run writes elsewhere
    assert load(elsewhere / "resolved.toml").agents[0].params.file == str(folder / "msgs.csv")
    assert loaded.agents[0].params.orderbook == ""  # left out: stays out
    assert Market(loaded).run().summary["messages"] == 1
    write(folder / "book.csv", "9999999999,0,1000000,2")
    (folder / "s.toml").write_text((folder / "s.toml").read_text() + 'orderbook = "book.csv"\n')
    loaded = load(Path("..") / "study" / "s.toml")
    assert loaded.agents[0].params.orderbook == str(folder / "book.csv")
    assert Market(loaded).run().summary["messages"] == 1  # the first row seeds nothing new


def test_a_parquet_file_that_is_not_a_lobsim_event_log_is_refused(tmp_path):
    import pyarrow as pa
    pq.write_table(pa.table({"seq": [0], "time_ns": [1]}), tmp_path / "events.parquet")
    with pytest.raises(InputError, match="not a lobsim event log \\(no column kind"):
        tape.read_run_events(tmp_path)
