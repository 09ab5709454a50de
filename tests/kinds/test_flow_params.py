"""Every parameter of the order-flow kinds is documented and bounded (so that extreme
values are refused by the scenario loader, never left to hang a run)."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from lobsim import registry

KINDS = ("queue_reactive", "hawkes", "metaorder", "value", "momentum")


@pytest.mark.parametrize("kind", KINDS)
def test_every_parameter_has_a_doc_and_numbers_have_both_bounds(kind):
    params = registry.load("lobsim.agents", kind).Params
    hints = typing.get_type_hints(params)
    for f in dataclasses.fields(params):
        assert f.metadata.get("doc"), f"{kind}.{f.name} has no doc"
        hint = hints[f.name]
        base = (typing.get_args(hint) or (hint,))[0]
        if base in (int, float):
            assert {"min", "gt"} & set(f.metadata), f"{kind}.{f.name} has no lower bound"
            assert {"max", "lt"} & set(f.metadata), f"{kind}.{f.name} has no upper bound"


@pytest.mark.parametrize("kind", KINDS)
def test_the_defaults_are_valid(kind):
    from lobsim.scenario import from_dict

    data = {"simulation": {"duration": 1.0}, "agents": [{"name": "a", "kind": kind}]}
    assert from_dict(data, "<t>").agents[0].kind == kind
