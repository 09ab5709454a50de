"""Benchmarks behind ``lobsim bench``: each prints figures, none asserts a time."""
