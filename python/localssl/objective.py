"""A learning rule put together: which losses sit on which layers, and how gradients flow.

The rule family (rules/) defines each layer's loss. This module turns those losses into gradients:

- local rules detach every layer's input (and the context), so no gradient crosses layers; two
  schedules compute the same update: `detach` runs one forward pass and sums all losses,
  `layerwise` updates layer by layer and frees each layer's graph before the next runs, which
  lowers peak memory (paper-spec 5.2, 12.5);
- global rules put their loss on the top layer and backpropagate it end to end;
- `predictorTraining: match-bp` is the analysis mode of paper-spec 5.3 (rules/match_bp.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from localssl.config import Clapp2021Rule, ContrastiveRule, ForwardForwardRule, RuleConfig
from localssl.models.vgg import VGGEncoder
from localssl.rules.base import Draw, RuleFamily, nan_like
from localssl.rules.checks import check_rule
from localssl.rules.clapp2021 import Clapp2021Family
from localssl.rules.contrastive import ContrastiveFamily
from localssl.rules.forward_forward import ForwardForwardFamily
from localssl.rules.match_bp import match_bp_backward
from localssl.rules.negatives import negative_index

__all__ = ["Objective", "StepStats", "encoder_input_norm", "make_family", "negative_index"]


@dataclass
class StepStats:
    """Per-layer losses of one step (NaN for layers without a loss), and their sum.

    Attributes:
        match_errors: under match-bp, E^l per layer (NaN for the top); None otherwise.
    """

    loss: torch.Tensor
    layer_losses: list[torch.Tensor]
    match_errors: list[torch.Tensor] | None = None

    def log_fields(self) -> dict[str, list[float]]:
        """Extra fields for a step event (reading them syncs the device)."""
        if self.match_errors is None:
            return {}
        return {"match_errors": [float(e) for e in self.match_errors]}


def encoder_input_norm(rule: RuleConfig) -> bool:
    """Whether the rule's network length-normalises each hidden layer's input (forward-forward):
    part of the encoder, so the probe must build it the same way (`VGGEncoder(input_norm=...)`)."""
    return isinstance(rule, ForwardForwardRule) and rule.normalize_inputs


def make_family(rule: RuleConfig, encoder: VGGEncoder, image_size: int) -> RuleFamily:
    """The rule family of a rule config, after refusing contradictory settings.

    Raises:
        ValueError naming the config key, for a combination that makes no sense.
    """
    check_rule(rule, encoder.in_channels, image_size)
    if isinstance(rule, ContrastiveRule):
        return ContrastiveFamily(rule, encoder, image_size)
    if isinstance(rule, ForwardForwardRule):
        return ForwardForwardFamily(rule, encoder, image_size)
    if isinstance(rule, Clapp2021Rule):
        return Clapp2021Family(rule, encoder, image_size)
    raise ValueError(f"rule.kind: unknown rule {rule!r}")


class Objective(nn.Module):
    """The rule's weights and the code that turns a batch of two views into gradients.

    Args:
        rule: the learning rule.
        encoder: the network the rule trains (forward-forward sets its input normalisation).
        image_size: input side in px, to size the heads.
    """

    def __init__(self, rule: RuleConfig, encoder: VGGEncoder, image_size: int) -> None:
        super().__init__()
        self.rule = rule
        self.family = make_family(rule, encoder, image_size)
        self.num_layers = self.family.num_layers

    @property
    def local(self) -> bool:
        return self.family.local

    @property
    def analysis_mode(self) -> bool:
        """True when the run analyses B (match-bp) instead of training with a learning rule."""
        return getattr(self.rule, "predictor_training", None) == "match-bp"

    def losses(self, encoder: VGGEncoder, x: torch.Tensor, draw: Draw) -> list[torch.Tensor | None]:
        """All layer losses after one forward pass (the `detach` schedule's graph).

        Args:
            x: (2B, C, H, W) normalised views, [view 1; view 2].
        """
        inputs = self.family.encoder_input(x)
        outputs = encoder(inputs, detach_inputs=self.local)
        acts = {-1: inputs, **dict(enumerate(outputs))}
        return [self.family.layer_loss(layer, acts, draw, encoder)
                for layer in range(self.num_layers)]  # fmt: skip

    def backward(self, encoder: VGGEncoder, x: torch.Tensor, gen: torch.Generator) -> StepStats:
        """Draw the step's negatives and accumulate the rule's gradients into the encoder and the
        rule's weights; the caller steps the optimizer.

        Args:
            x: (2B, C, H, W) normalised views, [view 1; view 2].
            gen: generator for every random choice of the rule (on x's device).
        """
        draw = self.family.draw(x, gen)
        match_errors = None
        if self.analysis_mode:
            inputs = self.family.encoder_input(x)
            layer_losses, match_errors = match_bp_backward(self.family, encoder, inputs, draw)
        elif self.local and self.family.schedule == "layerwise":
            layer_losses = self._backward_layerwise(encoder, x, draw)
        else:
            losses = self.losses(encoder, x, draw)
            torch.stack([loss for loss in losses if loss is not None]).sum().backward()
            layer_losses = [loss.detach() if loss is not None else nan_like(x)
                            for loss in losses]  # fmt: skip
        # nansum skips the layers without a loss without reading them on the host.
        return StepStats(torch.stack(layer_losses).nansum(), layer_losses, match_errors)

    def _backward_layerwise(
        self, encoder: VGGEncoder, x: torch.Tensor, draw: Draw
    ) -> list[torch.Tensor]:
        inputs = self.family.encoder_input(x)
        # Contexts from other layers (the top layer, for direct feedback) are needed before any
        # local loss; they are targets, so no graph is kept for them.
        wanted = {c for contexts in self.family.context_layers for c in contexts}
        early: dict[int, torch.Tensor] = {}
        if wanted:
            with torch.no_grad():
                outputs = encoder(inputs)
            early = {layer: outputs[layer] for layer in wanted}
            del outputs

        layer_losses: list[torch.Tensor] = []
        below = inputs
        for layer in range(self.num_layers):
            h = encoder.run_layer(layer, below, detach=True)
            acts = {**early, layer - 1: below, layer: h}
            loss = self.family.layer_loss(layer, acts, draw, encoder)
            if loss is None:
                layer_losses.append(nan_like(x))
            else:
                loss.backward()
                layer_losses.append(loss.detach())
            # Only the activity, not this layer's graph, goes on to the next layer.
            below = h.detach()
        return layer_losses
