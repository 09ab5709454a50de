"""Reading LOBSTER files as real ones are: extra columns, every event type, exact times,
the vectorised and the row-by-row path giving the same columns, and bad input as one line
naming file and line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lobsim.data import lobster
from lobsim.cli import main
from lobsim.errors import InputError

# One row of each type, as real files write them (a halt: type 7, price -1, direction -1;
# hidden executions and cross trades carry order id 0).
ALL_TYPES = ("34200.000376608,5,0,10,33578400,1", "34200.1,1,11,100,33570000,1",
             "34200.2,2,11,40,33570000,1", "34200.3,4,11,10,33570000,1",
             "34200.4,3,11,50,33570000,1", "34200.5,6,0,300,33575000,-1",
             "34200.6,7,0,0,-1,-1")
EXPECTED = [(1, 34200000376608, 5, 0, 10, 33578400, 1), (2, 34200100000000, 1, 11, 100, 33570000, 1),
            (3, 34200200000000, 2, 11, 40, 33570000, 1), (4, 34200300000000, 4, 11, 10, 33570000, 1),
            (5, 34200400000000, 3, 11, 50, 33570000, 1), (6, 34200500000000, 6, 0, 300, 33575000, -1),
            (7, 34200600000000, 7, 0, 0, -1, -1)]


def write(path: Path, *rows: str, end: str = "\n") -> Path:
    path.write_text("".join(row + end for row in rows))
    return path


def as_tuples(messages: lobster.Messages) -> list[tuple[int, ...]]:
    return [(m.row, m.time_ns, m.type, m.order_id, m.size, m.price, m.direction) for m in messages]


def test_every_type_is_read_with_exact_nanosecond_times(tmp_path):
    messages = lobster.read_messages(write(tmp_path / "m.csv", *ALL_TYPES))
    assert as_tuples(messages) == EXPECTED
    assert messages.extra_columns == 0 and len(messages) == 7
    assert messages[0] == lobster.LobsterMessage(*EXPECTED[0]) and messages[0].time == pytest.approx(34200.000376608)
    assert messages.type.dtype == np.int64 and list(messages.size) == [e[4] for e in EXPECTED]


def test_a_seventh_attribution_column_is_ignored_and_counted(tmp_path):
    rows = [row + (",UBSS" if i % 3 else ",null") for i, row in enumerate(ALL_TYPES)]
    messages = lobster.read_messages(write(tmp_path / "m.csv", *rows))
    assert as_tuples(messages) == EXPECTED and messages.extra_columns == 7
    mixed = [row + ",null,x" if i == 2 else row for i, row in enumerate(ALL_TYPES)]  # ragged: exact path
    messages = lobster.read_messages(write(tmp_path / "mixed.csv", *mixed))
    assert as_tuples(messages) == EXPECTED and messages.extra_columns == 1


def test_the_row_by_row_path_agrees_with_the_vectorised_one(tmp_path):
    fast = lobster.read_messages(write(tmp_path / "fast.csv", *ALL_TYPES, end="\r\n"))
    # a blank line, a whole number written 100.0 and a time in exponent form take the exact path
    slow_rows = list(ALL_TYPES)
    slow_rows[1] = "3.42001e4,1,11,100.0,33570000,1"
    slow = lobster.read_messages(write(tmp_path / "slow.csv", slow_rows[0], "", *slow_rows[1:]))
    assert as_tuples(fast) == EXPECTED
    assert [t[1:] for t in as_tuples(slow)] == [t[1:] for t in EXPECTED]
    assert list(slow.rows) == [1, 3, 4, 5, 6, 7, 8]  # line numbers, blank line skipped


def test_times_keep_every_nanosecond(tmp_path):
    messages = lobster.read_messages(write(tmp_path / "m.csv", "34200,3,1,1,100,1", "34200.,3,1,1,100,1",
                                           "34200.000000001,3,1,1,100,1", "34200.5,3,1,1,100,1",
                                           "86399.9999999994,3,1,1,100,1"))
    assert list(messages.time_ns) == [34200 * 10**9, 34200 * 10**9, 34200 * 10**9 + 1,
                                      34200 * 10**9 + 500_000_000, 86399999999999]


def test_orderbook_is_read_whole(tmp_path):
    path = write(tmp_path / "b.csv", "1000200,3,999800,4,9999999999,0,-9999999999,0",
                 "1000200,3,999900,2,9999999999,0,999800,4")
    book = lobster.read_orderbook(path)
    assert book.shape == (2, 8) and book.dtype == np.int64 and book[1, 7] == 4
    assert book[0, 4] == lobster.EMPTY_ASK and book[0, 6] == lobster.EMPTY_BID
    assert (lobster.read_orderbook(write(tmp_path / "gap.csv", "1,1,0,0", "", "2,1,0,0")) == [[1, 1, 0, 0], [2, 1, 0, 0]]).all()
    with pytest.raises(InputError, match="expected 4 columns per level \\(12\\), got 8"):
        lobster.read_orderbook(path, levels=3)


@pytest.mark.parametrize("content, where, expected", [
    (b"34200.1,1,1,1,100,1\n34200.2,1,2,x,100,1\n", ":2: ", "size must be a number, got 'x'"),
    (b"34200.1,1,1,1,100,1\n34200.2,1,2,1,100\n", ":2: ", "expected 6 columns"),
    (b"34200.1,1,1,1,100,1\n34200.2,1,2,1,100,1,\xff\n", ":2: ", "not UTF-8 text (byte 0xff)"),
    (b"", ":1: ", "empty file"),
    (b"\n  \n", ":1: ", "empty file"),
    (b"34200.1,1,1,1,100,1\n\n34200.2,1,2,1,100,2\n", ":3: ", "direction must be 1 (buy) or -1 (sell), got 2"),
])
def test_bad_message_file_is_one_line_naming_file_and_line(tmp_path, capsys, content, where, expected):
    path = tmp_path / "m.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        lobster.read_messages(path)
    assert str(info.value).startswith(f"{path}{where}") and expected in str(info.value)
    assert main(["replay", "--lobster", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"lobsim replay: error: {info.value}\n"


@pytest.mark.parametrize("content, expected", [
    (b"1,1,0,0\n2,1,0\n", ":2: expected 4 columns per level (4), got 3"),
    (b"1,1,0,0\n2,1,0,y\n", ":2: column 4 must be a number, got 'y'"),
    (b"1,1,0,0\n2,-1,0,0\n", ":2: a size is negative"),
    (b"1,1,0,0\n-9999999999,5,0,0\n", ":2: a level with lots needs a price"),
    (b"1,1,0,0\n9000000000000000000,5,0,0\n", ":2: a level with lots needs a price"),
    (b"1,1,0,0\n\xc3(,1,0,0\n", ":2: not UTF-8 text"),
    (b"", ":1: empty file"),
])
def test_bad_orderbook_file_is_one_line_naming_file_and_line(tmp_path, content, expected):
    path = tmp_path / "b.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=None) as info:
        lobster.read_orderbook(path)
    assert str(info.value).startswith(f"{path}{expected}")


def test_missing_file_from_the_command_line(tmp_path):
    out = tmp_path / "report.json"
    result = subprocess.run([sys.executable, "-m", "lobsim", "replay", "--lobster", str(tmp_path / "none.csv"),
                             "--out", str(out)], capture_output=True, text=True, check=False)
    assert result.returncode == 2 and result.stdout == "" and not out.exists()
    assert result.stderr == (f"lobsim replay: error: cannot read {tmp_path / 'none.csv'}: "
                             "No such file or directory\n")


def test_names_that_moved_out_of_the_module_are_still_found_there():
    from lobsim.data import lobster_export
    from lobsim.data import lobster_score

    assert lobster.export_run is lobster_export.export_run and lobster.replay is lobster_score.replay
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        lobster.nope  # noqa: B018
