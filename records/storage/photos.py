"""Photos and their faces as rows of the store, and the faces a face index is built from.

A photo belongs to one report or found person; its faces carry their embedding, the
model that made it and whether they are good enough to search by. Only the searchable
faces of open cases go into a face index. The photo files themselves are
``records.photo_store``'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from records.enums import PhotoStatus, Sex, Side
from records.errors import RecordNotFoundError
from records.models import Face, FoundPerson, MissingReport, Photo
from records.storage._queries import AnySelect, SelectT, chunks
from records.storage.person_records import OPEN_FOUND, OPEN_MISSING, PersonRecord


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
    unused = not files_in_use(session, [deleted.stored_path])
    return DeletedPhoto(**{**asdict(deleted), "file_unused": unused})


def files_in_use(session: Session, stored_paths: Sequence[str]) -> set[str]:
    """Which of these stored paths some photo row still names (a file no row names may
    go: another record may hold the same photo, stored once)."""
    return set(session.scalars(
        select(Photo.stored_path).where(Photo.stored_path.in_(stored_paths)).distinct()
    ))  # fmt: skip
