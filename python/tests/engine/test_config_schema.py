"""config.py against configs/schema.json, the version gate, and check_config's refusals."""

from __future__ import annotations

import dataclasses
import json
import types
from typing import Any, Union, get_args, get_origin, get_type_hints

import pytest

from localssl.api import check_config
from localssl.config import Config, ConfigError, config_from_dict, snake

from .helpers import BASE_CONFIG, CLAPP_2021_RULE, FF_RULE, REPO_ROOT, merged


def object_options(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The object schemas a (possibly nested anyOf) schema allows."""
    if "anyOf" in schema:
        return [o for option in schema["anyOf"] for o in object_options(option)]
    return [schema] if schema.get("type") == "object" and "properties" in schema else []


def dataclass_options(hint: Any) -> list[type]:
    """The dataclasses a field's type hint allows (through Optional and unions)."""
    if dataclasses.is_dataclass(hint):
        return [hint]  # type: ignore[list-item]
    if get_origin(hint) in (Union, types.UnionType):
        return [cls for arg in get_args(hint) for cls in dataclass_options(arg)]
    return []


def compare(hint: Any, schema: dict[str, Any], where: str) -> None:
    """Every schema property has a dataclass field (snake_case) and vice versa, recursively."""
    classes, objects = dataclass_options(hint), object_options(schema)
    assert bool(classes) == bool(objects), f"{where}: one side is an object, the other is not"
    if not classes:
        return
    if len(classes) > 1:  # a union of dataclasses: matched by their `kind` literal
        by_kind = {o["properties"]["kind"]["const"]: o for o in objects}
        for cls in classes:
            kind = get_args(get_type_hints(cls)["kind"])[0]
            assert kind in by_kind, f"{where}: no schema option of kind {kind!r}"
            own = [o for o in objects if o["properties"]["kind"]["const"] == kind]
            compare_fields(cls, own, f"{where}<{kind}>")
        return
    compare_fields(classes[0], objects, where)


def compare_fields(cls: type, objects: list[dict[str, Any]], where: str) -> None:
    hints = get_type_hints(cls)
    properties = {snake(k) for o in objects for k in o["properties"] if k != "$schema"}
    fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    assert fields == properties, f"{where}: fields {sorted(fields ^ properties)} differ"
    for o in objects:
        for key, sub in o["properties"].items():
            if key != "$schema":
                compare(hints[snake(key)], sub, f"{where}.{key}")


def test_config_fields_equal_schema_properties() -> None:
    schema = json.loads((REPO_ROOT / "configs" / "schema.json").read_text())
    compare(Config, schema, "config")


def test_base_config_reads() -> None:
    config = config_from_dict(BASE_CONFIG)
    assert config.rule.kind == "contrastive"
    assert config.rule.pooling.kernels == (4, 4, 4, 2, 2, 1)


@pytest.mark.parametrize("version", [0, 2, None, "1"])
def test_bad_schema_version_is_refused(version: Any) -> None:
    with pytest.raises(ConfigError, match="schemaVersion"):
        config_from_dict({**BASE_CONFIG, "schemaVersion": version})


def test_rule_without_kind_reads_as_contrastive() -> None:
    """Resolved configs written before rule kinds existed still load."""
    rule = {k: v for k, v in BASE_CONFIG["rule"].items() if k not in ("kind", "predictorTraining")}
    config = config_from_dict({**BASE_CONFIG, "rule": rule})
    assert config.rule.kind == "contrastive" and config.rule.predictor_training is None


@pytest.mark.parametrize("rule", [FF_RULE, CLAPP_2021_RULE], ids=["ff", "clapp-2021"])
def test_rule_kinds_read(rule: dict[str, Any]) -> None:
    config = config_from_dict({**BASE_CONFIG, "rule": rule})
    assert config.rule.kind == rule["kind"]


def test_unknown_rule_kind_and_key_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"config\.rule\.kind: expected one of"):
        config_from_dict(merged(BASE_CONFIG, {"rule": {"kind": "hebb"}}))
    with pytest.raises(ConfigError, match=r"config\.rule\.normalizeInputs: unknown key"):
        config_from_dict(merged(BASE_CONFIG, {"rule": {"normalizeInputs": True}}))


REFUSED = {
    "identity B between layers of different sizes": (
        {"rule": {"context": "top", "predictor": {"kind": "identity"}}}, r"^rule\.predictor: "),
    "kernel larger than the map": (
        {"rule": {"pooling": {"kernels": [4, 4, 4, 2, 2, 4]}}}, r"^rule\.pooling\.kernels\.5: "),
    "kernel that leaves a border": (
        {"rule": {"pooling": {"kernels": [3, 4, 4, 2, 2, 1]}}}, r"^rule\.pooling\.kernels\.0: "),
    "one kernel too few": (
        {"rule": {"pooling": {"kernels": [4, 4, 4, 2, 2]}}}, r"^rule\.pooling\.kernels: "),
    "infonce with DFB context": (
        {"rule": {"context": "top", "score": {"f": "infonce", "temperature": 0.1}}},
        r"^rule\.context: "),
    "match-bp with an identity B": (
        {"rule": {"predictorTraining": "match-bp", "predictor": {"kind": "identity"}}},
        r"^rule\.predictorTraining: "),
    "match-bp layer by layer": (
        {"rule": {"predictorTraining": "match-bp", "schedule": "layerwise"}}, r"^rule\.schedule: "),
    "decay on an identity B": (
        {"rule": {"predictor": {"kind": "identity"}, "predictorDecay": 0.1}},
        r"^rule\.predictorDecay: "),
    "forward-forward with a trainable B": (
        {"rule": {**FF_RULE, "predictor": {"kind": "trainable"}}}, r"^rule\.predictor\.kind: "),
    "forward-forward with infonce": (
        {"rule": {**FF_RULE, "score": {"f": "infonce", "temperature": 0.1}}},
        r"^rule\.score\.f: "),
    "clapp-2021 steps beyond the grid": ({"rule": CLAPP_2021_RULE}, r"^rule\.predictionSteps: "),
    "clapp-2021 on colour input": (
        {"rule": CLAPP_2021_RULE, "model": {"inChannels": 3}, "data": {"imageSize": 64}},
        r"^model\.inChannels: "),
    "clapp-2021 either-or with a type 1 score": (
        {"rule": {**CLAPP_2021_RULE, "score": {"f": "linear"}}, "data": {"imageSize": 64}},
        r"^rule\.eitherPosOrNeg: "),
}  # fmt: skip


@pytest.mark.parametrize("case", list(REFUSED))
def test_check_config_names_the_key(case: str) -> None:
    overrides, pattern = REFUSED[case]
    raw = merged(BASE_CONFIG, {k: v for k, v in overrides.items() if k != "rule"})
    if "rule" in overrides:
        rule = overrides["rule"]
        raw["rule"] = rule if "kind" in rule and rule["kind"] != "contrastive" else merged(
            BASE_CONFIG["rule"], rule)  # fmt: skip
    with pytest.raises(ValueError, match=pattern):
        check_config({"config": raw})


def test_check_config_accepts_the_rule_kinds_at_full_width() -> None:
    for rule, size in ((FF_RULE, 32), (CLAPP_2021_RULE, 64)):
        raw = merged(BASE_CONFIG, {"data": {"imageSize": size}, "model": {"widthMultiplier": 1}})
        report = check_config({"config": {**raw, "rule": rule}})
        assert report["layer_shapes"][0][0] == 128
