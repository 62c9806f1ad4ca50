"""Reading and writing records: one function per thing the service does to the store.

Functions take an open ``Session``; the caller owns the transaction. Writes that a
person makes are audited by the caller through ``audit``.

A closed case (a report no longer ``OPEN``, a found person ``IDENTIFIED`` or ``CLOSED``:
see ``is_open`` on the status enums) drops out of everything that looks for people:
re-matching (``all_missing``, ``all_found``), the faces to search and candidate lists.
Its rows stay, with their candidates and decisions, for the record.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from records.enums import (
    DatePrecision,
    FoundStatus,
    MissingStatus,
    PhotoStatus,
    Sex,
    Side,
)
from records.errors import (
    DuplicateRecordError,
    InvalidRecordError,
    RecordNotFoundError,
)
from records.inputs import FoundFields, MissingFields
from records.models import (
    Face,
    FoundPerson,
    MissingReport,
    Photo,
    utcnow,
)
from records.storage._queries import MODELS, AnySelect, SelectT, chunks


class Change(enum.StrEnum):
    """What an upsert did."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


PersonRecord = MissingReport | FoundPerson

OPEN_MISSING: Final = tuple(status for status in MissingStatus if status.is_open)
"""Statuses of the reports still looked for."""
OPEN_FOUND: Final = tuple(status for status in FoundStatus if status.is_open)
"""Statuses of the found persons still to be identified."""


def _apply(record: PersonRecord, fields: MissingFields | FoundFields) -> None:
    for key, value in asdict(fields).items():
        setattr(record, key, list(value) if isinstance(value, tuple) else value)
    record.content_hash = fields.content_hash()


PersonT = TypeVar("PersonT", MissingReport, FoundPerson)


_KIND: Final[dict[type[PersonRecord], str]] = {MissingReport: "missing", FoundPerson: "found"}


def _upsert(
    session: Session,
    model: type[PersonT],
    fields: MissingFields | FoundFields,
    *,
    create_only: bool = False,
) -> tuple[PersonT, Change]:
    record = session.scalar(select(model).where(model.ref == fields.ref))
    if record is not None and create_only:
        raise DuplicateRecordError(_KIND[model], fields.ref)
    if record is not None and record.content_hash == fields.content_hash():
        return record, Change.UNCHANGED
    change = Change.UPDATED
    if record is None:
        record = model(ref=fields.ref)
        session.add(record)
        change = Change.CREATED
    _apply(record, fields)
    return record, change


def upsert_missing(
    session: Session, fields: MissingFields, *, create_only: bool = False
) -> tuple[MissingReport, Change]:
    """Create the report with this ``ref``, or bring it up to date (``create_only``: a
    report of this ``ref`` is a ``DuplicateRecordError``)."""
    record, change = _upsert(session, MissingReport, fields, create_only=create_only)
    if change is not Change.UNCHANGED and fields.birth_precision is DatePrecision.UNKNOWN:
        record.birth_precision = (
            DatePrecision.DAY
            if fields.birth_date
            else DatePrecision.YEAR
            if fields.birth_year
            else DatePrecision.UNKNOWN
        )
    session.flush()
    return record, change


def upsert_found(
    session: Session, fields: FoundFields, *, create_only: bool = False
) -> tuple[FoundPerson, Change]:
    """Create the found person with this ``ref``, or bring the record up to date
    (``create_only``: a record of this ``ref`` is a ``DuplicateRecordError``)."""
    record, change = _upsert(session, FoundPerson, fields, create_only=create_only)
    session.flush()
    return record, change


def _create_once(kind: str, ref: str, create: Callable[[], tuple[PersonT, Change]]) -> PersonT:
    """``create()``, a create-only upsert that flushes: a ``DuplicateRecordError`` when a
    record of this ``ref`` exists, also when another writer stores it between the lookup
    and the insert (the unique ref refuses the row; other constraints are checked before).

    No savepoint: on SQLite the driver would make it the real transaction and commit the
    record on its release, before the request's audit line. The session is then left to
    roll back, as the request does on any error.
    """
    try:
        return create()[0]
    except IntegrityError:
        raise DuplicateRecordError(kind, ref) from None


def create_missing(session: Session, fields: MissingFields) -> MissingReport:
    """Create a report; a report with the same ``ref`` is a ``DuplicateRecordError``."""
    return _create_once(
        "missing", fields.ref, lambda: upsert_missing(session, fields, create_only=True)
    )


def create_found(session: Session, fields: FoundFields) -> FoundPerson:
    """Create a found person; the same ``ref`` twice is a ``DuplicateRecordError``."""
    return _create_once(
        "found", fields.ref, lambda: upsert_found(session, fields, create_only=True)
    )


def get_missing(session: Session, ref: str) -> MissingReport:
    """The report with this reference, photos loaded."""
    record = session.scalar(
        select(MissingReport)
        .where(MissingReport.ref == ref)
        .options(selectinload(MissingReport.photos).selectinload(Photo.faces))
    )
    if record is None:
        raise RecordNotFoundError("missing", ref)
    return record


def get_found(session: Session, ref: str) -> FoundPerson:
    """The found person with this reference, photos loaded."""
    record = session.scalar(
        select(FoundPerson)
        .where(FoundPerson.ref == ref)
        .options(selectinload(FoundPerson.photos).selectinload(Photo.faces))
    )
    if record is None:
        raise RecordNotFoundError("found", ref)
    return record


def get_person(session: Session, side: Side, ref: str) -> PersonRecord:
    """The record of either side with this reference."""
    return get_missing(session, ref) if side is Side.MISSING else get_found(session, ref)


def records_by_ids(session: Session, side: Side, ids: Iterable[int]) -> dict[int, PersonRecord]:
    """The records of one side with one of ``ids``, photos and faces loaded, by id."""
    model = MODELS[side]
    found: dict[int, PersonRecord] = {}
    for chunk in chunks(ids):
        query = (
            select(model)
            .where(model.id.in_(chunk))
            .options(selectinload(model.photos).selectinload(Photo.faces))
        )
        records: Iterable[PersonRecord] = session.scalars(query)
        found.update((record.id, record) for record in records)
    return found


def list_missing(session: Session, *, offset: int = 0, limit: int = 100) -> list[MissingReport]:
    """Reports in reference order, one page."""
    query = select(MissingReport).order_by(MissingReport.ref).offset(offset).limit(limit)
    return list(session.scalars(query))


def list_found(session: Session, *, offset: int = 0, limit: int = 100) -> list[FoundPerson]:
    """Found persons in reference order, one page."""
    query = select(FoundPerson).order_by(FoundPerson.ref).offset(offset).limit(limit)
    return list(session.scalars(query))


def count(session: Session, model: type[Any]) -> int:
    """How many rows a table holds."""
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def all_missing(session: Session, *, include_closed: bool = False) -> list[MissingReport]:
    """Every open report (or every report) with its photos and faces, for re-matching."""
    query = select(MissingReport).options(
        selectinload(MissingReport.photos).selectinload(Photo.faces)
    )
    if not include_closed:
        query = query.where(MissingReport.status.in_(OPEN_MISSING))
    return list(session.scalars(query.order_by(MissingReport.id)))


def all_found(session: Session, *, include_closed: bool = False) -> list[FoundPerson]:
    """Every found person still to identify (or every one), with photos and faces."""
    query = select(FoundPerson).options(selectinload(FoundPerson.photos).selectinload(Photo.faces))
    if not include_closed:
        query = query.where(FoundPerson.status.in_(OPEN_FOUND))
    return list(session.scalars(query.order_by(FoundPerson.id)))


def set_status(
    session: Session, side: Side, ref: str, status: MissingStatus | FoundStatus
) -> tuple[PersonRecord, MissingStatus | FoundStatus]:
    """Move a record to ``status``; returns the record (photos loaded) and its old status.

    The caller audits the change and brings the face index in step (a closed case's faces
    leave it; a reopened one's come back).
    """
    record = get_person(session, side, ref)
    previous: MissingStatus | FoundStatus = record.status
    if isinstance(record, MissingReport):
        if not isinstance(status, MissingStatus):
            raise InvalidRecordError(
                f"a report's status is one of {[s.value for s in MissingStatus]}", field="status"
            )
        if record.status is not status:
            record.status = status
            record.updated_at = utcnow()
    else:
        if not isinstance(status, FoundStatus):
            raise InvalidRecordError(
                f"a found person's status is one of {[s.value for s in FoundStatus]}",
                field="status",
            )
        if record.status is not status:
            record.status = status
            record.updated_at = utcnow()
    session.flush()
    return record, previous


@dataclass(frozen=True, kw_only=True)
class FaceFields:
    """A detected face as intake hands it to the store."""

    face_no: int
    box: tuple[int, int, int, int]  # top, right, bottom, left in pixels of the stored photo
    width_px: int
    sharpness: float | None
    embedding: bytes
    model: str
    searchable: bool
    yaw: float | None = None
    roll: float | None = None
    quality_note: str | None = None


@dataclass(frozen=True, kw_only=True)
class PhotoFields:
    """A photo's file facts and intake result as handed to the store."""

    sha256: str
    stored_path: str
    size_bytes: int
    width: int | None
    height: int | None
    status: PhotoStatus
    status_detail: str | None = None
    taken_year: int | None = None
    taken_date: Any = None
    age_at_photo: int | None = None


def find_photo(session: Session, owner: PersonRecord, sha256: str) -> Photo | None:
    """The owner's photo with this content hash, if it has one."""
    column = Photo.missing_id if isinstance(owner, MissingReport) else Photo.found_id
    return session.scalar(select(Photo).where(column == owner.id, Photo.sha256 == sha256))


def photo_digests(session: Session, side: Side, refs: Sequence[str]) -> set[tuple[str, str]]:
    """(record ref, photo SHA-256) of every photo the side's records with these refs have."""
    model: type[MissingReport] | type[FoundPerson]
    model, column = (
        (MissingReport, Photo.missing_id) if side is Side.MISSING else (FoundPerson, Photo.found_id)
    )
    rows = session.execute(
        select(model.ref, Photo.sha256).join(Photo, column == model.id).where(model.ref.in_(refs))
    )
    return {(ref, digest) for ref, digest in rows}


def add_photo(
    session: Session, owner: PersonRecord, photo: PhotoFields, faces: Sequence[FaceFields]
) -> Photo:
    """Store a photo and its faces for a report or a found person."""
    side = Side.MISSING if isinstance(owner, MissingReport) else Side.FOUND
    row = Photo(
        side=side,
        missing_id=owner.id if side is Side.MISSING else None,
        found_id=owner.id if side is Side.FOUND else None,
        **asdict(photo),
    )
    row.faces = [
        Face(
            face_no=face.face_no,
            box_top=face.box[0],
            box_right=face.box[1],
            box_bottom=face.box[2],
            box_left=face.box[3],
            width_px=face.width_px,
            sharpness=face.sharpness,
            yaw=face.yaw,
            roll=face.roll,
            quality_note=face.quality_note,
            embedding=face.embedding,
            model=face.model,
            searchable=face.searchable,
        )
        for face in faces
    ]
    session.add(row)
    session.flush()
    return row


def _searchable(query: SelectT, side: Side) -> SelectT:
    """Restrict a query joined to ``Face`` to the searchable faces of one side's open cases."""
    query = query.join(Photo, Face.photo_id == Photo.id).where(
        Photo.side == side, Face.searchable.is_(True)
    )
    if side is Side.MISSING:
        return query.join(MissingReport, Photo.missing_id == MissingReport.id).where(
            MissingReport.status.in_(OPEN_MISSING)
        )
    return query.join(FoundPerson, Photo.found_id == FoundPerson.id).where(
        FoundPerson.status.in_(OPEN_FOUND)
    )


def searchable_faces(session: Session, side: Side) -> list[tuple[int, bytes, str]]:
    """``(face id, embedding, model)`` of every searchable face of one side's open cases."""
    query = _searchable(select(Face.id, Face.embedding, Face.model), side).order_by(Face.id)
    return [(row[0], row[1], row[2]) for row in session.execute(query)]


@dataclass(frozen=True, slots=True)
class FaceIndexRow:
    """A searchable face with what a face search may be restricted by: its owner's facts.

    ``place`` is where the report's subject went missing, or where the found person was
    found; ``station`` is the found person's station (None for reports).
    """

    face_id: int
    photo_id: int
    owner_id: int
    sex: Sex
    place: str | None
    hometown: str | None
    station: str | None


def face_index_rows(
    session: Session,
    side: Side,
    *,
    model: str,
    owners: Iterable[int] | None = None,
    face_ids: Iterable[int] | None = None,
    after: int | None = None,
) -> list[FaceIndexRow]:
    """The searchable faces of one side's open cases made by ``model``, in face id order.

    ``owners`` (record ids) or ``face_ids`` narrow the answer to those records or faces;
    ``after`` to faces with a higher id.
    """
    query: AnySelect
    if side is Side.MISSING:
        query = select(
            Face.id,
            Photo.id,
            MissingReport.id,
            MissingReport.sex,
            MissingReport.missing_place,
            MissingReport.hometown,
        )
        owner_id: Any = MissingReport.id
    else:
        query = select(
            Face.id,
            Photo.id,
            FoundPerson.id,
            FoundPerson.sex,
            FoundPerson.found_place,
            FoundPerson.hometown,
            FoundPerson.station,
        )
        owner_id = FoundPerson.id
    query = _searchable(query, side).where(Face.model == model).order_by(Face.id)
    if after is not None:
        query = query.where(Face.id > after)
    if owners is None and face_ids is None:
        batches: Iterable[AnySelect] = [query]
    elif owners is not None:
        batches = (query.where(owner_id.in_(chunk)) for chunk in chunks(owners))
    else:
        assert face_ids is not None
        batches = (query.where(Face.id.in_(chunk)) for chunk in chunks(face_ids))
    rows = [
        FaceIndexRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6] if len(r) > 6 else None)
        for batch in batches
        for r in session.execute(batch)
    ]
    rows.sort(key=lambda row: row.face_id)
    return rows


def newest_face_id(session: Session) -> int:
    """The highest face id in the store (0 when there is none)."""
    return session.scalar(select(func.max(Face.id))) or 0


def face_embeddings(session: Session, face_ids: Iterable[int]) -> dict[int, tuple[bytes, str]]:
    """``(embedding, model)`` of each of ``face_ids`` that exists."""
    found: dict[int, tuple[bytes, str]] = {}
    for chunk in chunks(face_ids):
        query = select(Face.id, Face.embedding, Face.model).where(Face.id.in_(chunk))
        found.update((row[0], (row[1], row[2])) for row in session.execute(query))
    return found


@dataclass(frozen=True)
class DeletedPhoto:
    """What deleting a photo touched: whose photo it was and whether its file is unused now."""

    photo_id: int
    side: Side
    owner_id: int
    face_ids: tuple[int, ...]
    stored_path: str
    file_unused: bool


def delete_photo(session: Session, photo_id: int) -> DeletedPhoto:
    """Delete a photo and its faces. The file stays: the caller removes it after the commit
    when ``file_unused`` (another record may hold the same photo, stored once)."""
    photo = session.get(Photo, photo_id, options=[selectinload(Photo.faces)])
    if photo is None:
        raise RecordNotFoundError("photo", photo_id)
    deleted = DeletedPhoto(
        photo_id=photo.id,
        side=photo.side,
        owner_id=photo.owner_id,
        face_ids=tuple(face.id for face in photo.faces),
        stored_path=photo.stored_path,
        file_unused=False,
    )
    session.delete(photo)
    session.flush()
    others = session.scalar(
        select(func.count()).select_from(Photo).where(Photo.stored_path == deleted.stored_path)
    )
    return DeletedPhoto(**{**asdict(deleted), "file_unused": not others})


def record_ids(session: Session) -> dict[Side, set[int]]:
    """The ids of every record on each side, open or closed."""
    return {
        Side.MISSING: set(session.scalars(select(MissingReport.id))),
        Side.FOUND: set(session.scalars(select(FoundPerson.id))),
    }


def face_owners(session: Session, face_ids: Iterable[int]) -> dict[int, tuple[Side, int]]:
    """For each face id, the side and id of the record its photo belongs to."""
    ids = list(face_ids)
    if not ids:
        return {}
    query = (
        select(Face.id, Photo.side, Photo.missing_id, Photo.found_id)
        .join(Photo, Face.photo_id == Photo.id)
        .where(Face.id.in_(ids))
    )
    owners: dict[int, tuple[Side, int]] = {}
    for face_id, side, missing_id, found_id in session.execute(query):
        owner = missing_id if side is Side.MISSING else found_id
        if owner is not None:
            owners[face_id] = (side, owner)
    return owners
