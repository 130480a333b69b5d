"""The decreasing functions f of the unified loss, applied to the scores u (paper-spec 2.2, 4.2).

Type 2 losses score positives and negatives separately: f(u_pos) + f(-u_neg).
Type 1 losses score their difference: f(u_pos - u_neg).

Subgradient convention of the hinge: at the kink (u_pos exactly equal to the margin, or u_neg
exactly equal to -margin) the term counts as inactive, gradient 0, as torch's relu does; so the
third factor gamma of the three-factor rule is 0 there (paper-spec 4.3: "gamma = +1 for an active
positive hinge (u_pos < 1)", strict inequality).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from localssl.config import ScoreConfig

TYPE_2 = ("hinge", "softhinge", "logistic")
TYPE_1 = ("linear", "phyll")


def pair_terms(
    score: ScoreConfig, u_pos: torch.Tensor, u_neg: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The positive and the negative term of a type 2 loss, separately.

    Args:
        u_pos: (...) scores of positive pairs.
        u_neg: (...) scores of negative pairs, same shape.
    Returns:
        Two (...) tensors: f(u_pos) and f(-u_neg) in the paper's form.
    """
    if score.f == "hinge":
        margin = 1.0 if score.margin is None else score.margin
        return F.relu(margin - u_pos), F.relu(margin + u_neg)
    if score.f == "softhinge":
        margin = 1.0 if score.margin is None else score.margin
        return F.softplus(margin - u_pos), F.softplus(margin + u_neg)
    if score.f == "logistic":
        # The threshold sits inside the score (u - theta, then f(x) = softplus(-x)), which makes
        # the negative term softplus(u_neg - theta): forward-forward exactly (paper-spec 4.8).
        threshold = 0.0 if score.threshold is None else score.threshold
        return F.softplus(threshold - u_pos), F.softplus(u_neg - threshold)
    raise ValueError(f"score f={score.f!r} has no separate positive and negative terms")


def pair_loss(score: ScoreConfig, u_pos: torch.Tensor, u_neg: torch.Tensor) -> torch.Tensor:
    """Per-sample loss from positive and negative scores.

    Args:
        u_pos: (N,) scores z_pos . B c.
        u_neg: (N,) scores z_neg . B c.
    Returns:
        (N,) loss per sample, before the mean over the batch.
    """
    if score.f in TYPE_2:
        positive, negative = pair_terms(score, u_pos, u_neg)
        return positive + negative
    if score.f == "linear":
        return u_neg - u_pos
    if score.f == "phyll":
        theta = 1.0 if score.theta is None else score.theta
        return F.softplus(theta * (u_neg - u_pos))
    raise ValueError(f"score f={score.f!r} is not a pairwise score")


def infonce_loss(
    anchors: torch.Tensor, candidates: torch.Tensor, temperature: float
) -> torch.Tensor:
    """One-directional InfoNCE: anchor i against every candidate j, candidate i is its positive.

    Args:
        anchors: (N, D) projected representations of one view.
        candidates: (N, D) projected representations of the other view.
    Returns:
        (N,) cross-entropy per anchor over cosine similarities / temperature.
    """
    logits = F.normalize(anchors, dim=1) @ F.normalize(candidates, dim=1).T / temperature
    targets = torch.arange(anchors.shape[0], device=anchors.device)
    return F.cross_entropy(logits, targets, reduction="none")
