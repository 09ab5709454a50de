"""``atomic_write``: a file appears whole or not at all, with the mode a plain open gives."""

from __future__ import annotations

import os
import stat

import pytest

from lobsim.fileio import atomic_write


@pytest.fixture
def umask():
    """Set the umask for one test, then put the old one back."""
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_file_has_the_mode_of_a_plain_open(tmp_path, umask, mask, mode):
    umask(mask)
    with atomic_write(tmp_path / "out.csv") as handle:
        handle.write("1,2\n")
    assert stat.S_IMODE((tmp_path / "out.csv").stat().st_mode) == mode
    with open(tmp_path / "plain.csv", "w") as handle:
        handle.write("1,2\n")
    assert stat.S_IMODE((tmp_path / "plain.csv").stat().st_mode) == mode


def test_nothing_is_left_when_the_block_fails(tmp_path):
    with pytest.raises(RuntimeError), atomic_write(tmp_path / "out.csv") as handle:
        handle.write("half")
        raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []
