"""Analysis mode "B trained to match backprop" (paper-spec 5.3, the code's `train_fb_with_grad`).

Not a learning rule: it asks how close a local rule can get to backprop when its B^l are chosen
for that purpose. Each B^l below the top is trained to minimise

    E^l = || dL^L/dh^l - dL^l/dh^l ||^2 / || dL^L/dh^l ||^2,

the distance between the layer's local error signal and the error signal backprop would send it
from the top layer's loss L^L, where h^l is the layer's activity. As in the official theory
run (paper-spec 5.3, Figure 3b), the encoder keeps learning from its local losses and the top
B^L from its own loss; only the gradients of the lower B^l are replaced by those of E^l.
"""

from __future__ import annotations

import torch

from localssl.models.vgg import VGGEncoder
from localssl.rules.base import Draw, RuleFamily, nan_like

# Below this squared norm the backprop signal is treated as absent rather than divided by.
_TINY = 1e-20


def match_bp_backward(
    family: RuleFamily, encoder: VGGEncoder, inputs: torch.Tensor, draw: Draw
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Accumulate the local update of the encoder and top B, and the matching update of the
    lower B^l.

    Args:
        inputs: (N, C, H, W) what the encoder runs on.
    Returns:
        The local loss of every layer, and E^l of every layer (NaN for the top), all detached.
    """
    top = family.num_layers - 1

    # The rule's own update, with the gradient blocked at every layer's input.
    outputs = encoder(inputs, detach_inputs=True)
    acts = {-1: inputs, **dict(enumerate(outputs))}
    losses = [family.layer_loss(layer, acts, draw, encoder) for layer in range(top + 1)]
    present = [loss for loss in losses if loss is not None]
    torch.stack(present).sum().backward()

    # The error signals, on one end-to-end graph; the heads see the same activities.
    outputs = encoder(inputs)
    acts = {-1: inputs, **dict(enumerate(outputs))}
    top_loss = family.layer_loss(top, acts, draw, encoder)
    if top_loss is None:
        raise ValueError("rule.predictorTraining: match-bp needs a loss on the top layer")
    targets = torch.autograd.grad(top_loss, outputs[:top], retain_graph=True, allow_unused=True)

    errors: list[torch.Tensor] = []
    for layer in range(top):
        params = family.head_parameters(layer)
        local = family.layer_loss(layer, acts, draw, encoder)
        target = targets[layer]
        if local is None or not params or target is None:
            errors.append(nan_like(inputs))
            continue
        (signal,) = torch.autograd.grad(local, outputs[layer], create_graph=True)
        error = (signal - target).pow(2).sum() / target.pow(2).sum().clamp(min=_TINY)
        grads = torch.autograd.grad(error, params, allow_unused=True)
        for param, grad in zip(params, grads, strict=True):
            param.grad = torch.zeros_like(param) if grad is None else grad.detach()
        errors.append(error.detach())
    errors.append(nan_like(inputs))

    layer_losses = [loss.detach() if loss is not None else nan_like(inputs) for loss in losses]
    return layer_losses, errors
