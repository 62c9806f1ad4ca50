"""Bringing records and their photos into the store and the face indexes.

An import file goes in whole or not at all: every row is checked first (its fields and
its photo files, which must lie inside the import's photos folder), then all rows are
stored in one transaction. A rejected row, found at either step, means nothing is stored,
and every rejected row is reported by its line. A row already imported unchanged changes
nothing. A photo that is an image is kept whatever face intake makes of it: no face or
several faces are reported, not dropped; a file that is no image rejects its row.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from indexes import (
    DetectedFace,
    FaceReader,
    FaceReading,
    FaceWorkerError,
    ImageLimits,
    ImageRejectedError,
)
from indexes.faces import DetectionSettings
from records import (
    Database,
    Face,
    FoundPerson,
    InvalidRecordError,
    MissingReport,
    Photo,
    PhotoStatus,
    RecordsError,
    Side,
)
from records.errors import ImportRefusedError, PhotoFileRefusedError
from records.importing import Kind, ParsedRow, RowError, read_import_file
from records.inputs import FoundFields, MissingFields, PhotoRef
from records.photo_files import check_photo_file, photos_root, read_photo_file
from records.photo_store import PhotoStore, sha256_hex
from records.storage.audit_log import audit
from records.storage.person_records import (
    Change,
    get_person,
    upsert_found,
    upsert_missing,
)
from records.storage.photos import (
    FaceFields,
    PhotoFields,
    add_photo,
    files_in_use,
    find_photo,
    photo_digests,
)
from usecases.face_registry import FaceIndexes

logger = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]
"""Told ``(rows done, rows in all)``: the total is None while the rows are being checked."""

_PROGRESS_EVERY = 200


@dataclass
class PhotoOutcome:
    """What became of one photo: its status, faces and, for a problem, why."""

    photo_id: int
    status: PhotoStatus
    faces: int
    detail: str | None
    created: bool


@dataclass(frozen=True)
class _ReadPhoto:
    """A photo read before the store is opened for writing: its hash, size, where its file
    is kept and the faces found (both None when the record has the photo already)."""

    digest: str
    stored: str | None
    size_bytes: int
    reading: FaceReading | None


@dataclass
class ImportReport:
    """Counts of what an import stored, and every photo that needs a look (no face, or
    several)."""

    rows: int = 0
    changes: Counter[str] = field(default_factory=Counter)
    photos: Counter[str] = field(default_factory=Counter)
    photo_problems: list[tuple[int, str, str]] = field(default_factory=list)

    def audit_detail(self, file_name: str) -> dict[str, object]:
        """What the audit log keeps of an import: counts, never a row's content or a
        photo's file name (which may be a person's name or ID number)."""
        return {
            "file": file_name,
            "rows": self.rows,
            "records": dict(self.changes),
            "photos": dict(self.photos),
            "photo_problems": len(self.photo_problems),
        }

    def to_json(self) -> dict[str, object]:
        """A JSON-ready summary."""
        return {
            "rows": self.rows,
            "records": dict(self.changes),
            "photos": dict(self.photos),
            "photo_problems": [
                {"line": line, "photo": name, "problem": problem}
                for line, name, problem in self.photo_problems
            ],
        }


class Ingestor:
    """Imports records and takes in photos for one store."""

    def __init__(
        self,
        database: Database,
        photo_store: PhotoStore,
        faces_reader: FaceReader,
        face_indexes: FaceIndexes,
        *,
        image_limits: ImageLimits | None = None,
        detection: DetectionSettings | None = None,
    ) -> None:
        self.database = database
        self.photo_store = photo_store
        self.faces_reader = faces_reader
        self.face_indexes = face_indexes
        self.image_limits = image_limits or ImageLimits()
        self.detection = detection or DetectionSettings()

    def import_file(
        self,
        path: Path,
        kind: Kind,
        *,
        actor: str,
        photos_dir: Path | None = None,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Import every row of a JSONL or CSV file, all or nothing; see ``records.importing``.

        Photos are read only from ``photos_dir`` (by default the file's folder), see
        ``records.photo_files``. Every row and photo file is checked first; then all rows
        are stored in one transaction, a row and its photos at a time (one photo's bytes in
        memory at once), and their faces go into the index once it has committed. Any
        rejected row, at either step, means nothing of the file is stored:
        ``ImportRefusedError`` lists every rejected row by line. The audit log gets one
        line with counts either way.
        """
        root = photos_root(photos_dir or path.parent)
        rows: list[ParsedRow] = []
        report = ImportReport()
        try:
            rejected = self._check_rows(path, kind, root, rows, report, progress)
            if rejected:
                raise ImportRefusedError(path.name, report.rows, _listed(rejected))
            photos, rejected, written = self._read_photos(kind, rows, root, progress)
            try:
                if rejected:
                    raise ImportRefusedError(path.name, report.rows, _listed(rejected))
                pending = self._store_rows(path, kind, rows, photos, report, actor=actor,
                                           progress=progress)  # fmt: skip
            except BaseException:
                self._drop_unused_files(written)
                raise
        except RecordsError as err:
            rejected_rows = len(err.rejected) if isinstance(err, ImportRefusedError) else 0
            try:
                with self.database.session() as session:
                    audit(session, actor=actor, action="import_refused", subject_kind=kind,
                          detail={"file": path.name, "rows": report.rows,
                                  "rejected": rejected_rows})  # fmt: skip
            except SQLAlchemyError as audit_error:  # the refusal is the error to raise
                logger.error("a refused import could not be audited (%s)",
                             type(audit_error).__name__)  # fmt: skip
            raise
        # The store is committed first: if adding to the index fails, the next start
        # rebuilds it from the store.
        self._index_faces(pending)
        return report

    def _check_rows(
        self,
        path: Path,
        kind: Kind,
        root: Path,
        rows: list[ParsedRow],
        report: ImportReport,
        progress: Progress | None,
    ) -> list[RowError]:
        """Read and check every row into ``rows``; the rejected ones are returned."""
        rejected: list[RowError] = []
        seen: dict[str, int] = {}
        for item in read_import_file(path, kind, photos_dir=root):
            report.rows += 1
            problem = item if isinstance(item, RowError) else self._check_row(item, root, seen)
            if problem is not None:
                rejected.append(problem)
            elif isinstance(item, ParsedRow):
                rows.append(item)
            if progress is not None and report.rows % _PROGRESS_EVERY == 0:
                progress(report.rows, None)
        return rejected

    def _check_row(self, item: ParsedRow, root: Path, seen: dict[str, int]) -> RowError | None:
        first = seen.setdefault(item.fields.ref, item.line)
        if first != item.line:
            return RowError(item.line, f"ref {item.fields.ref!r} already used on line {first}")
        for number, ref in enumerate(item.photos, start=1):
            try:
                check_photo_file(ref.path, root, max_bytes=self.image_limits.max_bytes)
            except PhotoFileRefusedError as err:
                return RowError(item.line, f"photo {number}: {err}")
        return None

    def _read_photos(
        self,
        kind: Kind,
        rows: list[ParsedRow],
        root: Path,
        progress: Progress | None,
    ) -> tuple[dict[tuple[int, int], _ReadPhoto], list[RowError], list[tuple[str, str]]]:
        """Read every photo the rows name, before the store is opened for writing.

        Faces are read by the face reader, several photos at once when it has workers
        (a bounded window of them in flight), so an import uses every core and the store
        is never held while dlib works. A photo the record already has is not read
        again. Each file read is kept in the photo store at once; the files kept are
        returned, so a refused import can take them away again. The rejected rows are
        every row with a photo that may not be read or is not an image.
        """
        known = self._stored_digests(kind, rows)
        read: dict[tuple[int, int], _ReadPhoto] = {}
        rejected: dict[int, RowError] = {}
        written: list[tuple[str, str]] = []
        window: deque[tuple[int, int, bytes, Future[FaceReading]]] = deque()
        # Enough in flight to keep every worker busy, never more than the reader takes.
        limit = max(1, min(2 * self.faces_reader.parallel, self.faces_reader.capacity))

        def settle() -> None:
            index, number, data, future = window.popleft()
            try:
                reading = future.result()
            except (ImageRejectedError, FaceWorkerError) as err:
                # A worker that died on the photo: refused like an unreadable one.
                rejected.setdefault(index, RowError(rows[index].line, f"photo {number}: {err}"))
                return
            except Exception as err:  # the model failed on this photo: the row's, not the file's
                logger.warning("face reading failed on an imported photo (%s)", type(err).__name__)
                message = f"photo {number}: the faces in it could not be read"
                rejected.setdefault(index, RowError(rows[index].line, message))
                return
            digest, stored, created = self.photo_store.keep(data, reading.format)
            if created:
                written.append((digest, stored))
            read[(index, number)] = _ReadPhoto(digest, stored, len(data), reading)

        try:
            for index, item in enumerate(rows):
                for number, ref in enumerate(item.photos, start=1):
                    try:
                        data = read_photo_file(
                            ref.path, root, max_bytes=self.image_limits.max_bytes
                        )
                    except PhotoFileRefusedError as err:
                        rejected.setdefault(index, RowError(item.line, f"photo {number}: {err}"))
                        continue
                    digest = sha256_hex(data)
                    if (item.fields.ref, digest) in known:
                        read[(index, number)] = _ReadPhoto(digest, None, len(data), None)
                        continue
                    future = self.faces_reader.submit(
                        data, limits=self.image_limits, detection=self.detection
                    )
                    window.append((index, number, data, future))
                    while len(window) >= limit:
                        settle()
                if progress is not None and (index + 1) % _PROGRESS_EVERY == 0:
                    progress(index + 1, len(rows))
            while window:
                settle()
        except BaseException:
            for *_, future in window:
                future.cancel()
            self._drop_unused_files(written)
            raise
        return read, sorted(rejected.values(), key=lambda e: e.line), written

    def _stored_digests(self, kind: Kind, rows: list[ParsedRow]) -> set[tuple[str, str]]:
        """(record ref, photo hash) of the photos the rows' records already have."""
        side = Side.MISSING if kind == "missing" else Side.FOUND
        refs = [item.fields.ref for item in rows if item.photos]
        known: set[tuple[str, str]] = set()
        with self.database.session() as session:
            for start in range(0, len(refs), 500):
                known.update(photo_digests(session, side, refs[start : start + 500]))
        return known

    def _store_rows(
        self,
        path: Path,
        kind: Kind,
        rows: list[ParsedRow],
        photos: dict[tuple[int, int], _ReadPhoto],
        report: ImportReport,
        *,
        actor: str,
        progress: Progress | None,
    ) -> list[tuple[Side, int, np.ndarray]]:
        """Store every row in one transaction; the faces to index once it has committed.

        The photos were read before (``_read_photos``, which tells the progress): the
        transaction holds the store for the writing only, and the progress is told once
        it has ended. A row the store refuses rolls everything back.
        """
        pending: list[tuple[Side, int, np.ndarray]] = []
        rejected: list[RowError] = []
        with self.database.session() as session:
            for index, item in enumerate(rows):
                try:
                    pending.extend(self._import_row(session, index, item, photos, report,
                                                    actor=actor))  # fmt: skip
                    session.flush()  # a store error is this row's, not the next one's
                except RecordsError as err:
                    rejected.append(RowError(item.line, str(err)))
                except (IntegrityError, DataError) as err:
                    # The row's own fault; a store that is down or locked is not, and its
                    # error ends the import as it is.
                    rejected.append(RowError(
                        item.line, f"the store refused the row ({type(err).__name__})"
                    ))  # fmt: skip
                if rejected:
                    # Nothing more will be stored; the rows after it were checked already.
                    raise ImportRefusedError(path.name, report.rows, _listed(rejected))
            self._check_files_kept(path, rows, photos)
            audit(session, actor=actor, action="import", subject_kind=kind,
                  detail=report.audit_detail(path.name))  # fmt: skip
        if progress is not None:
            progress(len(rows), len(rows))
        return pending

    def _check_files_kept(
        self, path: Path, rows: list[ParsedRow], photos: dict[tuple[int, int], _ReadPhoto]
    ) -> None:
        """Refuse the import if a photo file written while reading is gone before the
        commit (taken for an orphan by a long import's neighbour, or deleted by hand):
        rows must never name a file that is not there."""
        for (index, number), read in photos.items():
            if read.stored is not None and not self.photo_store.locate(read.stored).is_file():
                message = f"photo {number}: its file went from the store while importing"
                raise ImportRefusedError(path.name, len(rows), [(rows[index].line, message)])

    def _drop_unused_files(self, written: list[tuple[str, str]]) -> None:
        """Delete the photo files a refused import wrote that no stored photo uses: a
        person's photo must not stay on disk where erasing their record cannot find it."""
        try:
            for start in range(0, len(written), 500):
                chunk = written[start : start + 500]
                with self.database.session() as session:
                    used = files_in_use(session, [stored for _, stored in chunk])
                for _, stored in chunk:
                    if stored not in used:
                        self.photo_store.delete(stored)
        except (OSError, SQLAlchemyError) as err:  # the import's own error is the one to raise
            logger.warning("a refused import's photo files were not all deleted (%s)",
                           type(err).__name__)  # fmt: skip

    def _import_row(
        self,
        session: Session,
        index: int,
        item: ParsedRow,
        photos: dict[tuple[int, int], _ReadPhoto],
        report: ImportReport,
        *,
        actor: str,
    ) -> list[tuple[Side, int, np.ndarray]]:
        record: MissingReport | FoundPerson
        if isinstance(item.fields, MissingFields):
            record, change = upsert_missing(session, item.fields)
        else:
            assert isinstance(item.fields, FoundFields)
            record, change = upsert_found(session, item.fields)
        report.changes[change.value] += 1
        if change is not Change.UNCHANGED:
            audit(
                session,
                actor=actor,
                action=f"{change.value}",
                subject_kind="missing" if isinstance(record, MissingReport) else "found",
                subject_id=record.id,
            )
        pending = []
        for number, ref in enumerate(item.photos, start=1):
            outcome, faces = self._store_photo(session, record, photos[(index, number)], ref)
            if outcome.created:
                report.photos[outcome.status.value] += 1
                pending.extend(faces)
            else:
                report.photos["unchanged"] += 1
            if outcome.status is not PhotoStatus.ONE_FACE and outcome.created:
                report.photo_problems.append(
                    (item.line, ref.path.name, outcome.detail or outcome.status.value)
                )
        return pending

    def _store_photo(
        self,
        session: Session,
        record: MissingReport | FoundPerson,
        read: _ReadPhoto,
        ref: PhotoRef,
        *,
        face_no: int | None = None,
    ) -> tuple[PhotoOutcome, list[tuple[Side, int, np.ndarray]]]:
        """Store a photo read before, or, when the record has it already, choose the face
        asked for in the stored one."""
        existing = find_photo(session, record, read.digest)
        if existing is not None:
            outcome = PhotoOutcome(
                existing.id, existing.status, len(existing.faces), existing.status_detail, False
            )
            newly_chosen = _choose_existing(existing, face_no)
            if newly_chosen is None:
                return outcome, []
            vector = np.frombuffer(newly_chosen.embedding, dtype=np.float32)
            return outcome, [(existing.side, newly_chosen.id, vector)]
        if read.reading is None or read.stored is None:
            # Seen as stored before the transaction, gone since (erased meanwhile).
            raise InvalidRecordError("the record's photo changed while importing; import again")
        detected = read.reading.faces
        status, detail = _status_for(detected, face_no)
        chosen = _chosen_face(detected, face_no)
        photo = add_photo(
            session,
            record,
            PhotoFields(
                sha256=read.digest,
                stored_path=read.stored,
                size_bytes=read.size_bytes,
                width=read.reading.width,
                height=read.reading.height,
                status=status,
                status_detail=detail,
                taken_year=ref.taken_year,
                taken_date=ref.taken_date,
                age_at_photo=ref.age,
            ),
            [
                FaceFields(
                    face_no=number,
                    box=face.box,
                    width_px=face.width_px,
                    sharpness=face.sharpness,
                    yaw=face.quality.yaw,
                    roll=face.quality.roll,
                    quality_note="; ".join(face.quality.problems) or None,
                    embedding=face.embedding.astype(np.float32).tobytes(),
                    model=self.faces_reader.model_name,
                    searchable=number == chosen,
                )
                for number, face in enumerate(detected)
            ],
        )
        side = Side.MISSING if isinstance(record, MissingReport) else Side.FOUND
        new_faces = [(side, face.id, np.frombuffer(face.embedding, dtype=np.float32))
                     for face in photo.faces if face.searchable]  # fmt: skip
        return PhotoOutcome(photo.id, status, len(detected), detail, True), new_faces

    def _index_faces(self, faces: list[tuple[Side, int, np.ndarray]]) -> None:
        for side in Side:
            chosen = [(face_id, vector) for s, face_id, vector in faces if s is side]
            if chosen:
                self.face_indexes.add(
                    side,
                    [face_id for face_id, _ in chosen],
                    np.stack([vector for _, vector in chosen]),
                    model=self.faces_reader.model_name,
                )

    def add_photo(
        self,
        side: Side,
        ref: str,
        data: bytes,
        *,
        photo: PhotoRef | None = None,
        face_no: int | None = None,
        actor: str,
    ) -> tuple[Photo, PhotoOutcome]:
        """Take one uploaded photo for a record; returns the stored photo and its outcome."""
        with self.database.session() as session:
            get_person(session, side, ref)  # an unknown record is refused before any face work
        # Faces are read before the store is opened for writing: dlib's work holds no
        # connection and no lock.
        reading = self.faces_reader.read(data, limits=self.image_limits, detection=self.detection)
        digest, stored_path, created = self.photo_store.keep(data, reading.format)
        read = _ReadPhoto(digest, stored_path, len(data), reading)
        try:
            with self.database.session() as session:
                record = get_person(session, side, ref)
                outcome, faces = self._store_photo(
                    session, record, read, photo or PhotoRef(path=Path("upload")), face_no=face_no
                )
                audit(
                    session,
                    actor=actor,
                    action="add_photo",
                    subject_kind=side.value,
                    subject_id=record.id,
                    detail={"photo_id": outcome.photo_id, "status": outcome.status.value},
                )
                stored = session.get(Photo, outcome.photo_id)
                assert stored is not None
                _ = stored.faces  # load before the session closes
        except BaseException:
            if created:
                self._drop_unused_files([(digest, stored_path)])
            raise
        self._index_faces(faces)
        return stored, outcome


def _listed(rejected: list[RowError]) -> list[tuple[int, str]]:
    return [(error.line, error.message) for error in rejected]


def _status_for(faces: list[DetectedFace], face_no: int | None) -> tuple[PhotoStatus, str | None]:
    if not faces:
        return PhotoStatus.NO_FACE, "no face found, in any orientation"
    if len(faces) > 1:
        note = f"{len(faces)} faces found"
        if face_no is None:
            return PhotoStatus.SEVERAL_FACES, f"{note}; choose the subject's face to search it"
        return PhotoStatus.SEVERAL_FACES, f"{note}; face {face_no} chosen"
    return PhotoStatus.ONE_FACE, None


def _chosen_face(faces: list[DetectedFace], face_no: int | None) -> int | None:
    if face_no is not None:
        if not 0 <= face_no < len(faces):
            raise ImageRejectedError(
                "no_such_face", f"face {face_no} asked for; the photo has {len(faces)}"
            )
        return face_no
    return 0 if len(faces) == 1 else None


def _choose_existing(photo: Photo, face_no: int | None) -> Face | None:
    """Make the chosen face of a stored group photo searchable; None if nothing changes."""
    if face_no is None or any(face.searchable for face in photo.faces):
        return None
    faces = {face.face_no: face for face in photo.faces}
    if face_no not in faces:
        raise ImageRejectedError(
            "no_such_face", f"face {face_no} asked for; the photo has {len(faces)}"
        )
    faces[face_no].searchable = True
    photo.status_detail = f"{len(faces)} faces found; face {face_no} chosen"
    return faces[face_no]
