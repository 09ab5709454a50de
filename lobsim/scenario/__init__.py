"""Scenarios: TOML files (data only) in, validated frozen configuration out, and back.

:func:`load` reads a file, :func:`from_dict` checks a mapping, :func:`to_toml` writes a
scenario back with every default filled in. The frozen dataclasses are in
:mod:`lobsim.scenario.config`; the rules in :mod:`lobsim.scenario.loader`.
"""

from lobsim.scenario.loader import from_dict, load, to_toml

__all__ = ["from_dict", "load", "to_toml"]
