"""The service's parts built from the settings, once, for the CLI and the API alike.

Heavy parts (the face model, the FAISS indexes) are built on first use, not when the
container is made.
"""

from __future__ import annotations

from functools import cached_property

from api.settings import Settings
from indexes import DlibFaceModel, FaceModel, ImageLimits
from matching.face_indexes import FaceIndexes
from matching.ingest import Ingestor
from records import Database
from records.photo_store import PhotoStore


class Services:
    """Database, photo store, face model, face indexes and ingestor for one home."""

    def __init__(self, settings: Settings, *, face_model: FaceModel | None = None) -> None:
        self.settings = settings
        self._face_model = face_model

    @cached_property
    def database(self) -> Database:
        """The store, migrated to the current schema."""
        database = Database(self.settings.resolved_database_url)
        database.upgrade()
        return database

    @cached_property
    def face_model(self) -> FaceModel:
        """The face model (dlib unless a test passed another)."""
        return self._face_model or DlibFaceModel()

    @cached_property
    def face_indexes(self) -> FaceIndexes:
        """Both face indexes, checked against the store."""
        indexes = FaceIndexes(self.settings.index_dir, model=self.face_model.name)
        indexes.open(self.database)
        return indexes

    @cached_property
    def image_limits(self) -> ImageLimits:
        """Upload bounds from the settings."""
        return ImageLimits(
            max_bytes=self.settings.max_upload_bytes, max_pixels=self.settings.max_image_pixels
        )

    @cached_property
    def ingestor(self) -> Ingestor:
        """Imports and photo intake."""
        return Ingestor(
            self.database,
            PhotoStore(self.settings.photos_dir),
            self.face_model,
            self.face_indexes,
            image_limits=self.image_limits,
        )

    def close(self) -> None:
        """Release the database connections."""
        if "database" in self.__dict__:
            self.database.dispose()
