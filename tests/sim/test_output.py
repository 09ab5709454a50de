"""A run's files written as it goes: the same bytes whatever the batch size and whichever
engine, row groups of a fixed size, running totals that match the whole log, and nothing
left behind by a run that fails."""

from __future__ import annotations

import filecmp

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.markets import avellaneda_stoikov, fixed_spread, poisson, santa_fe, scenario

from lobsim.sim import output
from lobsim.sim.market import Market
from lobsim.sim.output import RUN_FILES, run_directory, write_run
from lobsim.sim.recorder import MemorySink, MidChanges

#: A busy two-second market: a few thousand event rows, hundreds of book rows.
BUSY = scenario(santa_fe(), poisson(), fixed_spread(), avellaneda_stoikov(), duration=2.0)
ROW_GROUP = 300  # small, so that every file has several row groups


class Batches(MemorySink):
    """A memory sink that hands over every ``batch_rows`` rows and notes each batch's size."""

    def __init__(self, batch_rows):
        super().__init__(batch_rows)
        self.sizes = []

    def events(self, log):
        self.sizes.append(len(log))
        super().events(log)


def streamed(tmp_path, name, engine, batch_rows):
    """BUSY run on ``engine``, streamed to ``tmp_path/name`` in batches of ``batch_rows``."""
    with run_directory(tmp_path / name, BUSY, "") as files:
        files.batch_rows = batch_rows
        market = Market(BUSY, engine=engine, sink=files)
        files.summary = market.run().summary
    assert market.ran_on == engine
    return tmp_path / name


def assert_same_files(first, second):
    match, mismatch, errors = filecmp.cmpfiles(first, second, RUN_FILES, shallow=False)
    assert (mismatch, errors) == ([], []) and sorted(match) == list(RUN_FILES)


@pytest.fixture
def small_row_groups(monkeypatch):
    monkeypatch.setattr(output, "ROW_GROUP_ROWS", ROW_GROUP)


def test_the_bytes_do_not_depend_on_the_batch_size_or_the_engine(tmp_path, small_row_groups):
    held = Market(BUSY, engine="python").run()  # everything in memory, written at the end
    reference = tmp_path / "memory"
    write_run(held, reference, "")
    events = pq.ParquetFile(reference / "events.parquet").metadata
    assert events.num_rows == held.summary["events"] > 4 * ROW_GROUP
    assert events.num_row_groups == -(-events.num_rows // ROW_GROUP)
    for engine in ("python", "compiled", "twins"):
        for batch_rows in (7, ROW_GROUP, 3 * ROW_GROUP + 1):
            assert_same_files(reference, streamed(tmp_path, f"{engine}-{batch_rows}", engine, batch_rows))


@pytest.mark.parametrize("engine", ["python", "compiled", "twins"])
def test_engines_hand_over_batches_as_they_run(engine):
    whole = Market(BUSY, engine=engine).run()
    sink = Batches(100)
    batched = Market(BUSY, engine=engine, sink=sink).run()
    assert sink.sizes[:-1] == [100] * (len(sink.sizes) - 1) and 0 < sink.sizes[-1] <= 100
    assert batched.events == whole.events and batched.summary == whole.summary
    assert batched.book_rows == whole.book_rows and batched.agent_rows == whole.agent_rows


def test_a_streamed_run_holds_only_its_summary(tmp_path):
    with run_directory(tmp_path / "run", BUSY, "") as files:
        result = Market(BUSY, sink=files).run()
        files.summary = result.summary
    assert result.event_log is None and result.book_rows == [] and result.summary["audit"]["ok"]
    with pytest.raises(RuntimeError, match="streamed its events"):
        result.events


def test_a_run_that_fails_midway_leaves_nothing(tmp_path):
    class Boom(Exception):
        pass

    def fail(done, total):
        if done > total // 2:
            raise Boom

    out = tmp_path / "run"
    with pytest.raises(Boom), run_directory(out, BUSY, "") as files:
        files.batch_rows = 50  # some row groups are on disk when it fails
        Market(BUSY, sink=files).run(progress=fail)
    assert list(tmp_path.iterdir()) == []


def test_a_block_that_sets_no_summary_writes_nothing(tmp_path):
    with pytest.raises(RuntimeError, match="without setting the summary"), \
            run_directory(tmp_path / "run", BUSY, "") as files:
        files.book([])
    assert list(tmp_path.iterdir()) == []


@given(st.lists(st.integers(-(2 ** 40), 2 ** 40), max_size=50))
def test_mid_changes_are_the_standard_deviation_of_the_changes(mids2):
    changes = MidChanges()
    for mid2 in mids2:
        changes.add(mid2)
    if len(mids2) < 3:
        assert changes.std(0.01) is None
    else:
        expected = np.std(np.diff(np.asarray(mids2, dtype=np.float64)) / 2 * 0.01)
        assert changes.std(0.01) == pytest.approx(expected, rel=1e-9, abs=1e-12)
