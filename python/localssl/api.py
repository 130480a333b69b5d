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
    from importlib.metadata import version

    import numpy
    import torch

    cuda = torch.cuda.is_available()
    return {
        "python": sys.executable,
        "python_version": platform.python_version(),
        "localssl_version": localssl.__version__,
        "schema_version": localssl.SCHEMA_VERSION,
        "torch_version": str(torch.__version__),
        "numpy_version": numpy.__version__,
        "safetensors_version": version("safetensors"),
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
    # The device context makes modules create their weights there too, instead of allocating
    # and initialising them on the CPU first (1.3 GB and seconds for CLAPP++both at full width).
    runtime = Runtime(torch.device("meta"), None, False, torch.get_num_threads())
    with torch.device("meta"):
        encoder = build_encoder(config, runtime)
        shapes = encoder.layer_shapes(config.data.image_size)
        objective = build_objective(config, encoder, runtime)
    return {
        "layer_shapes": [list(shape) for shape in shapes],
        "encoder_parameters": sum(p.numel() for p in encoder.parameters()),
        "head_parameters": sum(p.numel() for p in objective.parameters()),
        "probe_pools": probe_pools(config, shapes),
    }


def check_data(args: dict[str, Any]) -> dict[str, Any]:
    """Validate a dataset on disk (localssl.data.check.check_dataset).

    Args (JSON): dataset, root, full (bool, default False: layout, sizes, counts and labels; True
        adds md5s or decoding every JPEG), expected (optional {counts, md5, num_classes}; the
        official numbers when absent).
    """
    from localssl.data.check import check_dataset
    from localssl.data.checksums import Expected

    raw = args.get("expected")
    expected = None
    if raw is not None:
        expected = Expected(raw["counts"], raw.get("md5") or {}, raw.get("num_classes", 10))
    return check_dataset(args["dataset"], args["root"], full=bool(args.get("full", False)),
                         expected=expected)  # fmt: skip


def write_synthetic(args: dict[str, Any]) -> dict[str, Any]:
    """Write a small structured synthetic dataset in the real format (smoke-scale tables).

    Args (JSON): dataset ("cifar10", "cifar10-binary", "stl10", "tiny-imagenet"), root,
        images (size of the self-supervised split), seed.
    """
    from localssl.data.synthetic import write_synthetic as write

    return write(args["dataset"], args["root"], int(args.get("images", 80)),
                 int(args.get("seed", 0)))  # fmt: skip


BRIDGE_METHODS: dict[str, BridgeMethod] = {
    "doctor": doctor,
    "check_config": check_config,
    "check_data": check_data,
    "write_synthetic": write_synthetic,
}
