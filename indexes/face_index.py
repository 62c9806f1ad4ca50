"""A FAISS index of face embeddings with stable external ids, saved with a sidecar.

The numpy boundary is strict: vectors are coerced to contiguous float32 and checked
for shape; ids are int64 and stable (the database's face ids); FAISS's ``-1`` labels
never leave this module. The sidecar records the embedding model, dimension and metric
so an index of one model is never searched with another's vectors.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from indexes.errors import IndexCorruptError, IndexModelMismatchError

SIDECAR_VERSION = 1


@dataclass(frozen=True)
class Neighbour:
    """A stored face near the query, with its Euclidean distance."""

    id: int
    distance: float


def _faiss() -> Any:
    import faiss  # loaded on first use: importing it costs time and memory

    return faiss


class FaceIndex:
    """Exact L2 search over face embeddings of one model.

    Exact flat search is right up to a few hundred thousand faces; the approximate
    index for national scale is a later step.
    """

    metric = "l2"

    def __init__(self, *, model: str, dim: int = 128) -> None:
        if dim <= 0:
            raise ValueError(f"dim must be positive, got {dim}")
        self.model = model
        self.dim = dim
        faiss = _faiss()
        self._index = faiss.IndexIDMap2(faiss.IndexFlatL2(dim))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def _vectors(self, vectors: ArrayLike) -> NDArray[np.float32]:
        array = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
        if array.ndim == 1:
            array = array.reshape(1, -1)
        if array.ndim != 2 or array.shape[1] != self.dim:
            raise ValueError(f"expected vectors of shape (n, {self.dim}), got {array.shape}")
        if not np.isfinite(array).all():
            raise ValueError("vectors hold NaN or infinite values")
        return array

    def _check_model(self, model: str | None) -> None:
        if model is not None and model != self.model:
            raise IndexModelMismatchError(self.model, model)

    def ids(self) -> NDArray[np.int64]:
        """Every stored id, in insertion order."""
        return np.asarray(_faiss().vector_to_array(self._index.id_map), dtype=np.int64)

    def add(self, ids: ArrayLike, vectors: ArrayLike, *, model: str | None = None) -> None:
        """Add vectors under their ids; an id already present is replaced."""
        self._check_model(model)
        array = self._vectors(vectors)
        id_array = np.ascontiguousarray(np.asarray(ids, dtype=np.int64).reshape(-1))
        if id_array.shape[0] != array.shape[0]:
            raise ValueError(f"{id_array.shape[0]} ids for {array.shape[0]} vectors")
        if len(np.unique(id_array)) != len(id_array):
            raise ValueError("ids must be unique")
        if len(id_array) == 0:
            return
        self.remove(id_array)
        self._index.add_with_ids(array, id_array)

    def remove(self, ids: ArrayLike) -> int:
        """Remove the vectors with these ids; returns how many were there."""
        id_array = np.ascontiguousarray(np.asarray(ids, dtype=np.int64).reshape(-1))
        if len(id_array) == 0 or len(self) == 0:
            return 0
        selector = _faiss().IDSelectorBatch(id_array)
        return int(self._index.remove_ids(selector))

    def search(
        self, vectors: ArrayLike, k: int, *, model: str | None = None
    ) -> list[list[Neighbour]]:
        """The ``k`` nearest stored faces of each query vector, nearest first."""
        self._check_model(model)
        if k <= 0:
            raise ValueError(f"k must be positive, got {k}")
        queries = self._vectors(vectors)
        if len(self) == 0:
            return [[] for _ in range(len(queries))]
        distances, labels = self._index.search(queries, min(k, len(self)))
        return [
            [
                Neighbour(int(label), float(np.sqrt(max(0.0, dist))))
                for dist, label in zip(row_d, row_l, strict=True)
                if label != -1
            ]
            for row_d, row_l in zip(distances, labels, strict=True)
        ]

    def sidecar(self) -> dict[str, Any]:
        """What produced the index, written beside it."""
        return {
            "version": SIDECAR_VERSION,
            "model": self.model,
            "dim": self.dim,
            "metric": self.metric,
            "count": len(self),
        }

    def save(self, path: Path) -> None:
        """Write the index and its sidecar atomically (a crash leaves the old pair)."""
        faiss = _faiss()
        path.parent.mkdir(parents=True, exist_ok=True)
        sidecar_path = path.with_suffix(path.suffix + ".json")
        self._atomic_write(path, lambda tmp: faiss.write_index(self._index, str(tmp)))
        text = json.dumps(self.sidecar(), indent=2)
        self._atomic_write(sidecar_path, lambda tmp: tmp.write_text(text))

    @staticmethod
    def _atomic_write(target: Path, write: Callable[[Path], object]) -> None:
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            write(tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    @classmethod
    def load(cls, path: Path, *, model: str) -> FaceIndex:
        """Read an index saved by ``save``; refuse one of another model."""
        sidecar_path = path.with_suffix(path.suffix + ".json")
        try:
            meta = json.loads(sidecar_path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise IndexCorruptError(f"cannot read {sidecar_path.name}: {err}") from err
        if meta.get("model") != model:
            raise IndexModelMismatchError(str(meta.get("model")), model)
        try:
            raw = _faiss().read_index(str(path))
        except RuntimeError as err:
            raise IndexCorruptError(f"cannot read {path.name}: {err}") from err
        index = cls(model=model, dim=int(meta["dim"]))
        if raw.d != index.dim or raw.ntotal != meta.get("count"):
            raise IndexCorruptError(f"{path.name} does not agree with its sidecar")
        index._index = raw
        return index
