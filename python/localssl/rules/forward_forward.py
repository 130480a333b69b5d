"""Forward-forward (Hinton 2022) with self-contrastive pairs (SCFF, Chen et al. 2025), in the
unified framework (paper-spec 2.4, 4.8).

- Score: the goodness u = ||r||^2 / D of the pooled activity r (D values), i.e. B = I / D and
  the sample as its own context (c = z). Dividing by D lets one threshold serve every layer.
- f: with `logistic`, loss = softplus(theta - u_pos) + softplus(u_neg - theta). The threshold is
  folded into the score (u - theta, then f(x) = softplus(-x)); that is the only placement for
  which the type 2 form gives Hinton's loss (paper-spec 4.8).
- Pairs: SCFF feeds a layer the concatenation of two inputs, [x, x] for a positive and [x, x']
  (two different images) for a negative. With the two halves of the weights tied that is the
  layer applied to x + x versus x + x'; here the halves are tied and the sum halved, so the
  positive is the plain forward pass of the image (the encoder that is probed is exactly the
  one that is trained) and the negative is the layer applied to (x + x') / 2.
- Every hidden layer reads the length-normalised (unit-RMS) activity of the layer below, so it
  cannot reuse the goodness of that layer; the encoder applies this in every forward pass.
"""

from __future__ import annotations

import logging

import torch
from torch import nn
from typing_extensions import override

from localssl.config import ForwardForwardRule
from localssl.losses.pooling import layer_kernels, pool_flat
from localssl.losses.scores import pair_loss
from localssl.models.vgg import VGGEncoder
from localssl.rules.base import Activities, Draw, RuleFamily
from localssl.rules.negatives import negative_index

log = logging.getLogger(__name__)


def goodness(h: torch.Tensor, kernel: int | None) -> torch.Tensor:
    """Mean square of the pooled activity, (N, C, H, W) -> (N,)."""
    return pool_flat(h, kernel).pow(2).mean(dim=1)


class ForwardForwardFamily(RuleFamily):
    """Per-layer goodness losses on self-contrastive pairs; no weights of its own (B = I).

    Args:
        rule: the forward-forward rule.
        encoder: the network; its `input_norm` is set from the rule, because the normalisation
            between layers is part of the network this rule trains.
        image_size: input side in px.
    """

    def __init__(self, rule: ForwardForwardRule, encoder: VGGEncoder, image_size: int) -> None:
        super().__init__()
        self.rule = rule
        # Normally built so already (objective.encoder_input_norm); set here as well so that an
        # encoder built without it still trains the rule it is given.
        if encoder.input_norm != rule.normalize_inputs:
            log.debug("forward-forward: encoder input_norm set to %s", rule.normalize_inputs)
            encoder.input_norm = rule.normalize_inputs
        shapes = encoder.layer_shapes(image_size)
        self.kernels = layer_kernels(rule.pooling, shapes)
        self.num_layers = len(shapes)
        self.local = True
        self.schedule = rule.schedule
        self.context_layers = [[] for _ in shapes]

    @override
    def draw(self, x: torch.Tensor, gen: torch.Generator) -> Draw:
        """The partner of each row in its negative pair: another image, never itself."""
        return Draw(negative_index(x.shape[0], self.rule.negatives, gen))

    @override
    def has_loss(self, layer: int) -> bool:
        return True

    @override
    def layer_loss(
        self, layer: int, acts: Activities, draw: Draw, encoder: VGGEncoder
    ) -> torch.Tensor:
        """Goodness loss of the positive (the image with itself) against the negative (the image
        mixed with its partner), both through this layer only."""
        below = encoder.layer_input(layer, acts[layer - 1], detach=True)
        mixed = 0.5 * (below + below[draw.negatives])
        z_neg = encoder.layers[layer](mixed)
        kernel = self.kernels[layer]
        u_pos, u_neg = goodness(acts[layer], kernel), goodness(z_neg, kernel)
        return pair_loss(self.rule.score, u_pos, u_neg).mean()

    @override
    def head_parameters(self, layer: int) -> list[nn.Parameter]:
        return []
