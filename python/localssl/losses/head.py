"""One contrastive head: the loss of one layer against one context (paper-spec 4.1).

The layer activity z and the context c are pooled (globally, or in k x k patches flattened with
channels, so that B can learn dependencies across positions), B maps the context onto z's space,
and the score function f compares the positive pair with a negative.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from localssl.config import PredictorConfig, ScoreConfig
from localssl.losses.scores import infonce_loss, pair_loss


def pool_flat(h: torch.Tensor, kernel: int | None) -> torch.Tensor:
    """Average-pool in kernel x kernel patches (None: over the whole map), flatten channel-major.

    Args:
        h: (N, C, H, W) activity.
    Returns:
        (N, C * (H // k) * (W // k)), or (N, C) for global pooling.
    """
    if kernel is None:
        return h.mean(dim=(2, 3))
    return F.avg_pool2d(h, kernel).flatten(1)


def pooled_dim(shape: tuple[int, int, int], kernel: int | None) -> int:
    """Length of `pool_flat`'s output for an activity of shape (C, H, W)."""
    channels, height, width = shape
    return channels if kernel is None else channels * (height // kernel) * (width // kernel)


def make_predictor(spec: PredictorConfig, dim_c: int, dim_z: int) -> nn.Module:
    """B as a module mapping (N, dim_c) contexts to (N, dim_z) predictions."""
    if spec.kind == "trainable":
        return nn.Linear(dim_c, dim_z, bias=False)
    if spec.kind == "low-rank":
        rank = spec.rank or 1
        return nn.Sequential(nn.Linear(dim_c, rank, bias=False), nn.Linear(rank, dim_z, bias=False))
    if spec.kind == "identity":
        if dim_c != dim_z:
            raise ValueError(f"identity B needs equal dimensions, got context {dim_c} -> {dim_z}")
        return nn.Identity()
    fixed = nn.Linear(dim_c, dim_z, bias=False)
    fixed.weight.requires_grad_(False)
    return fixed


@dataclass
class HeadOutput:
    """The loss of one head and its mean scores (detached), for logging."""

    loss: torch.Tensor
    u_pos: torch.Tensor
    u_neg: torch.Tensor


class ContrastiveHead(nn.Module):
    """Loss of one layer's activity z against a context c through B.

    Args:
        z_shape, c_shape: (C, H, W) of the layer activity and of the context activity.
        z_kernel, c_kernel: pooling kernels (None: global average).
        predictor: which B.
        score: which f.
        decay: L2 penalty coefficient on B's trainable weights.
    """

    def __init__(
        self,
        z_shape: tuple[int, int, int],
        c_shape: tuple[int, int, int],
        z_kernel: int | None,
        c_kernel: int | None,
        predictor: PredictorConfig,
        score: ScoreConfig,
        decay: float,
    ) -> None:
        super().__init__()
        self.z_kernel, self.c_kernel = z_kernel, c_kernel
        self.dim_z, self.dim_c = pooled_dim(z_shape, z_kernel), pooled_dim(c_shape, c_kernel)
        self.predictor = make_predictor(predictor, self.dim_c, self.dim_z)
        self.score = score
        self.decay = decay

    def forward(self, z: torch.Tensor, c: torch.Tensor, negatives: torch.Tensor) -> HeadOutput:
        """Loss on a stacked batch of two views.

        Args:
            z: (2B, C, H, W) activity of [view 1; view 2] at this layer.
            c: (2B, C', H', W') context activity, rows in the same order (detach it before
                calling for a local rule).
            negatives: (2B,) index of the negative of each row among the positives.
        Returns:
            The mean loss over the 2B rows, plus the B penalty.
        """
        rz, rc = pool_flat(z, self.z_kernel), pool_flat(c, self.c_kernel)
        half = rz.shape[0] // 2

        if self.score.f == "infonce":
            # A projection shared by both views; view 1 anchors against all view-2 candidates.
            anchors, candidates = self.predictor(rz[:half]), self.predictor(rc[half:])
            temperature = self.score.temperature or 0.1
            loss = infonce_loss(anchors, candidates, temperature).mean()
            u_pos = u_neg = torch.full((), float("nan"), device=loss.device)
        else:
            # Row i is predicted from its own context; its positive is the other view of the
            # same image, its negative the positive of another row.
            z_pos = torch.cat([rz[half:], rz[:half]])
            z_neg = z_pos[negatives]
            prediction = self.predictor(rc)
            u_pos_t = (z_pos * prediction).sum(dim=1)
            u_neg_t = (z_neg * prediction).sum(dim=1)
            loss = pair_loss(self.score, u_pos_t, u_neg_t).mean()
            # Kept as tensors: converting here would force a device sync on every step.
            u_pos, u_neg = u_pos_t.detach().mean(), u_neg_t.detach().mean()

        if self.decay > 0:
            penalty = sum((p**2).sum() for p in self.predictor.parameters() if p.requires_grad)
            loss = loss + 0.5 * self.decay * penalty
        return HeadOutput(loss=loss, u_pos=u_pos, u_neg=u_neg)
