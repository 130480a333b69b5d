"""A learning rule put together: which heads sit on which layers, and how gradients flow.

Local rules give every layer its own heads, with the layer input and the context detached, so no
gradient crosses layers. Global rules put one head on the top layer and backpropagate it through
the whole encoder. Two schedules compute the same local update: `detach` runs one forward pass and
sums all losses; `layerwise` updates layer by layer and frees each layer's graph before the next,
which lowers peak memory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from localssl.config import RuleConfig
from localssl.losses.head import ContrastiveHead, HeadOutput
from localssl.models.vgg import VGGEncoder


@dataclass
class StepStats:
    """Per-layer losses of one step (NaN for layers without a head), and their sum."""

    loss: torch.Tensor
    layer_losses: list[torch.Tensor]


def negative_index(rows: int, kind: str, gen: torch.Generator, device: torch.device):
    """Index of each row's negative among the 2B positives; never the same image.

    Row i's positive is image i mod B, so the offset o must avoid 0 and B.
    Returns:
        (2B,) int64.
    """
    half = rows // 2
    if half < 2:
        raise ValueError("contrastive rules need a batch of at least 2 images")
    base = torch.arange(rows, device=device)
    if kind == "next":
        return (base + 1) % rows
    offset = torch.randint(1, rows - 1, (rows,), generator=gen, device=device)
    offset = offset + (offset >= half).long()
    return (base + offset) % rows


class Objective(nn.Module):
    """The heads of a rule and the code that turns a batch of two views into gradients.

    Args:
        rule: the learning rule.
        encoder: the network the heads read from.
        image_size: input side in px, to size the heads.
    """

    def __init__(self, rule: RuleConfig, encoder: VGGEncoder, image_size: int) -> None:
        super().__init__()
        self.rule = rule
        shapes = encoder.layer_shapes(image_size)
        self.num_layers = len(shapes)
        kernels = self._kernels(rule, shapes)
        top = self.num_layers - 1

        def head(layer: int, context: int) -> ContrastiveHead:
            return ContrastiveHead(shapes[layer], shapes[context], kernels[layer],
                                   kernels[context], rule.predictor, rule.score,
                                   rule.predictor_decay)  # fmt: skip

        # context_layers[l] lists, per head of layer l, the layer its context comes from.
        self.context_layers: list[list[int]] = [[] for _ in shapes]
        if rule.gradient_flow == "global":
            self.context_layers[top] = [top]
        else:
            for layer in range(self.num_layers):
                by_kind = {"same": [layer], "top": [top], "both": [layer, top]}
                self.context_layers[layer] = by_kind[rule.context or "same"]
        self.heads = nn.ModuleList(
            nn.ModuleList(head(layer, c) for c in contexts)
            for layer, contexts in enumerate(self.context_layers)
        )

    @staticmethod
    def _kernels(rule: RuleConfig, shapes: list[tuple[int, int, int]]) -> list[int | None]:
        if rule.pooling.kind == "global" or rule.pooling.kernels is None:
            return [None] * len(shapes)
        kernels = list(rule.pooling.kernels)
        for layer, (kernel, (_, height, width)) in enumerate(zip(kernels, shapes, strict=True)):
            if kernel > min(height, width):
                raise ValueError(
                    f"rule.pooling.kernels.{layer}: kernel {kernel} is larger than layer "
                    f"{layer + 1}'s {height}x{width} map"
                )
        return list(kernels)

    @property
    def local(self) -> bool:
        return self.rule.gradient_flow == "local"

    def _detach_context(self) -> bool:
        # BP-InfoNCE trains both branches; every other rule treats the context as a target.
        return self.local or self.rule.score.f != "infonce"

    def layer_loss(
        self,
        layer: int,
        outputs: Sequence[torch.Tensor] | Mapping[int, torch.Tensor],
        negatives: torch.Tensor,
    ) -> torch.Tensor | None:
        """Sum of the head losses of one layer, or None if the layer has no head.

        Args:
            outputs: activities (2B, C_l, H_l, W_l) by layer index; only `layer` and the layers
                its contexts come from are read.
        """
        heads: nn.ModuleList = self.heads[layer]  # type: ignore[assignment]
        if len(heads) == 0:
            return None
        total = None
        for head, context in zip(heads, self.context_layers[layer], strict=True):
            c = outputs[context].detach() if self._detach_context() else outputs[context]
            out: HeadOutput = head(outputs[layer], c, negatives)
            total = out.loss if total is None else total + out.loss
        return total

    def losses(
        self, encoder: VGGEncoder, x: torch.Tensor, negatives: torch.Tensor
    ) -> list[torch.Tensor | None]:
        """All layer losses after one forward pass (the `detach` schedule's graph).

        Args:
            x: (2B, C, H, W) normalised views, [view 1; view 2].
        """
        outputs = encoder(x, detach_inputs=self.local)
        return [self.layer_loss(layer, outputs, negatives) for layer in range(self.num_layers)]

    def backward(
        self, encoder: VGGEncoder, x: torch.Tensor, negatives: torch.Tensor
    ) -> StepStats:
        """Accumulate the rule's gradients into encoder and heads; the caller steps.

        Args:
            x: (2B, C, H, W) normalised views, [view 1; view 2].
            negatives: (2B,) from `negative_index`.
        """
        if self.local and self.rule.schedule == "layerwise":
            layer_losses = self._backward_layerwise(encoder, x, negatives)
        else:
            losses = self.losses(encoder, x, negatives)
            present = [loss for loss in losses if loss is not None]
            torch.stack(present).sum().backward()
            layer_losses = [
                loss.detach() if loss is not None else torch.full((), float("nan"), device=x.device)
                for loss in losses
            ]
        finite = [loss for loss in layer_losses if not torch.isnan(loss)]
        return StepStats(loss=torch.stack(finite).sum(), layer_losses=layer_losses)

    def _backward_layerwise(
        self, encoder: VGGEncoder, x: torch.Tensor, negatives: torch.Tensor
    ) -> list[torch.Tensor]:
        # Direct feedback needs the top layer of both views before any local loss.
        top = None
        if any(self.num_layers - 1 in c for c in self.context_layers[:-1]):
            with torch.no_grad():
                top = encoder(x)[-1]

        layer_losses: list[torch.Tensor] = []
        h = x
        for layer, module in enumerate(encoder.layers):
            h = module(h.detach())
            outputs = {layer: h}
            if top is not None and layer != self.num_layers - 1:
                outputs[self.num_layers - 1] = top
            loss = self.layer_loss(layer, outputs, negatives)
            loss.backward()  # type: ignore[union-attr]
            layer_losses.append(loss.detach())  # type: ignore[union-attr]

            # Free this layer's graph before the next layer runs.
            h = h.detach()
        return layer_losses
