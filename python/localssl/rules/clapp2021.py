"""CLAPP (Illing et al. 2021): predict the encoding of patch rows further down the same image
(paper-spec 6.3-6.6).

Each image (the first view of the batch) is cut into a grid of overlapping patches, every patch
is encoded on its own, and each layer's encoding is pooled per patch (globally, or in k x k
patches). For every step k = 1..K the context c at grid row y predicts the encoding z at row
y + k + skip (the adjacent, overlapping row is skipped), same column, through its own matrix B_k:
u = z . B_k c (the code's c^T W_k z with B_k = W_k^T). The negative is another image's encoding
at the same grid position, one image drawn per image and step.

- Either positive or negative: each image takes only its positive or only its negative term,
  with probability 1/2, drawn per layer and per path (the code's `which_update`); the loss is
  the mean positive term over "positive" images plus the mean negative term over the others.
- Asymmetric W_pred: L = l(z, sg(c); B_k) + l(sg(z), c; R_k), a prediction path training the
  predicted patch and a retrodiction path with its own matrices training the context, so no
  weight is transported. Symmetric (CLAPP-s): one B_k and the gradient reaches z and c.
- Deviation from the 2021 code: its random negative could be the image itself (probability 1/B);
  here it never is.
"""

from __future__ import annotations

from typing import cast

import torch
from torch import nn
from typing_extensions import override

from localssl.config import Clapp2021Rule
from localssl.losses.pooling import layer_kernels, pool_flat, pooled_dim
from localssl.losses.predictor import make_predictor, predictor_penalty
from localssl.losses.scores import TYPE_2, pair_loss, pair_terms
from localssl.models.vgg import VGGEncoder
from localssl.rules.base import Activities, Draw, RuleFamily
from localssl.rules.negatives import other_image
from localssl.rules.patches import grid_side, patchify


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of `values` (B,) where `mask` (B,) holds; 0 for an empty selection (the code skips
    it), computed without reading the mask on the host, which would sync the device."""
    weights = mask.to(values.dtype)
    return (values * weights).sum() / weights.sum().clamp(min=1)


class Clapp2021Family(RuleFamily):
    """Prediction (and retrodiction) matrices of every layer that learns, one per step k.

    Args:
        rule: the CLAPP 2021 rule.
        encoder: the patch encoder (only its shapes are used).
        image_size: side in px of the image the grid is cut from.
    """

    def __init__(self, rule: Clapp2021Rule, encoder: VGGEncoder, image_size: int) -> None:
        super().__init__()
        self.rule = rule
        self.rows = grid_side(image_size, rule.patch_size, rule.patch_stride)
        shapes = encoder.layer_shapes(rule.patch_size)
        self.kernels = layer_kernels(rule.pooling, shapes, what="the patch encoding of layer")
        self.num_layers = len(shapes)
        self.local = rule.gradient_flow == "local"
        self.schedule = rule.schedule
        self.context_layers = [[] for _ in shapes]
        self.paths = 2 if rule.asymmetric else 1
        self.learning = [self.local or layer == self.num_layers - 1 for layer in range(len(shapes))]

        def matrices(layer: int) -> nn.ModuleList:
            if not self.learning[layer]:
                return nn.ModuleList()
            dim = pooled_dim(shapes[layer], self.kernels[layer])
            where = f"layer {layer + 1}"
            steps = range(rule.prediction_steps)
            return nn.ModuleList(
                nn.ModuleList(make_predictor(rule.predictor, dim, dim, where) for _ in steps)
                for _ in range(self.paths)
            )

        # predictors[layer][path][k - 1]; path 0 predicts, path 1 (asymmetric) retrodicts.
        self.predictors = nn.ModuleList(matrices(layer) for layer in range(len(shapes)))

    @override
    def draw(self, x: torch.Tensor, gen: torch.Generator) -> Draw:
        """Negatives per layer, path and step; pos-or-neg choice per layer, path and image."""
        images, rule = x.shape[0] // 2, self.rule
        shape = (self.num_layers, self.paths, rule.prediction_steps)
        negatives = torch.stack([other_image(images, rule.negatives, gen)
                                 for _ in range(shape[0] * shape[1] * shape[2])])  # fmt: skip
        positive = torch.rand(self.num_layers, self.paths, images, generator=gen,
                              device=gen.device) < 0.5  # fmt: skip
        return Draw(negatives.view(*shape, images), {"positive": positive})

    @override
    def encoder_input(self, x: torch.Tensor) -> torch.Tensor:
        """The patches of the first view: (B * R * R, C, p, p)."""
        return patchify(x[: x.shape[0] // 2], self.rule.patch_size, self.rule.patch_stride)

    @override
    def has_loss(self, layer: int) -> bool:
        return self.learning[layer]

    def matrix(self, layer: int, path: int, k: int) -> nn.Module:
        """B_k of a layer: path 0 predicts, path 1 retrodicts (asymmetric only)."""
        paths = cast(nn.ModuleList, self.predictors[layer])
        return cast(nn.ModuleList, paths[path])[k - 1]

    def _term(
        self,
        z: torch.Tensor,
        c: torch.Tensor,
        matrix: nn.Module,
        negatives: torch.Tensor,
        positive: torch.Tensor,
    ) -> torch.Tensor:
        """Loss of one path and step.

        Args:
            z, c: (B, Y, R, D) predicted encodings and contexts, aligned by grid position.
            negatives: (B,) the image whose encoding is each image's negative.
            positive: (B,) whether an image takes its positive term (either-pos-or-neg).
        """
        prediction = matrix(c)
        u_pos = (z * prediction).sum(dim=-1)
        u_neg = (z[negatives] * prediction).sum(dim=-1)
        if self.rule.score.f not in TYPE_2:
            return pair_loss(self.rule.score, u_pos, u_neg).mean()
        pos_term, neg_term = pair_terms(self.rule.score, u_pos, u_neg)
        pos_i, neg_i = pos_term.mean(dim=(1, 2)), neg_term.mean(dim=(1, 2))
        if not self.rule.either_pos_or_neg:
            return (pos_i + neg_i).mean()
        return masked_mean(pos_i, positive) + masked_mean(neg_i, ~positive)

    @override
    def layer_loss(
        self, layer: int, acts: Activities, draw: Draw, encoder: VGGEncoder
    ) -> torch.Tensor | None:
        """Mean over the K steps of the prediction (plus retrodiction) losses of one layer."""
        if not self.learning[layer]:
            return None
        rule, rows = self.rule, self.rows
        pooled = pool_flat(acts[layer], self.kernels[layer])
        r = pooled.view(-1, rows, rows, pooled.shape[1])  # B, grid row, grid column, D
        positive = draw.extra["positive"][layer]
        total = torch.zeros((), device=r.device, dtype=r.dtype)
        for k in range(1, rule.prediction_steps + 1):
            ahead = k + rule.skip_rows
            c, z = r[:, :-ahead], r[:, ahead:]
            negatives = draw.negatives[layer, :, k - 1]
            if rule.asymmetric:
                total = total + self._term(z, c.detach(), self.matrix(layer, 0, k), negatives[0],
                                           positive[0])  # fmt: skip
                total = total + self._term(z.detach(), c, self.matrix(layer, 1, k), negatives[1],
                                           positive[1])  # fmt: skip
            else:
                total = total + self._term(z, c, self.matrix(layer, 0, k), negatives[0],
                                           positive[0])  # fmt: skip
        loss = total / rule.prediction_steps
        penalty = predictor_penalty(self.predictors[layer], rule.predictor_decay)
        return loss if penalty is None else loss + penalty

    @override
    def head_parameters(self, layer: int) -> list[nn.Parameter]:
        return [p for p in self.predictors[layer].parameters() if p.requires_grad]
