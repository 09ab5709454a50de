"""Benchmarks behind ``lobsim bench``: each prints figures, none asserts a time."""

from collections.abc import Callable

Progress = Callable[[int, int, str], None]


def progress_of(args: object) -> Progress:
    """The ``progress(done, total, label)`` callback ``lobsim bench`` puts on ``args``, or
    one that does nothing (a caller that builds its own arguments, such as a test)."""
    return getattr(args, "progress", None) or (lambda done, total, label: None)
