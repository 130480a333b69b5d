"""Typed view of a resolved experiment config.

The TypeScript zod schema (src/config/schema.ts) is the source of truth and applies every
default; it writes the resolved config as JSON. This module only reads that JSON into frozen
dataclasses, refusing a schema version it does not know and any key it does not expect, so the
two sides cannot drift apart silently (a test compares these fields with configs/schema.json).
"""

from __future__ import annotations

import dataclasses
import json
import re
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from localssl import SCHEMA_VERSION


class ConfigError(ValueError):
    """The config does not match what this engine understands; the message names the key."""


@dataclass(frozen=True)
class ScoreConfig:
    """The decreasing function f; only the parameter of the chosen f is set."""

    f: Literal["hinge", "softhinge", "logistic", "linear", "phyll", "infonce"]
    margin: float | None = None
    threshold: float | None = None
    theta: float | None = None
    temperature: float | None = None


@dataclass(frozen=True)
class PredictorConfig:
    """The matrix B^l mapping the context onto the layer's representation."""

    kind: Literal["trainable", "low-rank", "identity", "fixed-random"]
    rank: int | None = None


@dataclass(frozen=True)
class PoolingConfig:
    """Pooling of an activity before the loss: global mean, k_l x k_l patches, or none."""

    kind: Literal["global", "patch", "none"]
    kernels: tuple[int, ...] | None = None


@dataclass(frozen=True)
class ContrastiveRule:
    """The unified per-layer loss (paper-spec 2): f x B x context x pooling x negatives."""

    gradient_flow: Literal["local", "global"]
    score: ScoreConfig
    predictor: PredictorConfig
    predictor_decay: float
    pooling: PoolingConfig
    negatives: Literal["next", "random"]
    kind: Literal["contrastive"] = "contrastive"
    context: Literal["same", "top", "both"] | None = None
    schedule: Literal["detach", "layerwise"] | None = None
    predictor_training: Literal["loss", "match-bp"] | None = None


@dataclass(frozen=True)
class ForwardForwardRule:
    """Forward-forward with SCFF pairs (paper-spec 4.8): goodness of each sample against itself."""

    kind: Literal["forward-forward"]
    gradient_flow: Literal["local"]
    context: Literal["self"]
    score: ScoreConfig
    predictor: PredictorConfig
    pooling: PoolingConfig
    negatives: Literal["next", "random"]
    normalize_inputs: bool
    schedule: Literal["detach", "layerwise"]


@dataclass(frozen=True)
class Clapp2021Rule:
    """CLAPP (2021) on a grey patch grid, predicting patch rows below (paper-spec 6.3-6.4)."""

    kind: Literal["clapp-2021"]
    gradient_flow: Literal["local", "global"]
    context: Literal["rows-ahead"]
    score: ScoreConfig
    predictor: PredictorConfig
    predictor_decay: float
    pooling: PoolingConfig
    negatives: Literal["next", "random"]
    patch_size: int
    patch_stride: int
    prediction_steps: int
    skip_rows: int
    either_pos_or_neg: bool
    asymmetric: bool
    schedule: Literal["detach", "layerwise"]


# A learning rule, told apart by its `kind` (absent in configs older than the rule kinds).
RuleConfig = ContrastiveRule | ForwardForwardRule | Clapp2021Rule


@dataclass(frozen=True)
class AugmentationConfig:
    crop_scale: tuple[float, float]
    flip_p: float
    jitter_p: float
    brightness: float
    contrast: float
    saturation: float
    hue: float
    grayscale_p: float
    blur_p: float
    # None: int(0.1 * image size) rounded up to odd, the torchvision SimCLR convention.
    blur_kernel: int | None = None


@dataclass(frozen=True)
class DataConfig:
    dataset: str
    root: str | None
    image_size: int
    train_subset: int | None
    test_subset: int | None
    augmentation: AugmentationConfig


@dataclass(frozen=True)
class ModelConfig:
    arch: Literal["vgg6"]
    widths: tuple[int, ...]
    width_multiplier: float
    in_channels: int


@dataclass(frozen=True)
class OptimizerConfig:
    name: Literal["adamw"]
    lr: float
    weight_decay: float
    betas: tuple[float, float]


@dataclass(frozen=True)
class TrainConfig:
    epochs: int
    batch_size: int
    max_steps_per_epoch: int | None
    log_every_steps: int
    align_every_steps: int | None = None


@dataclass(frozen=True)
class ProbeConfig:
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    pools: tuple[int, ...] | None
    augment: bool
    train_subset: int | None
    test_subset: int | None
    # Added after the first run directories were written, hence the defaults.
    crop_scale: tuple[float, float] | None = None
    test_resize: int | None = None
    per_layer: bool = False
    knn: bool = False
    knn_k: tuple[int, ...] = (20, 200)
    knn_temperature: float = 0.07


@dataclass(frozen=True)
class Config:
    schema_version: int
    name: str
    seed: int
    device: Literal["auto", "cpu", "cuda"]
    threads: int | None
    precision: Literal["auto", "fp32", "bf16"]
    model: ModelConfig
    data: DataConfig
    rule: RuleConfig
    optimizer: OptimizerConfig
    train: TrainConfig
    probe: ProbeConfig


def snake(name: str) -> str:
    """`gradientFlow` -> `gradient_flow`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _convert(value: Any, hint: Any, where: str) -> Any:
    origin = get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where)  # type: ignore[arg-type]
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(hint) if a is not type(None)]
        if value is None:
            return None
        if len(options) > 1 and all(dataclasses.is_dataclass(o) for o in options):
            return _build(_tagged_option(options, value, where), value, where)
        return _convert(value, options[0], where)
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return tuple(value)
    if origin is Literal and value not in get_args(hint):
        raise ConfigError(f"{where}: expected one of {get_args(hint)}, got {value!r}")
    return value


def _tagged_option(options: list[Any], raw: Any, where: str) -> type:
    """The member of a union of dataclasses whose `kind` literal matches `raw["kind"]`; a mapping
    without `kind` is the first member (rule configs written before rule kinds existed)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping, got {raw!r}")
    kinds = {get_args(get_type_hints(o)["kind"])[0]: o for o in options}
    kind = raw.get("kind", next(iter(kinds)))
    if kind not in kinds:
        raise ConfigError(f"{where}.kind: expected one of {tuple(kinds)}, got {kind!r}")
    return kinds[kind]


def _build(cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping, got {raw!r}")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = snake(key)
        if name not in fields:
            raise ConfigError(f"{where}.{key}: unknown key for this engine")
        values[name] = _convert(value, hints[name], f"{where}.{key}")
    missing = [
        n for n, f in fields.items()
        if n not in values and f.default is dataclasses.MISSING
    ]  # fmt: skip
    if missing:
        raise ConfigError(f"{where}: missing key {missing[0]}")
    return cls(**values)


def config_from_dict(raw: dict[str, Any]) -> Config:
    """Read a resolved config (as written by the TypeScript side) into typed dataclasses."""
    version = raw.get("schemaVersion")
    if version != SCHEMA_VERSION:
        raise ConfigError(
            f"schemaVersion {version!r} is not supported by this engine (it reads "
            f"{SCHEMA_VERSION}); update localssl or regenerate the config"
        )
    body = {k: v for k, v in raw.items() if k != "$schema"}
    return _build(Config, body, "config")


def load_config(path: str | Path) -> Config:
    """Read a resolved config JSON file."""
    try:
        raw = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ConfigError(f"{path}: cannot read resolved config ({error})") from None
    return config_from_dict(raw)
