"""One contrastive head: the loss of one layer against one context (paper-spec 4.1).

The layer activity z and the context c are pooled (globally, or in k x k patches flattened with
channels, so that B can learn dependencies across positions), B maps the context onto z's space,
and the score function f compares the positive pair with a negative.
"""

from __future__ import annotations

import torch
from torch import nn

from localssl.config import PredictorConfig, ScoreConfig
from localssl.losses.pooling import pool_flat, pooled_dim
from localssl.losses.predictor import make_predictor, predictor_penalty
from localssl.losses.scores import infonce_loss, pair_loss

__all__ = ["ContrastiveHead", "pool_flat", "pooled_dim"]


class ContrastiveHead(nn.Module):
    """Loss of one layer's activity z against a context c through B.

    Args:
        z_shape, c_shape: (C, H, W) of the layer activity and of the context activity.
        z_kernel, c_kernel: pooling kernels (None: global average).
        predictor: which B.
        score: which f.
        decay: L2 penalty coefficient on B's trainable weights.
        where: what this head reads, for error messages (e.g. "layer 2 (context: layer 6)").
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
        where: str,
    ) -> None:
        super().__init__()
        self.z_kernel, self.c_kernel = z_kernel, c_kernel
        self.dim_z, self.dim_c = pooled_dim(z_shape, z_kernel), pooled_dim(c_shape, c_kernel)
        self.predictor = make_predictor(predictor, self.dim_c, self.dim_z, where)
        self.score = score
        self.decay = decay

    def forward(self, z: torch.Tensor, c: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
        """Loss on a stacked batch of two views.

        Args:
            z: (2B, C, H, W) activity of [view 1; view 2] at this layer.
            c: (2B, C', H', W') context activity, rows in the same order (detach it before
                calling for a local rule).
            negatives: (2B,) index of the negative of each row among the positives.
        Returns:
            The mean loss over the rows, plus the B penalty; a scalar.
        """
        rz, rc = pool_flat(z, self.z_kernel), pool_flat(c, self.c_kernel)
        half = rz.shape[0] // 2

        if self.score.f == "infonce":
            # A projection shared by both views; view 1 anchors against all view-2 candidates,
            # so every other image of the batch is a negative and `negatives` is not used.
            anchors, candidates = self.predictor(rz[:half]), self.predictor(rc[half:])
            temperature = 0.1 if self.score.temperature is None else self.score.temperature
            loss = infonce_loss(anchors, candidates, temperature).mean()
        else:
            # Row i is predicted from its own context; its positive is the other view of the
            # same image, its negative the positive of another row (another image).
            z_pos = torch.cat([rz[half:], rz[:half]])
            z_neg = z_pos[negatives]
            prediction = self.predictor(rc)
            u_pos = (z_pos * prediction).sum(dim=1)
            u_neg = (z_neg * prediction).sum(dim=1)
            loss = pair_loss(self.score, u_pos, u_neg).mean()

        penalty = predictor_penalty(self.predictor, self.decay)
        return loss if penalty is None else loss + penalty
