"""The unified contrastive rules on two augmented views (paper-spec 2, 4.1-4.7, 5.1).

CLAPP++ (same-layer context), CLAPP++DFB (top-layer context), CLAPP++both (the two summed, with
two B per layer), layer-wise InfoNCE, and their global versions (BP-CLAPP++, BP-InfoNCE) with one
head on the top layer.
"""

from __future__ import annotations

from typing import cast

import torch
from torch import nn
from typing_extensions import override

from localssl.config import ContrastiveRule
from localssl.losses.head import ContrastiveHead
from localssl.losses.pooling import layer_kernels
from localssl.models.vgg import VGGEncoder
from localssl.rules.base import Activities, Draw, RuleFamily
from localssl.rules.negatives import negative_index


def context_layers(rule: ContrastiveRule, num_layers: int) -> list[list[int]]:
    """Per layer, the layer each of its heads takes its context from (empty: no head)."""
    top = num_layers - 1
    if rule.gradient_flow == "global":
        return [[] for _ in range(top)] + [[top]]
    by_kind = {"same": lambda layer: [layer], "top": lambda _: [top],
               "both": lambda layer: [layer, top]}  # fmt: skip
    return [by_kind[rule.context or "same"](layer) for layer in range(num_layers)]


class ContrastiveFamily(RuleFamily):
    """Heads of the unified loss on the layers a contrastive rule trains.

    Args:
        rule: the contrastive rule.
        encoder: the network the heads read from (only its shapes are used).
        image_size: input side in px, to size the heads.
    """

    def __init__(self, rule: ContrastiveRule, encoder: VGGEncoder, image_size: int) -> None:
        super().__init__()
        self.rule = rule
        shapes = encoder.layer_shapes(image_size)
        self.num_layers = len(shapes)
        self.local = rule.gradient_flow == "local"
        self.schedule = (rule.schedule or "detach") if self.local else "detach"
        kernels = layer_kernels(rule.pooling, shapes)
        self.contexts = context_layers(rule, self.num_layers)
        self.context_layers = [[c for c in cs if c != layer] for layer, cs in
                               enumerate(self.contexts)]  # fmt: skip

        def head(layer: int, context: int) -> ContrastiveHead:
            where = f"layer {layer + 1} (context: layer {context + 1})"
            return ContrastiveHead(shapes[layer], shapes[context], kernels[layer],
                                   kernels[context], rule.predictor, rule.score,
                                   rule.predictor_decay, where)  # fmt: skip

        self.heads = nn.ModuleList(
            nn.ModuleList(head(layer, c) for c in contexts)
            for layer, contexts in enumerate(self.contexts)
        )
        # BP-InfoNCE trains both branches (paper-spec 4.6); every other rule treats the context
        # as a target.
        self.detach_context = self.local or rule.score.f != "infonce"

    @override
    def draw(self, x: torch.Tensor, gen: torch.Generator) -> Draw:
        """The negative of each of the 2B rows (paper-spec 4.1, step 4)."""
        return Draw(negative_index(x.shape[0], self.rule.negatives, gen))

    @override
    def has_loss(self, layer: int) -> bool:
        return len(self.contexts[layer]) > 0

    @override
    def layer_loss(
        self, layer: int, acts: Activities, draw: Draw, encoder: VGGEncoder
    ) -> torch.Tensor | None:
        """Sum of the head losses of one layer (two heads under context "both")."""
        heads = cast(nn.ModuleList, self.heads[layer])
        total: torch.Tensor | None = None
        for head, context in zip(heads, self.contexts[layer], strict=True):
            c = acts[context].detach() if self.detach_context else acts[context]
            loss = head(acts[layer], c, draw.negatives)
            total = loss if total is None else total + loss
        return total

    @override
    def head_parameters(self, layer: int) -> list[nn.Parameter]:
        return [p for p in self.heads[layer].parameters() if p.requires_grad]
