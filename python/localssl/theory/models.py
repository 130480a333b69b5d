"""Feedforward networks of the theory lab: a bias-free MLP and the linear CNN of Figure 4b.

Both expose the same small interface: `forward(x, blocked)` returns the activity z^l of every
layer, and `weights` lists W^1..W^L in order. With `blocked=True` each layer's input is
detached, so a loss placed on layer l reaches only W^l (the local, gradient-blocked setting of
spec 2.3); with `blocked=False` the top-layer loss back-propagates through every layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Literal, Protocol, cast

import torch
from torch import nn

Init = Literal["orthogonal", "default"]
INITS: tuple[str, ...] = ("orthogonal", "default")


class LayeredNet(Protocol):
    """What the loss, optimum and gradient code needs from a network."""

    @property
    def weights(self) -> list[torch.Tensor]:
        """W^1..W^L in order (parameters)."""
        ...

    def __call__(self, x: torch.Tensor, blocked: bool) -> list[torch.Tensor]:
        """Activities z^1..z^L; `blocked` detaches each layer's input."""
        ...


def _check_init(init: str) -> None:
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")


class TheoryMLP(nn.Module):
    """Fully connected network z^l = ρ(W^l z^{l-1} + b^l), ρ the identity or ReLU.

    The activation is applied at every layer, the top one included, as in the theory code.
    With `init='orthogonal'` each W^l is drawn by `torch.nn.init.orthogonal_`: square layers are
    orthogonal, shrinking layers get orthonormal rows (semi-orthogonal), growing layers
    orthonormal columns. `init='default'` keeps PyTorch's `nn.Linear` initialisation.
    """

    def __init__(
        self,
        input_dim: int,
        widths: Sequence[int],
        relu: bool = False,
        bias: bool = False,
        init: Init = "orthogonal",
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        """Build the layers; every random draw uses `generator` when given.

        Args:
            input_dim: size of x (196 for a 14x14 MNIST patch).
            widths: output size of each layer, e.g. [128] * 6.
            relu: ReLU after every layer; otherwise the network is linear.
            bias: add a bias to every layer (Figure 3b).
            init: 'orthogonal' or 'default'.
            generator: seeded source of the initial weights.
            dtype: parameter dtype; orthogonality is exact only to its precision, so the
                theorem checks build float64 networks directly rather than converting.
        """
        super().__init__()
        _check_init(init)
        dims = [input_dim, *widths]
        layers = [nn.Linear(d_in, d_out, bias=bias, dtype=dtype) for d_in, d_out in pairwise(dims)]
        for layer in layers:
            _init_linear(layer, init, generator)
        self.layers = nn.ModuleList(layers)
        self.relu = relu

    @property
    def weights(self) -> list[torch.Tensor]:
        """W^1..W^L (parameters), each (d_l, d_{l-1})."""
        return [cast(nn.Linear, layer).weight for layer in self.layers]

    def forward(self, x: torch.Tensor, blocked: bool) -> list[torch.Tensor]:
        """Activities of every layer.

        Args:
            x: (N, D_in) input.
            blocked: detach each layer's input (local learning) or not (backprop).
        Returns:
            [z^1, ..., z^L], z^l of shape (N, d_l).
        """
        return run_layers(self.layers, x, blocked, self.relu)


class LinearCNN(nn.Module):
    """Bias-free stack of stride-2, kernel-2 convolutions without padding (Figure 4b).

    With 16x16 inputs the feature maps are 8x8, 4x4, 2x2 and 1x1. Because windows do not
    overlap, each layer applies one (C_out, C_in·4) matrix to every 2x2 block; orthogonal
    initialisation makes that matrix orthogonal when C_out = 4·C_in, semi-orthogonal otherwise.
    """

    def __init__(
        self,
        channels: Sequence[int] = (32, 32, 32, 32),
        in_channels: int = 1,
        relu: bool = False,
        init: Init = "orthogonal",
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        """Build the convolutions.

        Args:
            channels: output channels of each layer.
            in_channels: channels of the input image.
            relu: ReLU after every layer; the Figure 4b network is linear.
            init: 'orthogonal' or 'default'.
            generator: seeded source of the initial weights.
            dtype: parameter dtype (see `TheoryMLP`).
        """
        super().__init__()
        _check_init(init)
        dims = [in_channels, *channels]
        layers = [
            nn.Conv2d(c_in, c_out, kernel_size=2, stride=2, padding=0, bias=False, dtype=dtype)
            for c_in, c_out in pairwise(dims)
        ]
        for layer in layers:
            _init_linear(layer, init, generator)
        self.layers = nn.ModuleList(layers)
        self.relu = relu

    @property
    def weights(self) -> list[torch.Tensor]:
        """Conv kernels W^1..W^L (parameters), each (C_l, C_{l-1}, 2, 2)."""
        return [cast(nn.Conv2d, layer).weight for layer in self.layers]

    def forward(self, x: torch.Tensor, blocked: bool) -> list[torch.Tensor]:
        """Feature maps of every layer.

        Args:
            x: (N, C_in, H, W) images, H and W divisible by 2^L.
            blocked: detach each layer's input (local learning) or not (backprop).
        Returns:
            [z^1, ..., z^L], z^l of shape (N, C_l, H / 2^l, W / 2^l).
        """
        return run_layers(self.layers, x, blocked, self.relu)


def run_layers(
    layers: nn.ModuleList, x: torch.Tensor, blocked: bool, relu: bool
) -> list[torch.Tensor]:
    """Every layer's activity, each layer's input detached when `blocked` (local learning)."""
    activities = []
    z = x
    for layer in layers:
        z = layer(z.detach() if blocked else z)
        if relu:
            z = torch.relu(z)
        activities.append(z)
    return activities


def _init_linear(
    layer: nn.Linear | nn.Conv2d, init: str, generator: torch.Generator | None
) -> None:
    if init == "orthogonal":
        with torch.no_grad():
            nn.init.orthogonal_(layer.weight, generator=generator)
        return

    # Redraw PyTorch's default so the seed comes from `generator`, not the global state:
    # kaiming_uniform_(a=√5) is U(±1/√fan_in), and the bias uses the same bound.
    fan_in = layer.weight[0].numel()
    bound = 1.0 / fan_in**0.5
    with torch.no_grad():
        layer.weight.uniform_(-bound, bound, generator=generator)
        if layer.bias is not None:
            layer.bias.uniform_(-bound, bound, generator=generator)
