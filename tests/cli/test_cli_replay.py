"""``lobsim replay``: the event contract, --out/--book-out, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lobsim.cli import main
from lobsim.errors import InputError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "messages.jsonl"


def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_events_follow_the_contract(tmp_path, capsys):
    messages = write_lines(
        tmp_path / "m.jsonl",
        '{"op":"limit","id":1,"owner":"a","side":"sell","price":10000,"qty":5}',
        '{"op":"limit","id":2,"owner":"b","side":"buy","price":10001,"qty":7,"tif":"ioc"}',
        '{"op":"limit","id":3,"owner":"c","side":"buy","price":9999,"qty":2,"tif":"gtc","post_only":true}',
        '{"op":"market","id":4,"owner":"c","side":"sell","qty":3}',
        '{"op":"cancel","id":1}',
        '{"op":"limit","id":5,"owner":"c","side":"buy","price":9998,"qty":1}',
        '{"op":"modify","id":5,"qty":4,"price":9997}',
        '{"op":"limit","id":6,"owner":"d","side":"sell","price":9990.5,"qty":1}',
    )
    assert main(["replay", str(messages)]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events == [
        {"event": "trade", "price": 10000, "qty": 5, "maker": 1, "taker": 2, "aggressor": "buy"},
        {"event": "cancel", "id": 2, "qty": 2},
        {"event": "cancel", "id": 4, "qty": 3},  # self-trade prevention against order 3
        {"event": "reject", "id": 1, "reason": "unknown_id"},
        {"event": "modify", "id": 5, "price": 9997, "qty": 4},
        {"event": "reject", "id": 6, "reason": "invalid"},
    ]


def test_out_and_book_out_files(tmp_path):
    out, book = tmp_path / "events.jsonl", tmp_path / "book.json"
    assert main(["replay", str(EXAMPLE), "--out", str(out), "--book-out", str(book)]) == 0
    events = read_jsonl(out)
    assert {e["event"] for e in events} == {"trade", "cancel", "reject", "modify"}
    snapshot = json.loads(book.read_text())
    assert snapshot == {"bids": [{"price": 10003, "orders": [[10, 1]]}], "asks": []}


def test_book_out_orders_levels_best_first_and_queues_by_priority(tmp_path):
    messages = write_lines(
        tmp_path / "m.jsonl",
        '{"op":"limit","id":1,"owner":"a","side":"buy","price":99,"qty":1}',
        '{"op":"limit","id":2,"owner":"a","side":"buy","price":100,"qty":2}',
        '{"op":"limit","id":3,"owner":"b","side":"buy","price":100,"qty":3}',
        '{"op":"limit","id":4,"owner":"b","side":"sell","price":102,"qty":4}',
        '{"op":"limit","id":5,"owner":"b","side":"sell","price":101,"qty":5}',
    )
    book = tmp_path / "book.json"
    assert main(["replay", str(messages), "--out", str(tmp_path / "e.jsonl"), "--book-out", str(book)]) == 0
    assert json.loads(book.read_text()) == {
        "bids": [{"price": 100, "orders": [[2, 2], [3, 3]]}, {"price": 99, "orders": [[1, 1]]}],
        "asks": [{"price": 101, "orders": [[5, 5]]}, {"price": 102, "orders": [[4, 4]]}],
    }
    assert (tmp_path / "e.jsonl").read_text() == ""


@pytest.mark.parametrize("bad_line, expected", [
    ("not json", "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"op":"teleport","id":1}', "unknown op 'teleport'"),
    ('{"id":1}', "unknown op None"),
])
def test_bad_line_is_one_line_error_naming_the_line_exit_2(tmp_path, bad_line, expected):
    messages = write_lines(tmp_path / "m.jsonl",
                           '{"op":"limit","id":1,"owner":"a","side":"buy","price":99,"qty":1}',
                           "", bad_line)
    out = tmp_path / "events.jsonl"
    result = subprocess.run([sys.executable, "-m", "lobsim", "replay", str(messages), "--out", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert f"m.jsonl:3: {expected}" in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [messages]  # nothing half-written
    assert result.stdout == ""


def test_missing_file_is_clear_error(tmp_path, capsys):
    assert main(["replay", str(tmp_path / "nope.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "cannot read" in err and "nope.jsonl" in err and err.count("\n") == 1


def test_bad_values_in_well_formed_lines_are_rejects(tmp_path, capsys):
    messages = write_lines(
        tmp_path / "m.jsonl",
        '{"op":"limit","id":1,"owner":"a","side":"up","price":99,"qty":1}',
        '{"op":"limit","id":2,"owner":"a","side":"buy","qty":1}',
        '{"op":"market","id":3,"owner":"a","side":"buy","qty":-2}',
        '{"op":"limit","id":4,"owner":"a","side":"buy","price":99,"qty":1,"tif":"day"}',
        '{"op":"limit","id":5,"owner":"a","side":"buy","price":99,"qty":1,"tif":"ioc","post_only":true}',
        '{"op":"modify","id":9}',
        '{"op":"limit","id":[1],"owner":"a","side":"buy","price":99,"qty":1}',
    )
    assert main(["replay", str(messages)]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["id"], e["reason"]) for e in events] == [
        (1, "invalid"), (2, "invalid"), (3, "invalid"), (4, "invalid"), (5, "invalid"),
        (9, "unknown_id"), ([1], "invalid")]


def test_lobster_json_report_from_the_command_line(tmp_path):
    """End to end: a real-looking 2-level file (see test_lobster_sync) is read to the end
    (exit 0), the report is one JSON object on stdout, and --out gets the same, mode 0644."""
    from support.lobster_files import MESSAGES, ORDERBOOK

    messages = write_lines(tmp_path / "m.csv", *MESSAGES)
    orderbook = write_lines(tmp_path / "b.csv", *ORDERBOOK)
    out = tmp_path / "report.json"
    result = subprocess.run([sys.executable, "-m", "lobsim", "replay", "--lobster", str(messages),
                             "--orderbook", str(orderbook), "--json", "--out", str(out)],
                            capture_output=True, text=True, check=False, umask=0o022)
    assert result.returncode == 0 and result.stderr == ""
    report = json.loads(result.stdout)
    assert list(report) == ["rows", "resyncs", "oddities", "levels"]
    assert report == json.loads(out.read_text()) and (out.stat().st_mode & 0o777) == 0o644
    assert (report["rows"], report["resyncs"]) == (7, 2)
    assert {level: v["match_rate"] for level, v in report["levels"].items()} == {"1": 1.0, "2": 1.0}
    strict = subprocess.run([sys.executable, "-m", "lobsim", "replay", "--lobster", str(messages),
                             "--orderbook", str(orderbook), "--strict", "--json"],
                            capture_output=True, text=True, check=False)
    assert strict.returncode == 1 and json.loads(strict.stdout)["first_difference"] == 2


def test_replay_memory_is_constant_in_the_number_of_lines(tmp_path):
    """Peak traced memory of a replay to a file, for 4,000 and 40,000 lines that leave the
    book empty (limit, cancel): a replay that held its lines would need ten times more."""
    import tracemalloc

    peaks = []
    for pairs in (2_000, 20_000):
        messages = tmp_path / f"m{pairs}.jsonl"
        with messages.open("w") as handle:
            for i in range(1, pairs + 1):
                handle.write(f'{{"op":"limit","id":{i},"owner":"a","side":"buy","price":{9000 + i % 50},'
                             f'"qty":1}}\n{{"op":"cancel","id":{i}}}\n')
        tracemalloc.start()
        assert main(["replay", str(messages), "--out", str(tmp_path / f"e{pairs}.jsonl")]) == 0
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert len(read_jsonl(tmp_path / f"e{pairs}.jsonl")) == pairs
    assert peaks[1] < 1.5 * peaks[0], peaks


def test_a_bad_line_stops_the_replay_before_any_event_reaches_stdout(tmp_path, capsys):
    messages = write_lines(tmp_path / "m.jsonl",
                           '{"op":"cancel","id":7}',  # an event: a reject (unknown order)
                           'not json')
    assert main(["replay", str(messages)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "m.jsonl:2: not valid JSON" in captured.err
    write_lines(messages, '{"op":"cancel","id":7}')
    assert main(["replay", str(messages)]) == 0 and '"event":"reject"' in capsys.readouterr().out


@pytest.mark.parametrize(("line", "reason"), [
    (b'{"op":"limit","owner":"\xff"}', "not valid JSON (invalid start byte)"),
    (b'{"op":{"a":1}}', "unknown op an object"),
    (b'{"op":["limit"]}', "unknown op an array"),
    (b'{"op":"cancel","id":' + b"7" * 5000 + b"}", "an integer of more than 4,300 digits"),
    (b'{"op":"cancel","id":' + b"[" * 100_000, "not valid JSON"),
    (b'{"op":"cancel","id":NaN}', "NaN is not a number JSON allows"),
    (b'{"op":"cancel","id":-Infinity}', "-Infinity is not a number JSON allows"),
    (b'{"op":"cancel","id":1e999}', "1e999 overflows a float"),
], ids=["not-utf8", "op-object", "op-array", "5000-digits", "nested", "nan", "infinity", "overflow"])
def test_lines_that_are_not_plain_json_are_one_error_naming_the_line(line, reason):
    from lobsim.book.replay import parse_lines

    with pytest.raises(InputError) as info:
        list(parse_lines([b'{"op":"cancel","id":1}\n', line + b"\n"], "m.jsonl"))
    assert str(info.value).startswith("m.jsonl:2: ") and reason in str(info.value)
    assert "\n" not in str(info.value)
