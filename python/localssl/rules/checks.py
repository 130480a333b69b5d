"""Combinations of rule settings that make no sense, refused with the key path and the reason.

The TypeScript schema refuses the same ones first (src/config/schema.ts, superRefine); these
checks keep the engine safe for a config that reached it another way. Checks that need layer
shapes (pool kernels, identity B between layers of different sizes) happen where the heads are
built.
"""

from __future__ import annotations

from localssl.config import Clapp2021Rule, ContrastiveRule, ForwardForwardRule, RuleConfig
from localssl.losses.scores import TYPE_1
from localssl.rules.patches import grid_side


def _article(word: str) -> str:
    """'an identity', 'a fixed-random'."""
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def _check_decay(rule: ContrastiveRule | Clapp2021Rule) -> None:
    if rule.predictor_decay > 0 and rule.predictor.kind in ("identity", "fixed-random"):
        raise ValueError(f"rule.predictorDecay: {_article(rule.predictor.kind)} B has no trainable "
                         "weights to decay; set it to 0")  # fmt: skip


def _check_contrastive(rule: ContrastiveRule) -> None:
    _check_decay(rule)
    local = rule.gradient_flow == "local"
    if rule.score.f == "infonce" and local and (rule.context or "same") != "same":
        raise ValueError("rule.context: layer-wise InfoNCE contrasts the two views of the same "
                         "layer through one shared projection; use context 'same'")  # fmt: skip
    if rule.predictor_training == "match-bp":
        if rule.predictor.kind in ("identity", "fixed-random"):
            raise ValueError(
                "rule.predictorTraining: match-bp trains B toward the backprop error signal, "
                f"but {_article(rule.predictor.kind)} B has nothing to train"
            )
        if rule.schedule == "layerwise":
            raise ValueError("rule.schedule: match-bp needs the end-to-end graph for the "
                             "backprop error signal; use schedule 'detach'")  # fmt: skip


def _check_forward_forward(rule: ForwardForwardRule) -> None:
    if rule.predictor.kind != "identity":
        raise ValueError(
            f"rule.predictor.kind: forward-forward scores each sample against itself, so a "
            f"{rule.predictor.kind} B would make the goodness z.Bz: a trainable B could raise or "
            "lower every goodness without the encoder learning anything, and a random one makes "
            "it indefinite; use identity"
        )
    if rule.score.f == "infonce":
        raise ValueError("rule.score.f: infonce contrasts a sample with other views; forward-"
                         "forward's context is the sample itself, use logistic")  # fmt: skip


def _check_clapp_2021(rule: Clapp2021Rule, in_channels: int, image_size: int) -> None:
    _check_decay(rule)
    if rule.score.f == "infonce":
        raise ValueError("rule.score.f: the 2021 multiclass (CPC) loss over 16 negatives is not "
                         "implemented; use kind 'contrastive' with infonce for layer-wise "
                         "InfoNCE")  # fmt: skip
    if rule.either_pos_or_neg and rule.score.f in TYPE_1:
        raise ValueError(f"rule.eitherPosOrNeg: '{rule.score.f}' scores u_pos - u_neg as one "
                         "term, so an image cannot take only its positive or only its negative "
                         "term; set eitherPosOrNeg to false")  # fmt: skip
    if rule.gradient_flow == "global" and rule.schedule == "layerwise":
        raise ValueError("rule.schedule: layerwise updates one layer at a time, but a global rule "
                         "backpropagates one loss through every layer; use 'detach'")  # fmt: skip
    if in_channels != 1:
        raise ValueError("model.inChannels: clapp-2021 encodes grey patches (paper-spec 6.3); "
                         "set it to 1, colour images are converted to luminance")  # fmt: skip
    if rule.patch_size > image_size:
        raise ValueError(f"rule.patchSize: a {rule.patch_size} px patch does not fit the "
                         f"{image_size} px image")  # fmt: skip
    rows = grid_side(image_size, rule.patch_size, rule.patch_stride)
    farthest = rule.prediction_steps + rule.skip_rows
    if farthest >= rows:
        raise ValueError(
            f"rule.predictionSteps: step {rule.prediction_steps} predicts {farthest} rows ahead, "
            f"but {rule.patch_size} px patches at stride {rule.patch_stride} give a {rows}x{rows} "
            f"grid on a {image_size} px image; use at most {max(rows - 1 - rule.skip_rows, 0)} "
            "steps or a larger image"
        )


def check_rule(rule: RuleConfig, in_channels: int, image_size: int) -> None:
    """Refuse a rule whose settings contradict each other.

    Raises:
        ValueError whose message starts with the config key path.
    """
    if isinstance(rule, ContrastiveRule):
        _check_contrastive(rule)
    elif isinstance(rule, ForwardForwardRule):
        _check_forward_forward(rule)
    else:
        _check_clapp_2021(rule, in_channels, image_size)
