"""The short calls the TypeScript library makes through the bridge (see bridge.py).

Each method takes a dict of JSON arguments and returns plain data; anything that runs longer
than a few seconds is a job (cli.py) instead.
"""

from __future__ import annotations

import os
import platform
import sys
from typing import Any

import localssl
from localssl.bridge import BridgeMethod


def doctor(_args: dict[str, Any]) -> dict[str, Any]:
    """What this interpreter can do: versions, CUDA, device, threads."""
    import numpy
    import safetensors
    import torch

    cuda = torch.cuda.is_available()
    return {
        "python": sys.executable,
        "python_version": platform.python_version(),
        "localssl_version": localssl.__version__,
        "schema_version": localssl.SCHEMA_VERSION,
        "torch_version": str(torch.__version__),
        "numpy_version": numpy.__version__,
        "safetensors_version": safetensors.__version__,
        "cuda_available": cuda,
        "cuda_version": torch.version.cuda,
        "device_name": torch.cuda.get_device_name(0) if cuda else platform.processor() or "cpu",
        "device_count": torch.cuda.device_count() if cuda else 0,
        "bf16_supported": bool(cuda and torch.cuda.is_bf16_supported()),
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
    }


def check_config(args: dict[str, Any]) -> dict[str, Any]:
    """Build the model a resolved config describes, on the CPU, and report its shapes.

    Catches what the schema cannot: pool kernels larger than a layer's map, an identity B between
    layers of different widths, a schema version this engine does not know.
    """
    import torch

    from localssl.build import build_encoder, build_objective
    from localssl.config import config_from_dict
    from localssl.device import Runtime
    from localssl.probe import probe_pools

    config = config_from_dict(args["config"])

    # On the meta device nothing is allocated, so even full-width B matrices cost no memory.
    runtime = Runtime(torch.device("meta"), None, False, torch.get_num_threads())
    encoder = build_encoder(config, runtime)
    shapes = encoder.layer_shapes(config.data.image_size)
    objective = build_objective(config, encoder, runtime)
    return {
        "layer_shapes": [list(shape) for shape in shapes],
        "encoder_parameters": sum(p.numel() for p in encoder.parameters()),
        "head_parameters": sum(p.numel() for p in objective.parameters()),
        "probe_pools": probe_pools(config, shapes),
    }


BRIDGE_METHODS: dict[str, BridgeMethod] = {
    "doctor": doctor,
    "check_config": check_config,
}
