"""Which layers a loss reaches: local rules stay in their layer, DFB's top-layer context carries
nothing back, global rules reach every layer (paper-spec 2.3)."""

from __future__ import annotations

import pytest
import torch

from localssl.models.vgg import VGGEncoder
from localssl.objective import Objective

from .helpers import LOCAL_RULES, build, clapp2021, contrastive, views


def layer_grads(encoder: VGGEncoder) -> list[float]:
    """Largest |gradient| over each layer's weights (0 when none arrived)."""
    return [
        max((p.grad.abs().max().item() if p.grad is not None else 0.0) for p in layer.parameters())
        for layer in encoder.layers
    ]


def one_layer_loss(
    encoder: VGGEncoder, objective: Objective, layer: int, x: torch.Tensor
) -> torch.Tensor:
    """The loss of `layer` alone, on the rule's own forward graph (the `detach` schedule)."""
    draw = objective.family.draw(x, torch.Generator().manual_seed(0))
    loss = objective.losses(encoder, x, draw)[layer]
    assert loss is not None
    return loss


@pytest.mark.parametrize("name", list(LOCAL_RULES))
def test_local_loss_stays_in_its_layer(name: str) -> None:
    """No gradient from layer l+1's loss reaches layers 1..l (so none from any upper loss)."""
    encoder, objective = build(LOCAL_RULES[name])
    x = views()
    for layer in range(1, objective.num_layers):
        encoder.zero_grad(set_to_none=True)
        one_layer_loss(encoder, objective, layer, x).backward()
        grads = layer_grads(encoder)
        assert grads[:layer] == [0.0] * layer, f"loss of layer {layer + 1} reached {grads}"
        assert grads[layer] > 0, f"loss of layer {layer + 1} did not reach its own weights"


def test_clapp_pp_is_local_and_bp_clapp_pp_is_not() -> None:
    """CLAPP++: layer l+1's loss leaves layer l alone; BP-CLAPP++: the top loss trains all."""
    x = views()
    encoder, objective = build(contrastive())
    one_layer_loss(encoder, objective, 3, x).backward()
    assert layer_grads(encoder)[:3] == [0.0, 0.0, 0.0]

    encoder, objective = build(contrastive(flow="global"))
    objective.backward(encoder, x, torch.Generator().manual_seed(0))
    assert all(g > 0 for g in layer_grads(encoder)), layer_grads(encoder)


@pytest.mark.parametrize("context", ["top", "both"])
def test_dfb_context_carries_no_gradient(context: str) -> None:
    """Layer 1's loss reads the top layer as its context, yet no layer above 1 learns from it."""
    encoder, objective = build(contrastive(context=context))
    one_layer_loss(encoder, objective, 0, views()).backward()
    grads = layer_grads(encoder)
    assert grads[0] > 0
    assert grads[1:] == [0.0] * 5, grads


@pytest.mark.parametrize(
    "rule",
    [contrastive(flow="global"), contrastive(flow="global", f="infonce"), clapp2021(flow="global")],
    ids=["bp-clapp-pp", "bp-infonce", "hinge-loss-cpc"],
)
def test_global_rule_reaches_every_layer(rule) -> None:
    encoder, objective = build(rule)
    stats = objective.backward(encoder, views(), torch.Generator().manual_seed(0))
    assert all(g > 0 for g in layer_grads(encoder)), layer_grads(encoder)
    assert [torch.isnan(loss).item() for loss in stats.layer_losses] == [True] * 5 + [False]


def test_bp_infonce_trains_both_branches() -> None:
    """Without a detached context, view 2 alone carries gradient to the encoder too."""
    encoder, objective = build(contrastive(flow="global", f="infonce"))
    x = views().requires_grad_(True)
    draw = objective.family.draw(x, torch.Generator().manual_seed(0))
    loss = objective.losses(encoder, x, draw)[-1]
    assert loss is not None
    (grad,) = torch.autograd.grad(loss, x)
    half = len(x) // 2
    assert grad[:half].abs().sum() > 0 and grad[half:].abs().sum() > 0


def test_clapp_pp_context_is_a_target() -> None:
    """CLAPP++: the other view enters only as the (detached) context and as the positive."""
    encoder, objective = build(contrastive(pooling=contrastive().pooling))
    x = views()
    draw = objective.family.draw(x, torch.Generator().manual_seed(0))
    outputs = encoder(x, detach_inputs=True)
    acts = {-1: x, **dict(enumerate(outputs))}
    loss = objective.family.layer_loss(0, acts, draw, encoder)
    assert loss is not None
    (grad,) = torch.autograd.grad(loss, outputs[0])
    # Every row is some row's positive, so every row gets gradient, but only through z.
    assert (grad.flatten(1).abs().sum(1) > 0).all()
