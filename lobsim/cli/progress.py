"""A tqdm progress bar on stderr for commands whose library call reports progress."""

from __future__ import annotations

import sys
from typing import Any


class ProgressBar:
    """``progress(done, total, label=None)`` callback drawing a tqdm bar on stderr; no bar
    when stderr is not a terminal. A new ``total`` starts a new bar. Call :meth:`close`
    when the work ends (or fails), so that the bar leaves the terminal clean."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._bar: Any = None

    def __call__(self, done: int, total: int, label: str | None = None) -> None:
        if self._bar is None or self._bar.total != total:
            self.close()
            from tqdm import tqdm

            self._bar = tqdm(
                total=total, desc=label or self._label, file=sys.stderr, leave=False, disable=None
            )  # disable=None: no bar when stderr is not a terminal
        self._bar.n = done
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
