"""The cosine helper, the 95 % interval, and gradient blocking between layers."""

from __future__ import annotations

import math

import pytest
import torch

from localssl.theory.gradients import bp_gradients, cosine, local_gradients, mean_ci
from localssl.theory.loss import LossSpec, direct_feedback, layer_losses, random_b, same_layer
from localssl.theory.models import LinearCNN, TheoryMLP

from .helpers import two_view_batch, two_view_images


def test_cosine_of_hand_made_vectors() -> None:
    a = torch.tensor([1.0, 0.0, 0.0])
    assert cosine(a, torch.tensor([0.0, 2.0, 0.0])) == 0.0
    assert cosine(a, 3 * a) == pytest.approx(1.0)
    assert cosine(a, -a) == pytest.approx(-1.0)
    assert cosine(torch.tensor([1.0, 1.0]), torch.tensor([1.0, 0.0])) == pytest.approx(
        1 / math.sqrt(2)
    )
    # Matrices are compared flattened.
    assert cosine(torch.eye(2), torch.tensor([[1.0, 1.0], [0.0, 1.0]])) == pytest.approx(
        2 / math.sqrt(6)
    )
    assert math.isnan(cosine(torch.zeros(3), a))


def test_mean_and_95_interval() -> None:
    mean, half = mean_ci([1.0, 2.0, 3.0])
    assert mean == pytest.approx(2.0)
    assert half == pytest.approx(1.96 * 1.0 / math.sqrt(3))  # sample std of 1, 2, 3 is 1
    assert mean_ci([0.5]) == (0.5, 0.0)
    assert mean_ci([1.0, math.nan, 3.0])[0] == pytest.approx(2.0)


@pytest.mark.parametrize("fb", ["same", "dfb"])
def test_local_gradient_of_a_layer_ignores_the_losses_above(fb: str) -> None:
    net = TheoryMLP(12, [10, 8, 6], relu=True, generator=torch.Generator().manual_seed(0))
    x = two_view_batch(8, 12, seed=1).float()
    spec = LossSpec("logsig", 0.01, same_layer(3) if fb == "same" else direct_feedback(3))
    shapes = [(2, [10, 8, 6][k], w) for k, w in zip(spec.fb_idx, [10, 8, 6], strict=True)]
    bs = random_b(shapes, torch.Generator().manual_seed(2))

    losses = layer_losses(net(x, blocked=True), bs, spec)
    for upper in range(1, 3):
        for lower in range(upper):
            (grad,) = torch.autograd.grad(
                losses[upper], net.weights[lower], retain_graph=True, allow_unused=True
            )
            assert grad is None or not grad.any()

    # The summed backward of local_gradients equals each layer's own loss gradient.
    local_w, _ = local_gradients(net, x, bs, spec)
    for layer, loss in enumerate(losses):
        (own,) = torch.autograd.grad(loss, net.weights[layer], retain_graph=True)
        torch.testing.assert_close(local_w[layer], own)


def test_bp_gradient_reaches_every_layer_and_local_differs() -> None:
    net = TheoryMLP(12, [10, 8, 6], relu=True, generator=torch.Generator().manual_seed(0))
    x = two_view_batch(8, 12, seed=1).float()
    spec = LossSpec("logsig", 0.01, same_layer(3))
    bs = random_b([(2, w, w) for w in (10, 8, 6)], torch.Generator().manual_seed(2))
    bp_w, bp_err = bp_gradients(net, x, bs[-1], spec)
    local_w, local_err = local_gradients(net, x, bs, spec)
    assert all(g.abs().sum() > 0 for g in bp_w)
    torch.testing.assert_close(local_w[-1], bp_w[-1])  # the top layer is the same loss
    torch.testing.assert_close(local_err[-1], bp_err[-1])
    assert cosine(local_w[0], bp_w[0]) < 0.99


def test_cnn_error_signals_have_the_feature_map_shape() -> None:
    net = LinearCNN((4, 8, 8, 8), generator=torch.Generator().manual_seed(0))
    x = two_view_images(4, 16, seed=3).float()
    spec = LossSpec("logsig", 0.02, same_layer(4), (2, 1, 1, 1))
    dims = [4 * 4 * 4, 8 * 4 * 4, 8 * 2 * 2, 8]
    bs = random_b([(2, d, d) for d in dims], torch.Generator().manual_seed(1))
    _, local_err = local_gradients(net, x, bs, spec)
    assert [tuple(e.shape) for e in local_err] == [
        (8, 4, 8, 8),
        (8, 8, 4, 4),
        (8, 8, 2, 2),
        (8, 8, 1, 1),
    ]
