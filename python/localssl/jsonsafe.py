"""JSON encoding that survives the bridge: non-finite floats become explicit strings.

Python's `json.dumps` writes bare `NaN` and `Infinity`, which are not JSON and crash the parser on
the Node side. Every document that leaves Python goes through `dumps` here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any


def _non_finite(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def sanitize(value: Any) -> Any:
    """Return `value` with non-finite floats replaced by "NaN", "Infinity" or "-Infinity".

    Tensors and numpy scalars of one element become Python numbers; other objects raise
    `TypeError`, so that nothing crosses the bridge by accident.
    """
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _non_finite(value)
    if isinstance(value, (bytes, bytearray)):
        raise TypeError("cannot send bytes across the bridge as JSON; write a file instead")
    if isinstance(value, Mapping):
        return {str(k): sanitize(v) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [sanitize(v) for v in value]
    # Tensors and numpy values of one element; larger arrays belong in safetensors files.
    numel = getattr(value, "size", None)
    numel = numel() if callable(numel) else numel
    item = getattr(value, "item", None)
    if callable(item):
        shape = getattr(value, "shape", ())
        if len(tuple(shape)) > 0 and numel != 1:
            raise TypeError(
                f"cannot send a {type(value).__name__} of shape {tuple(shape)} as JSON; "
                "write it to a safetensors file"
            )
        return sanitize(item())
    raise TypeError(f"cannot send a {type(value).__name__} across the bridge as JSON")


def dumps(value: Any) -> str:
    """Serialise `value` to strict JSON (no bare NaN or Infinity tokens)."""
    return json.dumps(sanitize(value), allow_nan=False, separators=(",", ":"))
