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


def rms_normalize(h: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Scale each sample to unit root-mean-square activity over all its units.

    Forward-forward's length normalisation: the next layer sees the direction of the activity,
    not its length, so it cannot reuse the goodness (mean square) of the layer below.
    Unit RMS (length sqrt(D)) rather than unit length keeps the inputs O(1) per unit.

    Args:
        h: (N, C, H, W) activity.
    Returns:
        (N, C, H, W), each row with mean(h^2) = 1 (rows of zeros stay zero).
    """
    rms = h.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt()
    return h / (rms + eps)


class VGGEncoder(nn.Module):
    """A stack of conv layers whose outputs are all returned, for per-layer losses and probes.

    Args:
        widths: output channels of each layer (already scaled).
        in_channels: 1 for grey images, 3 for colour.
        maxpool: per layer, whether a 2x2 max-pool follows the ReLU.
        input_norm: length-normalise every hidden layer's input (forward-forward).
    """

    def __init__(
        self,
        widths: tuple[int, ...],
        in_channels: int,
        maxpool: tuple[bool, ...] = VGG6_MAXPOOL,
        input_norm: bool = False,
    ) -> None:
        super().__init__()
        if len(widths) != len(maxpool):
            raise ValueError(f"{len(widths)} widths but {len(maxpool)} max-pool flags")
        layers: list[nn.Module] = []
        channels = in_channels
        for width, pool in zip(widths, maxpool, strict=True):
            # In place: the conv's backward needs its input, not its output, so the ReLU can
            # overwrite the conv output and every rule keeps one map fewer per layer.
            block: list[nn.Module] = [nn.Conv2d(channels, width, 3, padding=1),
                                      nn.ReLU(inplace=True)]  # fmt: skip
            if pool:
                block.append(nn.MaxPool2d(2))
            layers.append(nn.Sequential(*block))
            channels = width
        self.layers = nn.ModuleList(layers)
        self.widths = widths
        self.in_channels = in_channels
        self.input_norm = input_norm

    def layer_input(self, layer: int, below: torch.Tensor, detach: bool = False) -> torch.Tensor:
        """What layer `layer` reads: the image for layer 0, else the activity below, normalised
        if `input_norm` and detached if asked (local learning).

        Args:
            below: (N, C_{l-1}, H, W) activity of the layer below, or the (N, C_in, H, W) input.
        """
        h = below.detach() if detach else below
        return rms_normalize(h) if self.input_norm and layer > 0 else h

    def run_layer(self, layer: int, below: torch.Tensor, detach: bool = False) -> torch.Tensor:
        """One layer's activity (N, C_l, H_l, W_l) from the activity below (see `layer_input`)."""
        return self.layers[layer](self.layer_input(layer, below, detach))

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
        for layer in range(len(self.layers)):
            h = self.run_layer(layer, h, detach_inputs)
            outputs.append(h)
        return outputs

    def layer_shapes(self, image_size: int) -> list[tuple[int, int, int]]:
        """(C_l, H_l, W_l) of every layer's output for a square input of `image_size` px."""
        with torch.no_grad():
            probe = torch.zeros(1, self.in_channels, image_size, image_size,
                                device=next(self.parameters()).device)  # fmt: skip
            return [tuple(h.shape[1:]) for h in self(probe)]  # type: ignore[misc]
