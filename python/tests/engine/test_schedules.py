"""The memory-saving `layerwise` schedule gives exactly the `detach` schedule's update."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from .helpers import LOCAL_RULES, build, views


def gradients(rule, x: torch.Tensor) -> tuple[dict[str, torch.Tensor], list[float]]:
    encoder, objective = build(rule)
    stats = objective.backward(encoder, x, torch.Generator().manual_seed(7))
    named = {f"encoder.{k}": p for k, p in encoder.named_parameters()}
    named.update({f"objective.{k}": p for k, p in objective.named_parameters()})
    grads = {k: p.grad.clone() for k, p in named.items() if p.grad is not None}
    return grads, [float(loss) for loss in stats.layer_losses]


@pytest.mark.parametrize("name", list(LOCAL_RULES))
def test_layerwise_equals_detach(name: str) -> None:
    rule = LOCAL_RULES[name]
    x = views()
    detach, detach_losses = gradients(dataclasses.replace(rule, schedule="detach"), x)
    layerwise, layerwise_losses = gradients(dataclasses.replace(rule, schedule="layerwise"), x)
    assert detach.keys() == layerwise.keys()
    assert len(detach) >= 12  # every conv weight and bias at least
    for key, grad in detach.items():
        torch.testing.assert_close(layerwise[key], grad, rtol=0, atol=1e-6, msg=key)
    assert layerwise_losses == pytest.approx(detach_losses, abs=1e-6)
