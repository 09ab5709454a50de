"""TOML tables into checked, frozen dataclasses, with one-line messages.

:func:`build` makes an instance of a dataclass from a table, checking every value against
its field's type hint and ``metadata`` (``min``, ``max``, ``gt``, ``lt``, ``choices``,
``pattern``, ``unique``, ``path``, and ``unit``, which adds the bounds of
:data:`lobsim.scenario.config.UNIT_BOUNDS`), and raises :class:`Invalid` (a key path and
what was expected, got what) on the first problem. :func:`describe` and :func:`show` word
a type and a value as those messages do; ``lobsim kinds`` uses them too. The scenario
format itself (which tables, which kinds) is :mod:`lobsim.scenario.loader`'s.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING
from typing import Any, Literal

from lobsim.scenario import scale
from lobsim.scenario.config import MIN_SECONDS, UNIT_BOUNDS

#: Constraints per dataclass and field name, in the vocabulary of field ``metadata``.
Rules = Mapping[type, Mapping[str, Mapping[str, Any]]] | None


class Invalid(Exception):
    """One validation failure at ``path`` (``from_dict`` adds the file name)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(path, message)
        self.path, self.message = path, message


def init_fields(cls: type) -> dict[str, dataclasses.Field]:
    """The fields of dataclass ``cls`` that its constructor takes."""
    return {f.name: f for f in dataclasses.fields(cls) if f.init}


def build(cls: type, table: Any, path: str, also: tuple[str, ...] = (),
          rules: Rules = None) -> Any:
    """An instance of dataclass ``cls`` from a TOML table at ``path``; ``also``: other keys
    allowed beside its fields; ``rules``: constraints per class and field, added to the
    fields' own ``metadata`` (for classes that carry none), here and in the dataclasses
    nested in it. :class:`Invalid` on the first problem."""
    if not isinstance(table, Mapping):
        raise Invalid(path, f"expected a table, got {show(table)}")
    fields = init_fields(cls)
    check_keys(table, tuple(fields), path, also)
    hints = typing.get_type_hints(cls)
    own_rules = (rules or {}).get(cls, {})
    kwargs = {}
    for name, f in fields.items():
        meta = with_unit({**f.metadata, **own_rules.get(name, {})})
        sub = join(path, name)
        if name in table:
            kwargs[name] = _convert(table[name], hints[name], sub, meta, rules)
        elif f.default is MISSING and f.default_factory is MISSING:
            raise Invalid(sub, f"missing required key; expected {describe(hints[name], meta)}")
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:  # a __post_init__ cross-field check
        key, message = scale.split_key(str(exc), fields)  # "KEY: why" names one of its fields
        raise Invalid(join(path, key) if key else path, message) from None


def with_unit(meta: Mapping[str, Any]) -> Mapping[str, Any]:
    """``meta`` with the bounds its ``unit`` implies (:data:`lobsim.scenario.config.UNIT_BOUNDS`),
    keeping the stricter of each; a time that must be > 0 must be at least 1 ns, since a
    smaller one rounds to 0 ns."""
    unit = meta.get("unit")
    if unit is None:
        return meta
    if unit not in UNIT_BOUNDS:
        raise TypeError(f"unknown unit {unit!r} in field metadata")
    merged = dict(meta)
    for key, bound in UNIT_BOUNDS[unit].items():
        pick = max if key == "min" else min
        merged[key] = bound if merged.get(key) is None else pick(merged[key], bound)
    if unit == "s" and merged.get("gt") == 0:
        merged["gt"], merged["min"] = None, max(merged.get("min") or 0, MIN_SECONDS)
    return merged


def check_keys(
    table: Mapping, known: tuple[str, ...], path: str, also: tuple[str, ...] = ()
) -> None:
    """Reject the first key of ``table`` that is neither in ``known`` nor in ``also``."""
    allowed = (*also, *known)
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            listing = ", ".join(sorted(allowed)) or "none"
            raise Invalid(join(path, key), f"unknown key{hint}; expected one of: {listing}")


def _convert(value: Any, hint: Any, path: str, meta: Mapping[str, Any], rules: Rules) -> Any:
    """``value`` checked against type ``hint`` and constraints ``meta``, converted to it
    (a dataclass built with ``rules``, as :func:`build` does)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType) and type(None) in args and len(args) == 2:
        return _convert(value, _not_none(hint), path, meta, rules)  # TOML has no null: X | None is X
    if dataclasses.is_dataclass(hint):
        return build(hint, value, path, rules=rules)
    if origin in (tuple, list) or hint in (tuple, list):
        return _convert_sequence(value, hint, path, meta, rules)
    if origin is Literal:
        return _check(value, _among(value, args), hint, path, meta)
    if hint in (bool, int, float, str):
        return _convert_scalar(value, hint, path, meta)
    raise TypeError(f"{path}: unsupported parameter type {hint!r}")


def _not_none(hint: Any) -> Any:
    """``X`` of ``X | None``."""
    return next(a for a in typing.get_args(hint) if a is not type(None))


def _convert_sequence(value: Any, hint: Any, path: str, meta: Mapping[str, Any],
                      rules: Rules) -> Any:
    """An array into ``tuple[X, ...]``, ``tuple[X, Y]`` or ``list[X]``; ``meta`` applies per item."""
    if not isinstance(value, list):
        raise Invalid(path, f"expected {describe(hint, meta)}, got {show(value)}")
    origin, args = typing.get_origin(hint) or hint, typing.get_args(hint)
    if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
        if len(value) != len(args):
            items = f"{len(value)} item" + "s" * (len(value) != 1)
            raise Invalid(path, f"expected {describe(hint, meta)}, got {items}")
        item_hints = list(args)
    else:
        item_hints = [args[0] if args else Any] * len(value)
    item_meta = {k: v for k, v in meta.items() if k != "unique"}
    items = [
        _convert(item, h, f"{path}[{i}]", item_meta, rules)
        for i, (item, h) in enumerate(zip(value, item_hints))
    ]
    if meta.get("unique"):
        for i, item in enumerate(items):
            if item in items[:i]:
                raise Invalid(path, f"expected distinct items, got {show(item)} twice")
    return tuple(items) if origin is tuple else items


def _convert_scalar(value: Any, hint: type, path: str, meta: Mapping[str, Any]) -> Any:
    """bool, int (never a bool or a float), float (an int is fine) or str, then ``meta``."""
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if hint is float and (is_int or isinstance(value, float)):
        if (is_int and abs(value) > 2**1000) or not math.isfinite(value):  # float(10**400) overflows
            raise Invalid(path, f"expected a finite number, got {show(value)}")
        return float(_check(value, True, hint, path, meta))
    ok = is_int if hint is int else isinstance(value, hint)
    return _check(value, ok, hint, path, meta)


def _check(value: Any, ok: bool, hint: Any, path: str, meta: Mapping[str, Any]) -> Any:
    """``value`` if ``ok`` and within ``meta``'s choices, bounds and pattern; else Invalid."""
    if ok and "choices" in meta:
        ok = _among(value, meta["choices"])
    if ok and isinstance(value, (int, float)) and not isinstance(value, bool):
        ok = all(test(value, meta[k]) for k, test in _BOUNDS.items() if meta.get(k) is not None)
    if ok and isinstance(value, str) and meta.get("pattern"):
        ok = re.fullmatch(meta["pattern"], value) is not None
    if not ok:
        raise Invalid(path, f"expected {describe(hint, meta)}, got {show(value)}")
    return value


def _among(value: Any, choices: Any) -> bool:
    """Whether ``value`` is one of ``choices``, never taking a bool for a number."""
    return any(value == c and isinstance(value, bool) == isinstance(c, bool) for c in choices)


#: a bound key of the metadata and the test it makes
_BOUNDS: dict[str, Callable[[Any, Any], bool]] = {
    "min": lambda v, b: v >= b,
    "gt": lambda v, b: v > b,
    "max": lambda v, b: v <= b,
    "lt": lambda v, b: v < b,
}
_SIGNS = {"min": ">=", "gt": ">", "max": "<=", "lt": "<"}


def describe(hint: Any, meta: Mapping[str, Any]) -> str:
    """What a value of type ``hint`` with constraints ``meta`` must be, in words."""
    origin, args = typing.get_origin(hint) or hint, typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return describe(_not_none(hint), meta)
    if origin in (tuple, list):
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            return f"an array of {len(args)} items"
        item = describe(args[0], meta) if args else "anything"
        return f"an array (each item {item})"
    if dataclasses.is_dataclass(hint):
        return "a table"
    if origin is Literal or "choices" in meta:
        choices = args if origin is Literal else meta["choices"]
        return "one of " + ", ".join(show(c) for c in choices)
    base = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    text = base.get(hint, repr(hint))
    bounds = [f"{_SIGNS[k]} {_bound(meta[k])}" for k in _SIGNS if meta.get(k) is not None]
    if bounds and hint in (int, float):
        text += " " + " and ".join(bounds)
    if hint is str and meta.get("pattern"):
        text += f" matching {meta['pattern']}"
    return text


def _bound(value: float) -> str:
    """A bound as short text: ``1e+08`` rather than ``100000000.0``."""
    if isinstance(value, float) and value and not 1e-4 <= abs(value) < 1e6:
        return f"{value:g}"
    return f"{value:,}" if isinstance(value, int) and abs(value) >= 10**6 else repr(value)


def show(value: Any) -> str:
    """``value`` as the user wrote it, in short."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and abs(value).bit_length() > 200:  # repr may exceed the digit limit
        return f"an integer of about {int(abs(value).bit_length() * math.log10(2))} digits"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 200 else value[:200] + "...")
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "a table"
    if hasattr(value, "isoformat"):
        return f"a date/time {value.isoformat()}"
    return type(value).__name__


def join(path: str, key: Any) -> str:
    """``path.key``, quoting ``key`` when it is not a bare TOML key."""
    key = str(key)
    if not re.fullmatch(r"[A-Za-z0-9_-]+", key):
        key = json.dumps(key)
    return f"{path}.{key}" if path else key


def one_line(text: str) -> str:
    """``text`` with line breaks folded, so every error is one line."""
    return " ".join(text.split("\n"))
