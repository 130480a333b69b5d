"""The paper's VGG-6 encoder: six trainable layers, each 3x3 conv + ReLU, some followed by 2x2 max
pooling; no normalisation layers (paper-spec 7.1)."""

from __future__ import annotations

import torch
from torch import nn

# Which of the six layers end with a 2x2 max-pool: [128] | [256, M] | [256] | [512, M] | ...
VGG6_MAXPOOL = (False, True, False, True, True, True)


def scaled_widths(widths: tuple[int, ...], multiplier: float) -> tuple[int, ...]:
    """Channel counts after the width multiplier, at least 1 each."""
    return tuple(max(1, round(w * multiplier)) for w in widths)


class VGGEncoder(nn.Module):
    """A stack of conv layers whose outputs are all returned, for per-layer losses and probes.

    Args:
        widths: output channels of each layer (already scaled).
        in_channels: 1 for grey images, 3 for colour.
        maxpool: per layer, whether a 2x2 max-pool follows the ReLU.
    """

    def __init__(
        self, widths: tuple[int, ...], in_channels: int, maxpool: tuple[bool, ...] = VGG6_MAXPOOL
    ) -> None:
        super().__init__()
        if len(widths) != len(maxpool):
            raise ValueError(f"{len(widths)} widths but {len(maxpool)} max-pool flags")
        layers: list[nn.Module] = []
        channels = in_channels
        for width, pool in zip(widths, maxpool, strict=True):
            block: list[nn.Module] = [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
            if pool:
                block.append(nn.MaxPool2d(2))
            layers.append(nn.Sequential(*block))
            channels = width
        self.layers = nn.ModuleList(layers)
        self.widths = widths
        self.in_channels = in_channels

    def forward(self, x: torch.Tensor, detach_inputs: bool = False) -> list[torch.Tensor]:
        """Run every layer.

        Args:
            x: (N, C_in, H, W) input images.
            detach_inputs: block the gradient at each layer's input (local learning).
        Returns:
            One (N, C_l, H_l, W_l) activity per layer, after ReLU and max-pool.
        """
        outputs = []
        h = x
        for layer in self.layers:
            h = layer(h.detach() if detach_inputs else h)
            outputs.append(h)
        return outputs

    def layer_shapes(self, image_size: int) -> list[tuple[int, int, int]]:
        """(C_l, H_l, W_l) of every layer's output for a square input of `image_size` px."""
        with torch.no_grad():
            probe = torch.zeros(1, self.in_channels, image_size, image_size,
                                device=next(self.parameters()).device)  # fmt: skip
            return [tuple(h.shape[1:]) for h in self(probe)]  # type: ignore[misc]
