"""The matrix B^l of the unified loss, mapping a pooled context onto the layer's representation
space (paper-spec 2.2; the code's `W_pred`, paper-spec 14)."""

from __future__ import annotations

import torch
from torch import nn

from localssl.config import PredictorConfig


def make_predictor(spec: PredictorConfig, dim_c: int, dim_z: int, where: str) -> nn.Module:
    """B as a module mapping (N, dim_c) contexts to (N, dim_z) predictions, without bias.

    Args:
        where: what the head reads, for the message of an impossible identity B.
    Raises:
        ValueError naming `rule.predictor` when an identity B joins spaces of different sizes.
    """
    if spec.kind == "trainable":
        return nn.Linear(dim_c, dim_z, bias=False)
    if spec.kind == "low-rank":
        if spec.rank is None:
            raise ValueError("rule.predictor.rank: a low-rank B needs a rank")
        return nn.Sequential(nn.Linear(dim_c, spec.rank, bias=False),
                             nn.Linear(spec.rank, dim_z, bias=False))  # fmt: skip
    if spec.kind == "identity":
        if dim_c != dim_z:
            raise ValueError(
                f"rule.predictor: an identity B needs the context and the representation to "
                f"have the same pooled size, but {where} has a context of {dim_c} values and a "
                f"representation of {dim_z}; use a trainable or fixed-random B"
            )
        return nn.Identity()
    fixed = nn.Linear(dim_c, dim_z, bias=False)
    fixed.weight.requires_grad_(False)
    return fixed


def predictor_penalty(predictor: nn.Module, decay: float) -> torch.Tensor | None:
    """decay/2 * squared Frobenius norm of B's trainable weights (the code's `pred_decay`), or
    None when there is nothing to penalise."""
    weights = [p for p in predictor.parameters() if p.requires_grad]
    if decay <= 0 or not weights:
        return None
    return 0.5 * decay * torch.stack([p.pow(2).sum() for p in weights]).sum()
