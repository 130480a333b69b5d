"""localssl.jsonsafe: strict JSON out of Python values, non-finite floats as strings."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from localssl.jsonsafe import dumps, sanitize


def strict_loads(text: str) -> Any:
    return json.loads(text, parse_constant=lambda token: pytest.fail(f"bare {token} in JSON"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [(math.nan, "NaN"), (math.inf, "Infinity"), (-math.inf, "-Infinity"), (0.5, 0.5)],
)
def test_floats_map_to_numbers_or_marker_strings(value: float, expected: object) -> None:
    assert sanitize(value) == expected


@pytest.mark.parametrize("value", [None, True, False, 0, -3, 2**70, "NaN", "text"])
def test_plain_scalars_pass_through_unchanged(value: object) -> None:
    result = sanitize(value)
    assert result == value
    assert type(result) is type(value)


def test_nested_containers_are_sanitised_and_tuples_become_lists() -> None:
    value = {"loss": math.nan, "history": (1.0, math.inf), 3: [{"x": -math.inf}]}
    assert sanitize(value) == {
        "loss": "NaN",
        "history": [1.0, "Infinity"],
        "3": [{"x": "-Infinity"}],
    }


def test_numpy_scalars_become_python_numbers() -> None:
    assert sanitize(np.int64(7)) == 7
    assert sanitize(np.float32(0.5)) == 0.5
    assert sanitize(np.float32(np.inf)) == "Infinity"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (np.float64(np.nan), "NaN"),
        (np.float64(np.inf), "Infinity"),
        (np.float64(-np.inf), "-Infinity"),
    ],
)
def test_numpy_float64_non_finite_values_become_marker_strings(value: float, expected: str) -> None:
    assert sanitize(value) == expected


def test_objects_without_a_json_form_are_refused() -> None:
    with pytest.raises(TypeError, match="cannot send a object across the bridge"):
        sanitize(object())


def test_dumps_writes_strict_compact_json() -> None:
    text = dumps({"a": [math.nan, 1.5], "b": None})
    assert text == '{"a":["NaN",1.5],"b":null}'
    assert strict_loads(text) == {"a": ["NaN", 1.5], "b": None}
