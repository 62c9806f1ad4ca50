"""Photo files kept by content hash in the store's photo folder (``XUNQIN_HOME/photos``).

The original bytes are kept as received (reviewers need to see the photo); the file
name is the SHA-256 of the content, so the same photo stored twice is one file.

A photo row names its file relative to the photo folder (``ab/ab12….jpg``, with ``/``),
never by an absolute path: a store copied or restored elsewhere finds its own files, and
erasing a record in the copy can only ever delete the copy's files. Every path read
from a row goes through :meth:`PhotoStore.locate`, which resolves it (symbolic links
too) and refuses one that would leave the folder; ``delete`` touches nothing outside it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from records.errors import PhotoFileChangedError, PhotoFileMissingError, PhotoPathOutsideError

logger = logging.getLogger(__name__)

_SUFFIXES = {
    "JPEG": ".jpg",
    "PNG": ".png",
    "WEBP": ".webp",
    "HEIF": ".heic",
    "MPO": ".jpg",
    "GIF": ".gif",
}

INCOMING_PREFIX = ".incoming."
"""The name a file has while it is written, before it takes its hash's name."""

_CHUNK = 1 << 20


def sha256_hex(data: bytes) -> str:
    """The hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    """The hex SHA-256 of a file's content, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class PhotoStore:
    """A folder of photo files named by their content hash."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def stored_path(self, sha256: str, image_format: str | None) -> str:
        """The path a photo row keeps for a photo with this hash: relative to the folder."""
        return self.name_for(sha256, _SUFFIXES.get(image_format or "", ".bin"))

    @staticmethod
    def name_for(sha256: str, suffix: str) -> str:
        """The file name, relative to the folder, of a photo with this hash and suffix."""
        return f"{sha256[:2]}/{sha256}{suffix}"

    def locate(self, stored_path: str) -> Path:
        """The file a row's stored path names, resolved; it may not exist.

        Raises ``PhotoPathOutsideError`` for an absolute path (an older store's, outside
        this one's folder: ``xunqin doctor`` reports it) or one that would leave the
        folder, by ``..`` or through a symbolic link.
        """
        relative = PurePosixPath(stored_path)
        if not stored_path or relative.is_absolute() or ".." in relative.parts:
            raise PhotoPathOutsideError(stored_path)
        root = self.root.resolve()
        path = (root / relative).resolve()
        if not path.is_relative_to(root) or path == root:
            raise PhotoPathOutsideError(stored_path)
        return path

    def verified(self, stored_path: str, sha256: str) -> Path:
        """The file of a photo row, checked to hold the photo: ``PhotoFileMissingError``
        when it is gone, ``PhotoFileChangedError`` when its content is not the photo's."""
        path = self.locate(stored_path)
        try:
            actual = file_sha256(path)
        except (FileNotFoundError, IsADirectoryError) as err:
            raise PhotoFileMissingError(stored_path) from err
        if actual != sha256:
            raise PhotoFileChangedError(stored_path)
        return path

    def put(self, data: bytes, image_format: str | None) -> tuple[str, str]:
        """Keep the bytes (atomically, once) and return their hash and stored path."""
        digest, stored, _ = self.keep(data, image_format)
        return digest, stored

    def keep(self, data: bytes, image_format: str | None) -> tuple[str, str, bool]:
        """``put``, saying too whether this call wrote the file: only a caller that wrote
        it may take it away again when its rows are not stored (another may be using it)."""
        digest = sha256_hex(data)
        stored = self.stored_path(digest, image_format)
        target = self.locate(stored)
        if target.exists():
            # Freshly used: a file ``xunqin doctor`` took for an orphan (from a crash
            # before a commit) is young again while the row naming it is committed.
            os.utime(target)
            return digest, stored, False
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=INCOMING_PREFIX)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, 0o600)  # biometric data: readable by the service only
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return digest, stored, True

    def delete(self, stored_path: str) -> bool:
        """Remove a kept photo (its record deleted or expired); whether a file went.

        A path outside the folder is never deleted: it may be another store's file (a
        row of a store copied from it). It is logged and left.
        """
        try:
            path = self.locate(stored_path)
        except PhotoPathOutsideError:
            logger.warning("a photo file outside this store's photo folder was left in place")
            return False
        link = self.root.resolve() / PurePosixPath(stored_path)
        if link.is_symlink():
            # A link inside the folder: it goes, never the file it points at (which may be
            # another row's photo).
            path = link
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def files(self) -> Iterator[tuple[str, Path]]:
        """Every file in the folder, as ``(path relative to the folder, path)``; symbolic
        links to folders are not followed."""
        root = self.root.resolve()
        if not root.is_dir():
            return
        for folder, _, names in os.walk(root):
            for name in names:
                path = Path(folder) / name
                yield path.relative_to(root).as_posix(), path
