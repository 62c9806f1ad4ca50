"""A face model wrapper that remembers answers by image content, for repeated runs.

Evaluation imports the same photos run after run; detection and encoding are by far the
slowest part. The cache keys on a digest of the pixels, so a changed photo is a miss,
and it lives under ``.cache/`` (embeddings of development photos, never the photos).
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from indexes import FaceModel
from indexes.faces import Box, Landmarks


class CachingFaceModel:
    """Delegates to ``inner`` and keeps its answers in a file between runs."""

    def __init__(self, inner: FaceModel, path: Path) -> None:
        self.inner = inner
        self.path = path
        self._entries: dict[tuple[object, ...], object] = {}
        self._dirty = False
        if path.is_file():
            try:
                with path.open("rb") as handle:
                    loaded = pickle.load(handle)
                if isinstance(loaded, dict) and loaded.get("model") == inner.name:
                    self._entries = loaded["entries"]
            except (OSError, pickle.UnpicklingError, EOFError, KeyError):
                self._entries = {}

    @property
    def name(self) -> str:
        """The inner model's name: the cache changes no embedding."""
        return self.inner.name

    @staticmethod
    def _digest(rgb: NDArray[np.uint8]) -> str:
        return hashlib.blake2b(rgb.tobytes(), digest_size=16).hexdigest() + str(rgb.shape)

    def locate(self, rgb: NDArray[np.uint8], *, upsample: int) -> list[Box]:
        """Boxes from the cache or the inner model."""
        key = ("locate", self._digest(rgb), upsample)
        if key not in self._entries:
            self._entries[key] = self.inner.locate(rgb, upsample=upsample)
            self._dirty = True
        boxes: list[Box] = self._entries[key]  # type: ignore[assignment]
        return list(boxes)

    def encode(self, rgb: NDArray[np.uint8], boxes: list[Box]) -> NDArray[np.float32]:
        """Embeddings from the cache or the inner model."""
        key = ("encode", self._digest(rgb), tuple(boxes))
        if key not in self._entries:
            self._entries[key] = self.inner.encode(rgb, boxes)
            self._dirty = True
        vectors: NDArray[np.float32] = self._entries[key]  # type: ignore[assignment]
        return vectors.copy()

    def landmarks(self, rgb: NDArray[np.uint8], boxes: list[Box]) -> list[Landmarks]:
        """Landmarks from the cache or the inner model."""
        key = ("landmarks", self._digest(rgb), tuple(boxes))
        if key not in self._entries:
            self._entries[key] = self.inner.landmarks(rgb, boxes)
            self._dirty = True
        marks: list[Landmarks] = self._entries[key]  # type: ignore[assignment]
        return list(marks)

    def save(self) -> None:
        """Write the cache if anything was added."""
        if not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("wb") as handle:
            pickle.dump({"model": self.inner.name, "entries": self._entries}, handle)
        tmp.replace(self.path)
        self._dirty = False
