"""The service's parts built from the settings, once, for the CLI and the API alike.

Heavy parts (the face model, the FAISS indexes) are built on first use, not when the
container is made; the API's start-up builds them at once.
"""

from __future__ import annotations

from functools import cached_property

from sqlalchemy import func, select

from indexes import (
    DlibFaceModel,
    FaceModel,
    FaceReader,
    FaceWorkerPool,
    ImageLimits,
    SerialFaceReader,
)
from matching.evidence_model import EvidenceModel
from records import Database, MissingReport
from records.photo_store import PhotoStore
from usecases.face_registry import FaceIndexes
from usecases.intake import Ingestor
from usecases.model_files import load_model
from usecases.name_search import NameSearcher
from usecases.settings import Settings


class Services:
    """Database, photo store, face model, face indexes and ingestor for one home.

    ``search_threads`` is how many threads FAISS may use for a search, set once here and
    applied by the face indexes in every thread that searches: 1 (the default) suits a
    service answering single queries at once on few cores; None leaves FAISS's default
    (every core).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        face_model: FaceModel | None = None,
        search_threads: int | None = 1,
    ) -> None:
        self.settings = settings
        self._face_model = face_model
        self._search_threads = search_threads
        self._name_searcher: NameSearcher | None = None
        self._name_version: tuple[object, ...] | None = None

    @cached_property
    def database(self) -> Database:
        """The store, migrated to the current schema."""
        database = Database(self.settings.resolved_database_url)
        database.upgrade(photos_dir=self.settings.photos_dir)
        return database

    @cached_property
    def face_model(self) -> FaceModel:
        """The face model (dlib unless a test passed another)."""
        return self._face_model or DlibFaceModel()

    @cached_property
    def face_reader(self) -> FaceReader:
        """Reads faces in photos: in worker processes, or in the calling thread when
        ``face_workers`` is 0 (dlib is never entered by two threads at once either way).
        """
        workers = self.settings.face_workers
        if workers == 0:
            return SerialFaceReader(self.face_model)
        return FaceWorkerPool(self.face_model, workers=workers, queue=self.settings.face_queue)

    @cached_property
    def face_indexes(self) -> FaceIndexes:
        """Both face indexes, checked against the store."""
        indexes = FaceIndexes(
            self.settings.index_dir,
            model=self.face_model.name,
            search_threads=self._search_threads,
        )
        indexes.open(self.database)
        return indexes

    @cached_property
    def photo_store(self) -> PhotoStore:
        """The photo files."""
        return PhotoStore(self.settings.photos_dir)

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
            self.photo_store,
            self.face_reader,
            self.face_indexes,
            image_limits=self.image_limits,
        )

    @cached_property
    def evidence_model(self) -> EvidenceModel:
        """The scoring model: the configured file, a refit in home, or the shipped one."""
        path = self.settings.model_file or self.settings.home / "model.json"
        if self.settings.model_file is not None or path.is_file():
            return load_model(path)
        return EvidenceModel.default()

    def name_searcher(self) -> NameSearcher:
        """The name index over reports, rebuilt when the store's reports have changed."""
        with self.database.session() as session:
            version = session.execute(
                select(func.count(MissingReport.id), func.max(MissingReport.updated_at))
            ).one()
        if self._name_searcher is None or self._name_version != tuple(version):
            self._name_searcher = NameSearcher.from_database(self.database)
            self._name_version = tuple(version)
        return self._name_searcher

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the face workers, save what the face indexes have not saved yet, and
        release the database."""
        if "face_reader" in self.__dict__:
            self.face_reader.close()
        if "face_indexes" in self.__dict__:
            self.face_indexes.flush()
        if "database" in self.__dict__:
            self.database.dispose()
