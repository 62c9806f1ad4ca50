"""Bringing records and their photos into the store and the face indexes.

Import files are read row by row: a bad row is reported with its line number and the
rest goes on; a row already imported unchanged changes nothing. Every photo is kept,
whatever face intake makes of it: no face, several faces, or a file we cannot read
are reported, not dropped.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from indexes import (
    DetectedFace,
    FaceReader,
    FaceWorkerError,
    ImageLimits,
    ImageRejectedError,
)
from indexes.faces import DetectionSettings
from matching.face_indexes import FaceIndexes
from records import (
    Database,
    Face,
    FoundPerson,
    MissingReport,
    Photo,
    PhotoStatus,
    Side,
)
from records.importing import Kind, ParsedRow, RowError, read_import_file
from records.inputs import FoundFields, MissingFields, PhotoRef
from records.photo_store import PhotoStore, sha256_hex
from records.repository import (
    Change,
    FaceFields,
    PhotoFields,
    add_photo,
    audit,
    find_photo,
    get_person,
    upsert_found,
    upsert_missing,
)

logger = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]


@dataclass
class PhotoOutcome:
    """What became of one photo: its status, faces and, for a problem, why."""

    photo_id: int
    status: PhotoStatus
    faces: int
    detail: str | None
    created: bool


@dataclass
class ImportReport:
    """Counts of what an import did, and every row or photo that needs a look."""

    rows: int = 0
    changes: Counter[str] = field(default_factory=Counter)
    photos: Counter[str] = field(default_factory=Counter)
    errors: list[RowError] = field(default_factory=list)
    photo_problems: list[tuple[int, str, str]] = field(default_factory=list)

    def audit_detail(self, file_name: str) -> dict[str, object]:
        """What the audit log keeps of an import: counts, never a row's content or a
        photo's file name (which may be a person's name or ID number)."""
        return {
            "file": file_name,
            "rows": self.rows,
            "records": dict(self.changes),
            "photos": dict(self.photos),
            "errors": len(self.errors),
            "photo_problems": len(self.photo_problems),
        }

    def to_json(self) -> dict[str, object]:
        """A JSON-ready summary."""
        return {
            "rows": self.rows,
            "records": dict(self.changes),
            "photos": dict(self.photos),
            "errors": [{"line": e.line, "error": e.message} for e in self.errors],
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
        progress: Progress | None = None,
        batch_size: int = 200,
    ) -> ImportReport:
        """Import every row of a JSONL or CSV file; see ``records.importing``.

        Rows are stored in batches, each row in its own savepoint: a row the store refuses
        is reported and the rest of its batch still goes in.
        """
        report = ImportReport()
        seen: dict[str, int] = {}
        batch: list[ParsedRow] = []
        for number, item in enumerate(read_import_file(path, kind), start=1):
            report.rows += 1
            if isinstance(item, RowError):
                report.errors.append(item)
                continue
            first = seen.setdefault(item.fields.ref, item.line)
            if first != item.line:
                report.errors.append(
                    RowError(item.line, f"ref {item.fields.ref!r} already used on line {first}")
                )
                continue
            batch.append(item)
            if len(batch) >= batch_size:
                self._import_batch(batch, report, actor=actor)
                batch = []
                if progress is not None:
                    progress(number, None)
        self._import_batch(batch, report, actor=actor)
        if progress is not None:
            progress(report.rows, report.rows)
        with self.database.session() as session:
            audit(
                session,
                actor=actor,
                action="import",
                subject_kind=kind,
                detail=report.audit_detail(path.name),
            )
        return report

    def _import_batch(self, batch: list[ParsedRow], report: ImportReport, *, actor: str) -> None:
        if not batch:
            return
        pending: list[tuple[Side, int, np.ndarray]] = []
        with self.database.session() as session:
            for item in batch:
                row = ImportReport()
                try:
                    with session.begin_nested():
                        pending_row = self._import_row(session, item, row, actor=actor)
                except SQLAlchemyError as err:
                    report.errors.append(
                        RowError(item.line, f"the store refused the row ({type(err).__name__})")
                    )
                    continue
                report.changes.update(row.changes)
                report.photos.update(row.photos)
                report.photo_problems.extend(row.photo_problems)
                pending.extend(pending_row)
        # The store is committed first: if adding to the index fails, the next start
        # rebuilds it from the store.
        self._index_faces(pending)

    def _import_row(
        self, session: Session, item: ParsedRow, report: ImportReport, *, actor: str
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
        for ref in item.photos:
            try:
                data = ref.path.read_bytes()
            except OSError as err:
                report.photos["unreadable"] += 1
                report.photo_problems.append(
                    (item.line, ref.path.name, f"cannot read the file: {err.strerror}")
                )
                continue
            try:
                outcome, faces = self._take_photo(session, record, data, ref)
            except (ImageRejectedError, FaceWorkerError) as err:
                # A worker that died on the photo: refused like an unreadable one.
                report.photos["rejected"] += 1
                report.photo_problems.append((item.line, ref.path.name, str(err)))
                continue
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

    def _take_photo(
        self,
        session: Session,
        record: MissingReport | FoundPerson,
        data: bytes,
        ref: PhotoRef,
        *,
        face_no: int | None = None,
    ) -> tuple[PhotoOutcome, list[tuple[Side, int, np.ndarray]]]:
        existing = find_photo(session, record, sha256_hex(data))
        if existing is not None:
            newly_chosen = _choose_existing(existing, face_no)
            if newly_chosen is not None:
                side = existing.side
                vector = np.frombuffer(newly_chosen.embedding, dtype=np.float32)
                outcome = PhotoOutcome(
                    existing.id, existing.status, len(existing.faces), existing.status_detail, False
                )
                return outcome, [(side, newly_chosen.id, vector)]
            outcome = PhotoOutcome(
                existing.id, existing.status, len(existing.faces), existing.status_detail, False
            )
            return outcome, []
        # An unreadable file raises ImageRejectedError: it is refused, not kept.
        image = self.faces_reader.read(data, limits=self.image_limits, detection=self.detection)
        detected = image.faces
        status, detail = _status_for(detected, face_no)
        chosen = _chosen_face(detected, face_no)
        digest, stored = self.photo_store.put(data, image.format)
        photo = add_photo(
            session,
            record,
            PhotoFields(
                sha256=digest,
                stored_path=stored,
                size_bytes=len(data),
                width=image.width,
                height=image.height,
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
            record = get_person(session, side, ref)
            outcome, faces = self._take_photo(
                session, record, data, photo or PhotoRef(path=Path("upload")), face_no=face_no
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
        self._index_faces(faces)
        return stored, outcome


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
