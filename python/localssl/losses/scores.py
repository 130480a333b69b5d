"""The decreasing functions f of the unified loss, applied to the scores u (paper-spec 2.2, 4.2).

Type 2 losses score positives and negatives separately: f(u_pos) + f(-u_neg).
Type 1 losses score their difference: f(u_pos - u_neg).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from localssl.config import ScoreConfig


def pair_loss(score: ScoreConfig, u_pos: torch.Tensor, u_neg: torch.Tensor) -> torch.Tensor:
    """Per-sample loss from positive and negative scores.

    Args:
        u_pos: (N,) scores z_pos . B c.
        u_neg: (N,) scores z_neg . B c.
    Returns:
        (N,) loss per sample, before the mean over the batch.
    """
    if score.f == "hinge":
        margin = 1.0 if score.margin is None else score.margin
        return F.relu(margin - u_pos) + F.relu(margin + u_neg)
    if score.f == "softhinge":
        margin = 1.0 if score.margin is None else score.margin
        return F.softplus(margin - u_pos) + F.softplus(margin + u_neg)
    if score.f == "logistic":
        threshold = 0.0 if score.threshold is None else score.threshold
        return F.softplus(threshold - u_pos) + F.softplus(u_neg - threshold)
    if score.f == "linear":
        return u_neg - u_pos
    if score.f == "phyll":
        theta = 1.0 if score.theta is None else score.theta
        return F.softplus(theta * (u_neg - u_pos))
    raise ValueError(f"score f={score.f!r} is not a pairwise score")


def infonce_loss(anchors: torch.Tensor, candidates: torch.Tensor, temperature: float):
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
