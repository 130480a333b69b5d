"""Official md5 checksums, expected sizes of the benchmark datasets, and file hashing.

Per-file md5s are the ones torchvision checks; archive md5s are the ones the dataset authors
publish (CIFAR: https://www.cs.toronto.edu/~kriz/cifar.html) or that every public loader uses
(Tiny ImageNet). The CIFAR-10 binary version has no published per-file md5s, so only its archive
md5 and its record sizes are checked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

CHUNK = 1 << 20

CIFAR10_PYTHON_MD5: Mapping[str, str] = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}

STL10_MD5: Mapping[str, str] = {
    "train_X.bin": "918c2871b30a85fa023e0c44e0bee87f",
    "train_y.bin": "5a34089d4802c674881badbb80307741",
    "unlabeled_X.bin": "5242ba1fed5e4be9e1e742405eb56ca4",
    "test_X.bin": "7f263ba9f9e0b06b93213547f721ac82",
    "test_y.bin": "36f9794fa4beb8a2c72628de14fa638e",
}

ARCHIVE_MD5: Mapping[str, str] = {
    "cifar-10-python.tar.gz": "c58f30108f718f92721af3b95e74349a",
    "cifar-10-binary.tar.gz": "c32a1d4ab5d03f1284b67883e8d87530",
    "stl10_binary.tar.gz": "91f7769df0f17e558f3565bffb0c7dfb",
    "tiny-imagenet-200.zip": "90528d7ca1a48142e341f4ef8d21d0de",
}


@dataclass(frozen=True)
class Expected:
    """What a complete copy of one dataset layout holds; tests pass their own for fake files.

    Attributes:
        counts: images per split, e.g. {"train": 50000, "test": 10000}.
        md5: file name inside the dataset folder -> md5 hex digest; empty when none is published.
        num_classes: number of classes.
    """

    counts: Mapping[str, int]
    md5: Mapping[str, str] = field(default_factory=dict)
    num_classes: int = 10


OFFICIAL: Mapping[str, Expected] = {
    "cifar10-python": Expected({"train": 50000, "test": 10000}, CIFAR10_PYTHON_MD5),
    "cifar10-binary": Expected({"train": 50000, "test": 10000}),
    "stl10": Expected({"train": 5000, "test": 8000, "unlabeled": 100000}, STL10_MD5),
    "tiny-imagenet": Expected({"train": 100000, "val": 10000, "test": 10000}, num_classes=200),
}


def md5_file(path: Path, progress: Callable[[int, int], None] | None = None) -> str:
    """Hex md5 of a file, read in 1 MiB chunks; `progress(done_bytes, total_bytes)` per chunk."""
    digest = hashlib.md5(usedforsecurity=False)
    total = path.stat().st_size
    done = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    return digest.hexdigest()


def md5_problem(path: Path, name: str, expected: str) -> str | None:
    """None when `path` has md5 `expected`, else the message that says what differs."""
    got = md5_file(path)
    if got == expected:
        return None
    return f"md5 mismatch for {name}: got {got}, expected {expected}"
