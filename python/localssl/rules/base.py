"""What every rule family provides to the objective, and the random draws of one step."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import torch
from torch import nn

from localssl.models.vgg import VGGEncoder

# Activity of each layer by index (N, C_l, H_l, W_l); index -1 is the encoder's input.
Activities = Mapping[int, torch.Tensor]


@dataclass
class Draw:
    """The random choices of one step, drawn before any forward pass so that both schedules (and
    the explicit-rule tests) see exactly the same ones.

    Attributes:
        negatives: (rows,) index of each row's negative (or SCFF partner) among the rows.
        extra: rule-specific draws, e.g. CLAPP 2021's per-step negatives and pos/neg choice.
    """

    negatives: torch.Tensor
    extra: dict[str, torch.Tensor] = field(default_factory=dict)


def nan_like(x: torch.Tensor) -> torch.Tensor:
    """A NaN scalar on x's device and dtype: the loss of a layer that has none."""
    return torch.full((), float("nan"), device=x.device, dtype=x.dtype)


class RuleFamily(nn.Module):
    """A learning rule's per-layer losses; holds the rule's own weights (B matrices).

    Attributes:
        num_layers: encoder layers.
        local: every layer learns from its own loss only (inputs and contexts detached).
        schedule: "detach" (one forward, all losses summed) or "layerwise" (update and free one
            layer at a time); both give the same update.
        context_layers: per layer, the other layers (beyond itself and its input) its loss
            reads; a `layerwise` step computes those first.
    """

    num_layers: int
    local: bool
    schedule: str
    context_layers: list[list[int]]

    def draw(self, x: torch.Tensor, gen: torch.Generator) -> Draw:
        """Every random choice of one step for the batch `x` (2B, C, H, W) = [view 1; view 2]."""
        raise NotImplementedError

    def encoder_input(self, x: torch.Tensor) -> torch.Tensor:
        """What the encoder runs on, from the stacked views (2B, C, H, W)."""
        return x

    def has_loss(self, layer: int) -> bool:
        """Whether `layer` carries a loss of its own."""
        raise NotImplementedError

    def layer_loss(
        self, layer: int, acts: Activities, draw: Draw, encoder: VGGEncoder
    ) -> torch.Tensor | None:
        """The scalar loss of one layer, or None if it has none.

        Args:
            acts: activities by layer; `layer`, `layer - 1` and `context_layers[layer]` are read.
            encoder: the encoder, for rules that run a layer again (forward-forward negatives).
        """
        raise NotImplementedError

    def head_parameters(self, layer: int) -> list[nn.Parameter]:
        """The trainable B weights of one layer's loss."""
        raise NotImplementedError
