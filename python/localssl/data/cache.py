"""Decode-once cache of a split as uint8 `.npy` files, memory-mapped when loaded.

Per dataset and split the cache folder holds `<dataset>-<split>-<key>.images.npy` (N, C, H, W),
`.labels.npy` (N,) int64 when labeled, and `.json` (classes, shape). The key hashes the dataset,
split, options and each source file's relative path, size and mtime, so touching, replacing or
truncating a source gives a new key and a rebuild. Every file is written under a temporary name
and moved into place with os.replace, the `.json` last: a crash leaves either the old complete
entry or nothing that is read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from localssl.data.imageset import ImageSet

log = logging.getLogger(__name__)

CACHE_VERSION = 1
DEFAULT_DIRNAME = ".localssl-cache"
_CHUNK = 4096


def cache_key(
    dataset: str, split: str, root: Path, sources: Sequence[Path], extra: Mapping[str, Any]
) -> str:
    """16 hex digits naming one exact state of the source files."""
    digest = hashlib.sha256()
    head = {"v": CACHE_VERSION, "dataset": dataset, "split": split, "extra": dict(extra)}
    digest.update(json.dumps(head, sort_keys=True).encode())
    for path in sources:
        stat = path.stat()
        name = path.relative_to(root) if path.is_relative_to(root) else path
        digest.update(f"\n{name}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def _file(stem: Path, ext: str) -> Path:
    return stem.parent / f"{stem.name}.{ext}"


def _save_npy(array: np.ndarray, path: Path) -> None:
    with path.open("wb") as f:
        np.save(f, array)


def _read(stem: Path, key: str) -> ImageSet | None:
    meta_path = _file(stem, "json")
    if not meta_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("key") != key:
            return None
        # Copy-on-write: writable for torch, and the cache file is never modified.
        images = np.load(_file(stem, "images.npy"), mmap_mode="c")
        if list(images.shape) != meta["shape"] or images.dtype != np.uint8:
            raise ValueError(f"images {images.shape} {images.dtype}, meta says {meta['shape']}")
        labels = np.load(_file(stem, "labels.npy")) if meta["labeled"] else None
        return ImageSet(
            torch.from_numpy(images),
            None if labels is None else torch.from_numpy(labels),
            tuple(meta["classes"]),
        )
    except (OSError, ValueError, KeyError) as exc:
        log.warning("%s: unreadable cache entry, rebuilding (%s)", meta_path, exc)
        return None


def _replace_atomically(target: Path, write: Callable[[Path], object]) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _write_images(images: torch.Tensor, path: Path) -> None:
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=tuple(images.shape))
    # Chunks keep a memory-mapped source (STL-10 unlabeled, 2.76 GB) out of RAM.
    for start in range(0, len(images), _CHUNK):
        out[start : start + _CHUNK] = images[start : start + _CHUNK].contiguous().numpy()
    out.flush()
    del out


def _write(stem: Path, key: str, data: ImageSet) -> None:
    _replace_atomically(_file(stem, "images.npy"), lambda p: _write_images(data.images, p))
    if data.labels is not None:
        labels = data.labels.numpy()
        _replace_atomically(_file(stem, "labels.npy"), lambda p: _save_npy(labels, p))
    meta = {
        "key": key,
        "shape": list(data.images.shape),
        "labeled": data.labels is not None,
        "classes": list(data.classes),
    }
    text = json.dumps(meta, indent=1)
    _replace_atomically(_file(stem, "json"), lambda p: p.write_text(text, encoding="utf-8"))


def _remove_stale(folder: Path, prefix: str, keep: Path) -> None:
    for path in folder.glob(f"{prefix}*"):
        if not path.name.startswith(keep.name + ".") and not path.name.startswith("."):
            log.info("removing stale cache file %s", path)
            path.unlink(missing_ok=True)


def cached_load(
    dataset: str,
    split: str,
    root: Path,
    sources: Sequence[Path],
    build: Callable[[], ImageSet],
    cache_dir: Path | None = None,
    extra: Mapping[str, Any] | None = None,
) -> ImageSet:
    """The split from the cache when it matches `sources`, else `build()` written to the cache.

    Args:
        root: the dataset root; source paths are keyed relative to it.
        sources: every file `build` reads.
        build: decodes the split from the sources.
        cache_dir: where to cache; `<root>/.localssl-cache` when None.
        extra: options that change the result (e.g. a fold), part of the key.
    Returns:
        ImageSet whose images (N, C, H, W) uint8 are memory-mapped from the cache file.
    """
    root = Path(root)
    folder = Path(cache_dir) if cache_dir is not None else root / DEFAULT_DIRNAME
    key = cache_key(dataset, split, root, sources, extra or {})
    stem = folder / f"{dataset}-{split}-{key}"
    hit = _read(stem, key)
    if hit is not None:
        log.info("%s %s: loaded from cache %s", dataset, split, stem)
        return hit
    data = build()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write(stem, key, data)
    except OSError as exc:
        log.warning("%s: cannot write the cache, continuing without it (%s)", folder, exc)
        return data
    _remove_stale(folder, f"{dataset}-{split}-", stem)
    log.info("%s %s: decoded and cached in %s", dataset, split, stem)
    return _read(stem, key) or data
