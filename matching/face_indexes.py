"""The two face indexes (reports' faces and found persons' faces), kept in step with the store.

Index files live beside the database. On opening, each index is checked against the
store's searchable faces and whatever differs is rebuilt, so a lost or stale file is
never a lost face.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from indexes import FaceIndex, IndexCorruptError, IndexModelMismatchError, Neighbour
from records import Database, Side
from records.repository import searchable_faces

logger = logging.getLogger(__name__)


class FaceIndexes:
    """One FAISS index per side, for one embedding model."""

    def __init__(self, folder: Path, *, model: str, dim: int = 128) -> None:
        self.folder = folder
        self.model = model
        self.dim = dim
        self._indexes = {side: FaceIndex(model=model, dim=dim) for side in Side}

    def path(self, side: Side) -> Path:
        """The index file of one side."""
        return self.folder / f"faces-{side.value}.faiss"

    def __getitem__(self, side: Side) -> FaceIndex:
        return self._indexes[side]

    def open(self, database: Database) -> dict[Side, int]:
        """Load the saved indexes and bring them in step with the store.

        Returns, for each side, how many vectors had to be added or removed.
        """
        changes: dict[Side, int] = {}
        for side in Side:
            path = self.path(side)
            if path.exists():
                try:
                    self._indexes[side] = FaceIndex.load(path, model=self.model)
                except (IndexCorruptError, IndexModelMismatchError) as err:
                    logger.warning("rebuilding the %s face index: %s", side.value, err)
                    self._indexes[side] = FaceIndex(model=self.model, dim=self.dim)
            changes[side] = self._sync(side, database)
            if changes[side] or not path.exists():
                self._indexes[side].save(path)
        return changes

    def _sync(self, side: Side, database: Database) -> int:
        with database.session() as session:
            rows = [row for row in searchable_faces(session, side) if row[2] == self.model]
        index = self._indexes[side]
        wanted = {row[0] for row in rows}
        present = set(index.ids().tolist())
        stale = present - wanted
        missing = [row for row in rows if row[0] not in present]
        if stale:
            index.remove(np.fromiter(stale, dtype=np.int64))
        if missing:
            vectors = np.stack([np.frombuffer(row[1], dtype=np.float32) for row in missing])
            index.add([row[0] for row in missing], vectors, model=self.model)
        if stale or missing:
            logger.info("%s face index: %d added, %d removed", side.value, len(missing), len(stale))
        return len(stale) + len(missing)

    def add(self, side: Side, ids: list[int], vectors: np.ndarray, *, model: str) -> None:
        """Add new faces of one side (and save)."""
        if ids:
            self._indexes[side].add(ids, vectors, model=model)
            self._indexes[side].save(self.path(side))

    def search(
        self, side: Side, vectors: np.ndarray, k: int, *, model: str
    ) -> list[list[Neighbour]]:
        """The nearest stored faces of one side."""
        return self._indexes[side].search(vectors, k, model=model)
