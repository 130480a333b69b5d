"""Validate a dataset on disk: layout, file sizes, image counts, labels and (full) md5s.

`check_dataset` never raises for a broken dataset: it returns a report whose `errors` say, one
line each, which file is wrong and how ("stl10_binary/train_y.bin: 4999 bytes, expected 5000").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localssl.data import cifar10, stl10, tiny_imagenet
from localssl.data.checksums import OFFICIAL, Expected, md5_problem
from localssl.data.errors import DatasetError

log = logging.getLogger(__name__)

MAX_ERRORS = 50


@dataclass
class Findings:
    """What a check found; `report()` turns it into the dict `check_dataset` returns."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    md5_verified: list[str] = field(default_factory=list)
    bad_files: set[str] = field(default_factory=set)
    folder: str | None = None
    layout: str | None = None

    def attempt(self, step: Callable[[], Any]) -> Any:
        """`step()`, or None with its DatasetError recorded."""
        try:
            return step()
        except DatasetError as exc:
            self.errors.append(str(exc))
            return None

    def md5(self, folder: Path, table: Mapping[str, str]) -> None:
        """Compare every file of `table` (name -> md5) in `folder`."""
        for name, digest in table.items():
            path = folder / name
            if not path.is_file() or name in self.bad_files:
                continue  # already reported missing or of the wrong size
            log.info("md5 of %s", path)
            problem = md5_problem(path, name, digest)
            if problem:
                self.errors.append(problem)
            else:
                self.md5_verified.append(name)


Checker = Callable[[Path, bool, "Expected | None", Findings], None]


def _check_cifar10(root: Path, full: bool, expected: Expected | None, found: Findings) -> None:
    layout = cifar10.locate(root)
    found.folder, found.layout = str(layout.folder), layout.fmt
    exp = expected or OFFICIAL[f"cifar10-{layout.fmt}"]
    reader = cifar10.read_binary_batch if layout.fmt == "binary" else cifar10.read_python_batch
    for split in cifar10.SPLITS:
        files = layout.files(split)
        per_file = exp.counts[split] // len(files)
        total = 0
        for path in files:
            rel = layout.rel(path)
            if not path.is_file():
                found.errors.append(f"{rel}: missing")
                continue
            size, want = path.stat().st_size, per_file * cifar10.RECORD
            if layout.fmt == "binary" and size != want:
                # The size says it all; read on only if whole records remain, for the counts.
                found.errors.append(f"{rel}: {size} bytes, expected {want}")
                found.bad_files.add(path.name)
                if size % cifar10.RECORD:
                    continue
            batch = found.attempt(lambda p=path, r=rel: reader(p, r))
            if batch is None:
                found.bad_files.add(path.name)
                continue
            total += len(batch[1])
            if len(batch[1]) != per_file and layout.fmt == "python":
                found.errors.append(f"{rel}: {len(batch[1])} images, expected {per_file}")
                found.bad_files.add(path.name)
        found.counts[split] = total
    meta = layout.meta_file()
    if meta.is_file():
        found.attempt(lambda: cifar10.read_classes(layout))
    else:
        found.errors.append(f"{layout.rel(meta)}: missing")
    if full and exp.md5:
        found.md5(layout.folder, exp.md5)
    elif full:
        found.warnings.append(
            f"{layout.folder.name}: no published per-file md5s for this layout; "
            "the archive md5 (checked by download) covers it"
        )


def _check_stl10(root: Path, full: bool, expected: Expected | None, found: Findings) -> None:
    folder = stl10.locate(root)
    found.folder, found.layout = str(folder), "binary"
    exp = expected or OFFICIAL["stl10"]
    for split in stl10.SPLITS:
        count = exp.counts[split]
        files = [(stl10.image_file(folder, split), count * stl10.IMAGE_BYTES)]
        if split in stl10.LABELED:
            files.append((stl10.label_file(folder, split), count))
        sizes_ok = True
        for path, want in files:
            rel = f"{stl10.FOLDER}/{path.name}"
            if not path.is_file():
                found.errors.append(f"{rel}: missing")
                sizes_ok = False
            elif path.stat().st_size != want:
                found.errors.append(f"{rel}: {path.stat().st_size} bytes, expected {want}")
                found.bad_files.add(path.name)
                sizes_ok = False
        if sizes_ok:
            found.counts[split] = count
            if split in stl10.LABELED:
                found.attempt(lambda s=split, n=count: stl10.read_labels(folder, s, n))
    found.attempt(lambda: stl10.read_classes(folder))
    if not (folder / "class_names.txt").is_file():
        found.errors.append(f"{stl10.FOLDER}/class_names.txt: missing")
    found.attempt(lambda: stl10.read_folds(folder, exp.counts["train"]))
    if full:
        found.md5(folder, exp.md5)


def _check_tiny(root: Path, full: bool, expected: Expected | None, found: Findings) -> None:
    folder = tiny_imagenet.locate(root)
    found.folder, found.layout = str(folder), "jpeg"
    exp = expected or OFFICIAL["tiny-imagenet"]
    wnids = found.attempt(lambda: tiny_imagenet.read_wnids(folder))
    if wnids is None:
        return
    top = folder.name
    if len(wnids) != exp.num_classes:
        found.errors.append(f"{top}/wnids.txt: {len(wnids)} wnids, expected {exp.num_classes}")
    if not (folder / "words.txt").is_file():
        found.warnings.append(f"{top}/words.txt: missing (class names are not needed to train)")
    paths: list[Path] = []
    per_class = exp.counts["train"] // exp.num_classes
    train = folder / "train"
    extra = sorted(p.name for p in train.iterdir() if p.is_dir()) if train.is_dir() else []
    found.errors += [f"{top}/train/{w}: not in wnids.txt" for w in extra if w not in wnids]
    for wnid in wnids:
        images = found.attempt(lambda w=wnid: tiny_imagenet.images_in(folder, train / w / "images"))
        if images is not None:
            paths += images
            if len(images) != per_class:
                where = f"{top}/train/{wnid}/images"
                found.errors.append(f"{where}: {len(images)} images, expected {per_class}")
    found.counts["train"] = len(paths)
    _check_tiny_val(folder, wnids, exp, found, paths)
    test = found.attempt(lambda: tiny_imagenet.images_in(folder, folder / "test" / "images"))
    if test is not None:
        paths += test
        found.counts["test"] = len(test)
        if len(test) != exp.counts["test"]:
            found.errors.append(
                f"{top}/test/images: {len(test)} images, expected {exp.counts['test']}"
            )
    if full:
        _decode_every(folder, paths, found)


def _check_tiny_val(
    folder: Path, wnids: tuple[str, ...], exp: Expected, found: Findings, paths: list[Path]
) -> None:
    top = folder.name
    annotations = folder / "val" / "val_annotations.txt"
    if not annotations.is_file():
        found.errors.append(f"{top}/val/val_annotations.txt: missing")
        return
    items = found.attempt(lambda: tiny_imagenet.read_val_annotations(folder, wnids))
    if items is None:
        return
    listed = [p for p, _ in items]
    paths += listed
    found.counts["val"] = len(listed)
    if len(set(listed)) != len(listed):
        found.errors.append(f"{top}/val/val_annotations.txt: some images are listed twice")
    if len(listed) != exp.counts["val"]:
        found.errors.append(
            f"{top}/val/val_annotations.txt: {len(listed)} images, expected {exp.counts['val']}"
        )
    per_class = exp.counts["val"] // exp.num_classes
    counts = [0] * len(wnids)
    for _, label in items:
        counts[label] += 1
    found.errors += [
        f"{top}/val/val_annotations.txt: class {wnids[i]} has {n} images, expected {per_class}"
        for i, n in enumerate(counts)
        if n != per_class
    ]
    unlisted = set(tiny_imagenet.images_in(folder, folder / "val" / "images")) - set(listed)
    found.errors += [
        f"{tiny_imagenet.rel(folder, p)}: not listed in val/val_annotations.txt"
        for p in sorted(unlisted)
    ]


def _decode_every(folder: Path, paths: list[Path], found: Findings) -> None:
    log.info("decoding %d images to check them", len(paths))
    with ThreadPoolExecutor(4) as pool:
        for problem in pool.map(lambda p: _decode_problem(folder, p), paths):
            if problem:
                found.errors.append(problem)


def _decode_problem(folder: Path, path: Path) -> str | None:
    try:
        tiny_imagenet.decode(folder, path)
    except DatasetError as exc:
        return str(exc)
    return None


CHECKERS: dict[str, Checker] = {
    "cifar10": _check_cifar10,
    "stl10": _check_stl10,
    "tiny-imagenet": _check_tiny,
}


def check_dataset(
    name: str, root: str | Path, *, full: bool = False, expected: Expected | None = None
) -> dict[str, Any]:
    """Validate dataset `name` under `root` and report what is wrong.

    Args:
        full: also verify md5s (CIFAR-10 python, STL-10; STL-10 is 2.7 GB to hash) or decode
            every JPEG (Tiny ImageNet); off, only layout, sizes, counts and labels are checked.
        expected: counts and md5s to check against; the official ones when None.
    Returns:
        {"dataset", "root", "folder", "layout", "ok", "errors", "warnings", "counts",
         "md5_verified", "full"}; `ok` is True when `errors` is empty.
    """
    if name not in CHECKERS:
        raise DatasetError(f"no check for dataset {name!r}; known: {', '.join(sorted(CHECKERS))}")
    found = Findings()
    found.attempt(lambda: CHECKERS[name](Path(root), full, expected, found))
    errors = found.errors
    if len(errors) > MAX_ERRORS:
        errors = [*errors[:MAX_ERRORS], f"... and {len(errors) - MAX_ERRORS} more problems"]
    return {
        "dataset": name,
        "root": str(root),
        "folder": found.folder,
        "layout": found.layout,
        "ok": not found.errors,
        "errors": errors,
        "warnings": found.warnings,
        "counts": found.counts,
        "md5_verified": found.md5_verified,
        "full": full,
    }
