"""Build the encoder and the rule's heads from a config."""

from __future__ import annotations

import torch

from localssl.config import Config
from localssl.device import Runtime
from localssl.models.vgg import VGGEncoder, scaled_widths
from localssl.objective import Objective, encoder_input_norm


def build_encoder(config: Config, runtime: Runtime) -> VGGEncoder:
    """The VGG-6 encoder at the config's width, on the runtime's device."""
    widths = scaled_widths(config.model.widths, config.model.width_multiplier)
    encoder = VGGEncoder(
        widths, config.model.in_channels, input_norm=encoder_input_norm(config.rule)
    ).to(runtime.device)
    if runtime.channels_last:
        encoder = encoder.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    return encoder


def build_objective(config: Config, encoder: VGGEncoder, runtime: Runtime) -> Objective:
    """The heads of the config's rule, sized for the encoder at the config's image size."""
    return Objective(config.rule, encoder, config.data.image_size).to(runtime.device)
