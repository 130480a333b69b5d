"""Small fake files in the exact on-disk formats of CIFAR-10, STL-10 and Tiny ImageNet.

The writers live in the library (localssl.data.synthetic), where the smoke-scale tables use them
too; this module re-exports them for the tests and adds the archive helpers of the download
tests.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

from localssl.data.synthetic import (
    CIFAR_NAMES,
    WNIDS,
    Labeled,
    Split,
    py2_pickle,
    reference_decode,
    smooth_images,
    write_cifar_binary,
    write_cifar_python,
    write_stl10,
    write_tiny_imagenet,
)

__all__ = [
    "CIFAR_NAMES",
    "WNIDS",
    "Labeled",
    "Split",
    "py2_pickle",
    "reference_decode",
    "smooth_images",
    "tar_gz",
    "write_cifar_binary",
    "write_cifar_python",
    "write_stl10",
    "write_tiny_imagenet",
    "zip_folder",
]


def tar_gz(folder: Path, archive: Path, extra: dict[str, bytes] | None = None) -> Path:
    """`folder` as a .tar.gz holding `<folder name>/...`, plus raw `extra` members by name."""
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
        for name, data in (extra or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive


def zip_folder(folder: Path, archive: Path, extra: dict[str, bytes] | None = None) -> Path:
    """`folder` as a .zip holding `<folder name>/...`, plus raw `extra` members by name."""
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.rglob("*")):
            zf.write(path, str(path.relative_to(folder.parent)))
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return archive
