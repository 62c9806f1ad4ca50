"""Reading the photo files an import sheet names, never outside the import's folder.

A sheet comes from another station and its paths are not to be trusted: ``../../etc``,
an absolute path, a link inside the folder pointing out of it, ``/dev/zero`` or a FIFO
must not be read. A photo is read only when

- its path, every link in it resolved, lies inside the photos folder (itself resolved);
- it is a regular file, known from ``lstat`` before anything is opened (a FIFO would
  block an ``open``, a device would never end);
- it is no larger than an upload may be, before reading and again on the opened file;
- the file opened (``O_NOFOLLOW``, ``O_NONBLOCK``) is the one checked: same device and
  inode, still regular, still small enough; and no more than the limit is ever read.

Every refusal raises the same ``PhotoFileRefusedError``: a missing file reads exactly as
one that exists but may not be read, so a sheet cannot probe the server's disk.

Not defended: someone changing the folder's own directories while they are read (a
parent directory swapped for a link between the check and the open). Whoever can do
that already writes on the server.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from records.errors import InvalidRecordError, PhotoFileRefusedError

_READ_CHUNK = 1 << 20
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC


def photos_root(folder: Path) -> Path:
    """The folder an import may read photos from, resolved.

    The operator chose it, so unlike a sheet's paths it may be named in the error.
    """
    try:
        root = folder.resolve(strict=True)
    except (OSError, RuntimeError) as err:
        raise InvalidRecordError(f"{folder}: no such folder for photos") from err
    if not root.is_dir():
        raise InvalidRecordError(f"{folder}: not a folder")
    return root


def check_photo_file(path: Path, root: Path, *, max_bytes: int) -> os.stat_result:
    """Check, without opening it, that ``path`` may be read; its ``lstat`` if so.

    ``root`` must come from ``photos_root``. Raises ``PhotoFileRefusedError``.
    """
    refused = PhotoFileRefusedError(max_bytes)
    try:
        resolved = path.resolve(strict=True)
        if not resolved.is_relative_to(root):
            raise refused
        found = os.lstat(resolved)
    except (OSError, RuntimeError, ValueError) as err:  # missing, a loop, a NUL byte
        raise refused from err
    _check_stat(found, max_bytes, refused)
    return found


def read_photo_file(path: Path, root: Path, *, max_bytes: int) -> bytes:
    """The bytes of a photo file that may be read (see the module), or
    ``PhotoFileRefusedError``."""
    checked = check_photo_file(path, root, max_bytes=max_bytes)
    refused = PhotoFileRefusedError(max_bytes)
    try:
        fd = os.open(path.resolve(strict=True), _OPEN_FLAGS)
    except (OSError, RuntimeError, ValueError) as err:
        raise refused from err
    try:
        opened = os.fstat(fd)
        _check_stat(opened, max_bytes, refused)
        if (opened.st_dev, opened.st_ino) != (checked.st_dev, checked.st_ino):
            raise refused  # the path was changed between the check and the open
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, min(_READ_CHUNK, max_bytes + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise refused  # the file grew after the check
    except OSError as err:
        raise refused from err
    finally:
        os.close(fd)
    return b"".join(chunks)


def _check_stat(found: os.stat_result, max_bytes: int, refused: PhotoFileRefusedError) -> None:
    if not stat.S_ISREG(found.st_mode) or found.st_size > max_bytes:
        raise refused
