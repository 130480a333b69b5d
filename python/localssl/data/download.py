"""Download, verify and extract the official dataset archives, resumably and atomically.

The archive is fetched into `<root>/<archive>.part`, resumed with an HTTP Range request after an
interruption, md5-checked, renamed to `<root>/<archive>`, then extracted into a hidden temporary
folder under `root` and moved to its final name with one rename, so the dataset folder either
exists complete or not at all. Members with absolute paths, `..` parts, links or devices are
refused. Only urllib is used.
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from localssl.data.checksums import ARCHIVE_MD5, CHUNK, md5_file
from localssl.data.errors import DatasetError

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int | None], None]
"""`progress(stage, done, total)`: stage "download" or "verify" (bytes) or "extract" (members);
total is None when unknown."""


@dataclass(frozen=True)
class Archive:
    """One official archive: `url` = base + filename; it unpacks to the folder `folder`."""

    filename: str
    base_url: str
    folder: str

    @property
    def url(self) -> str:
        """The official download address."""
        return self.base_url + self.filename


ARCHIVES: dict[str, Archive] = {
    "cifar10": Archive(
        "cifar-10-python.tar.gz", "https://www.cs.toronto.edu/~kriz/", "cifar-10-batches-py"
    ),
    "cifar10-binary": Archive(
        "cifar-10-binary.tar.gz", "https://www.cs.toronto.edu/~kriz/", "cifar-10-batches-bin"
    ),
    "stl10": Archive(
        "stl10_binary.tar.gz", "http://ai.stanford.edu/~acoates/stl10/", "stl10_binary"
    ),
    "tiny-imagenet": Archive(
        "tiny-imagenet-200.zip", "http://cs231n.stanford.edu/", "tiny-imagenet-200"
    ),
}


def _report(progress: Progress | None, stage: str, done: int, total: int | None) -> None:
    if progress is not None:
        progress(stage, done, total)


def _fetch_once(url: str, part: Path, progress: Progress | None, timeout: float) -> None:
    start = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": "localssl"}
    if start:
        headers["Range"] = f"bytes={start}-"
    try:
        response = urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=timeout
        )
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start:
            return  # nothing left past `start`: the part is whole, the md5 will tell
        raise
    with response:
        total = response.headers.get("Content-Length")
        total = int(total) if total is not None else None
        match = re.fullmatch(r"bytes (\d+)-\d+/(\d+|\*)", response.headers.get("Content-Range", ""))
        if start and response.status == 206 and match and int(match[1]) == start:
            mode = "ab"
            log.info("%s: resuming at byte %d", url, start)
            total = int(match[2]) if match[2] != "*" else None
        else:
            if start:
                log.info("%s: the server ignored the Range request, starting over", url)
            start, mode = 0, "wb"
        done = start
        with part.open(mode) as out:
            while chunk := response.read(CHUNK):
                out.write(chunk)
                done += len(chunk)
                _report(progress, "download", done, total)
    if total is not None and done < total:
        raise ConnectionError(f"connection closed at byte {done} of {total}")


def _fetch(url: str, part: Path, progress: Progress | None, retries: int, timeout: float) -> None:
    for attempt in range(retries + 1):
        try:
            _fetch_once(url, part, progress, timeout)
            return
        except urllib.error.HTTPError as exc:
            raise DatasetError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
        except (OSError, http.client.HTTPException) as exc:
            have = part.stat().st_size if part.exists() else 0
            if attempt == retries:
                raise DatasetError(
                    f"{url}: download interrupted at byte {have} ({exc}); "
                    f"run again to resume from {part.name}"
                ) from exc
            log.warning("%s: interrupted at byte %d (%s), resuming", url, have, exc)


def _target(dest: Path, name: str, archive: str) -> Path:
    """Where member `name` goes under `dest`; DatasetError for any path that could escape."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if not parts or name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
        raise DatasetError(f"{archive}: unsafe member path {name!r}, refusing to extract")
    return dest.joinpath(*parts)


def _write_member(source: IO[bytes], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        shutil.copyfileobj(source, out, CHUNK)


def _extract_tar(path: Path, dest: Path, progress: Progress | None) -> None:
    with tarfile.open(path, "r:*") as archive:
        for count, member in enumerate(archive, start=1):
            target = _target(dest, member.name, path.name)
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            elif member.isfile():
                source = archive.extractfile(member)
                if source is None:
                    raise DatasetError(f"{path.name}: cannot read member {member.name!r}")
                with source:
                    _write_member(source, target)
            else:
                raise DatasetError(
                    f"{path.name}: member {member.name!r} is a link or device, refusing to extract"
                )
            _report(progress, "extract", count, None)


def _extract_zip(path: Path, dest: Path, progress: Progress | None) -> None:
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        for count, info in enumerate(members, start=1):
            target = _target(dest, info.filename, path.name)
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise DatasetError(f"{path.name}: member {info.filename!r} is a symlink, refusing")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            else:
                with archive.open(info) as source:
                    _write_member(source, target)
            _report(progress, "extract", count, len(members))


def extract(path: Path, root: Path, folder: str, progress: Progress | None = None) -> Path:
    """Unpack `path` (.tar.gz or .zip) and move its top folder `folder` to `root/folder` in one
    rename; on any failure nothing is left under that name."""
    final = root / folder
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".{folder}.extracting-"))
    try:
        if zipfile.is_zipfile(path):
            _extract_zip(path, tmp, progress)
        else:
            try:
                _extract_tar(path, tmp, progress)
            except (tarfile.TarError, EOFError, OSError) as exc:
                raise DatasetError(
                    f"{path.name}: not a readable tar or zip archive ({exc})"
                ) from exc
        if not (tmp / folder).is_dir():
            raise DatasetError(f"{path.name}: no top-level folder {folder}/ in the archive")
        os.rename(tmp / folder, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def download_dataset(
    name: str,
    root: str | Path,
    *,
    base_url: str | None = None,
    progress: Progress | None = None,
    md5: str | None = None,
    keep_archive: bool = False,
    retries: int = 3,
    timeout: float = 60.0,
) -> Path:
    """Download, verify and extract dataset `name` ("cifar10", "cifar10-binary", "stl10",
    "tiny-imagenet") under `root`; returns the dataset folder. Does nothing if it exists.

    Args:
        base_url: replaces the official base address (the archive name is appended).
        progress: called as progress(stage, done, total); see `Progress`.
        md5: expected archive md5; the official one when None.
        keep_archive: keep `<root>/<archive>` after extraction.
        retries: resumed attempts after an interrupted transfer before giving up.
    """
    if name not in ARCHIVES:
        raise DatasetError(
            f"no download for dataset {name!r}; known: {', '.join(sorted(ARCHIVES))}"
        )
    archive = ARCHIVES[name]
    root = Path(root)
    final = root / archive.folder
    if final.exists():
        log.info("%s: already present, nothing to download", final)
        return final
    root.mkdir(parents=True, exist_ok=True)
    expected = md5 or ARCHIVE_MD5[archive.filename]
    path = root / archive.filename
    part = root / f"{archive.filename}.part"

    def verify(file: Path) -> str:
        return md5_file(file, lambda done, total: _report(progress, "verify", done, total))

    if path.is_file() and verify(path) != expected:
        log.warning("%s: md5 does not match, downloading again", path)
        path.unlink()
    if not path.is_file():
        url = (base_url.rstrip("/") + "/" if base_url else archive.base_url) + archive.filename
        log.info("downloading %s to %s", url, part)
        _fetch(url, part, progress, retries, timeout)
        got = verify(part)
        if got != expected:
            part.unlink()
            raise DatasetError(
                f"{archive.filename}: md5 mismatch: got {got}, expected {expected}; "
                "the download was deleted, run again"
            )
        os.replace(part, path)
    log.info("extracting %s", path)
    extract(path, root, archive.folder, progress)
    if not keep_archive:
        path.unlink()
    return final
