"""Photo files kept by content hash under the service's home folder.

The original bytes are kept as received (reviewers need to see the photo); the file
name is the SHA-256 of the content, so the same photo stored twice is one file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

_SUFFIXES = {
    "JPEG": ".jpg",
    "PNG": ".png",
    "WEBP": ".webp",
    "HEIF": ".heic",
    "MPO": ".jpg",
    "GIF": ".gif",
}


def sha256_hex(data: bytes) -> str:
    """The hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


class PhotoStore:
    """A folder of photo files named by their content hash."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str, image_format: str | None) -> Path:
        """Where a photo with this hash is (or would be) kept."""
        suffix = _SUFFIXES.get(image_format or "", ".bin")
        return self.root / sha256[:2] / f"{sha256}{suffix}"

    def put(self, data: bytes, image_format: str | None) -> tuple[str, Path]:
        """Keep the bytes (atomically, once) and return their hash and path."""
        digest = sha256_hex(data)
        target = self.path_for(digest, image_format)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming.")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.chmod(tmp, 0o600)  # biometric data: readable by the service only
                os.replace(tmp, target)
            finally:
                Path(tmp).unlink(missing_ok=True)
        return digest, target

    def delete(self, path: Path) -> None:
        """Remove a kept photo (when its record is deleted or expires)."""
        path.unlink(missing_ok=True)
