"""Decode-once cache: hits, invalidation by source size/mtime, atomic writes."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from localssl.data import cache
from localssl.data.cache import cached_load
from localssl.data.imageset import ImageSet


class Builder:
    """Counts builds of a tiny split read from one source file."""

    def __init__(self, source: Path, labeled: bool = True) -> None:
        self.source, self.labeled, self.calls = source, labeled, 0

    def __call__(self) -> ImageSet:
        self.calls += 1
        raw = np.frombuffer(self.source.read_bytes(), dtype=np.uint8)
        images = torch.from_numpy(raw.reshape(-1, 1, 2, 2).copy())
        labels = torch.arange(len(images), dtype=torch.int64) if self.labeled else None
        return ImageSet(images, labels, ("a", "b"))


def _source(tmp_path: Path, count: int = 3) -> Path:
    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(4 * count)))
    return path


def _load(tmp_path: Path, build: Builder, **kw: object) -> ImageSet:
    sources = [build.source]
    return cached_load("toy", "train", tmp_path, sources, build, **kw)  # type: ignore[arg-type]


def test_second_load_is_a_hit_and_memory_mapped(tmp_path: Path) -> None:
    build = Builder(_source(tmp_path))
    first, second = _load(tmp_path, build), _load(tmp_path, build)
    assert build.calls == 1
    for data in (first, second):
        assert data.images.flatten().tolist() == list(range(12))
        assert data.labels is not None and data.labels.tolist() == [0, 1, 2]
        assert data.classes == ("a", "b")
    names = sorted(p.name for p in (tmp_path / ".localssl-cache").iterdir())
    stem = names[1].removesuffix(".json")
    assert names == [f"{stem}.images.npy", f"{stem}.json", f"{stem}.labels.npy"]
    images = np.load(tmp_path / ".localssl-cache" / names[0], mmap_mode="r")
    assert images.shape == (3, 1, 2, 2)


def test_changed_mtime_invalidates_and_stale_files_go(tmp_path: Path) -> None:
    source = _source(tmp_path)
    build = Builder(source)
    _load(tmp_path, build)
    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    _load(tmp_path, build)
    assert build.calls == 2
    assert len(list((tmp_path / ".localssl-cache").glob("*.json"))) == 1


def test_changed_size_invalidates(tmp_path: Path) -> None:
    source = _source(tmp_path)
    build = Builder(source)
    assert len(_load(tmp_path, build)) == 3
    stat = source.stat()
    source.write_bytes(bytes(range(8)))
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same mtime, other size
    assert len(_load(tmp_path, build)) == 2
    assert build.calls == 2


def test_extra_options_are_part_of_the_key(tmp_path: Path) -> None:
    build = Builder(_source(tmp_path))
    _load(tmp_path, build, extra={"fold": 1})
    _load(tmp_path, build, extra={"fold": 2})
    _load(tmp_path, build, extra={"fold": 2})
    assert build.calls == 2


def test_given_cache_dir_and_unlabeled(tmp_path: Path) -> None:
    build = Builder(_source(tmp_path), labeled=False)
    where = tmp_path / "elsewhere"
    _load(tmp_path, build, cache_dir=where)
    data = _load(tmp_path, build, cache_dir=where)
    assert build.calls == 1 and data.labels is None
    assert not (tmp_path / ".localssl-cache").exists()
    assert not list(where.glob("*.labels.npy"))


def test_corrupt_entry_is_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    build = Builder(_source(tmp_path))
    _load(tmp_path, build)
    (images,) = (tmp_path / ".localssl-cache").glob("*.images.npy")
    images.write_bytes(images.read_bytes()[:-4])
    with caplog.at_level(logging.WARNING):
        data = _load(tmp_path, build)
    assert build.calls == 2 and data.images.flatten().tolist() == list(range(12))
    assert "unreadable cache entry, rebuilding" in caplog.text


def test_crash_while_writing_leaves_no_partial_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    build = Builder(_source(tmp_path))

    def crash(_images: torch.Tensor, path: Path) -> None:
        path.write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(cache, "_write_images", crash)
    with caplog.at_level(logging.WARNING):
        data = _load(tmp_path, build)
    assert len(data) == 3  # the decoded split is still returned
    assert "cannot write the cache" in caplog.text
    assert list((tmp_path / ".localssl-cache").iterdir()) == []
    monkeypatch.undo()
    _load(tmp_path, build)
    _load(tmp_path, build)
    assert build.calls == 2


def test_unwritable_cache_dir_falls_back_to_no_cache(tmp_path: Path) -> None:
    build = Builder(_source(tmp_path))
    blocker = tmp_path / "file"
    blocker.write_text("")
    data = _load(tmp_path, build, cache_dir=blocker / "cache")
    assert len(data) == 3 and build.calls == 1
