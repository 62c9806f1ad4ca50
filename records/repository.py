"""Reading and writing records: one function per thing the service does to the store.

Functions take an open ``Session``; the caller owns the transaction. Writes that a
person makes are audited by the caller through ``audit``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from records.enums import CandidateStatus, DatePrecision, PhotoStatus, Side
from records.errors import DuplicateRecordError, RecordNotFoundError
from records.inputs import FoundFields, MissingFields
from records.models import (
    AuditEvent,
    Candidate,
    Decision,
    Face,
    FoundPerson,
    MissingReport,
    Photo,
    utcnow,
)


class Change(enum.StrEnum):
    """What an upsert did."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


PersonRecord = MissingReport | FoundPerson


def _apply(record: PersonRecord, fields: MissingFields | FoundFields) -> None:
    for key, value in asdict(fields).items():
        setattr(record, key, list(value) if isinstance(value, tuple) else value)
    record.content_hash = fields.content_hash()


PersonT = TypeVar("PersonT", MissingReport, FoundPerson)


def _upsert(
    session: Session, model: type[PersonT], fields: MissingFields | FoundFields
) -> tuple[PersonT, Change]:
    record = session.scalar(select(model).where(model.ref == fields.ref))
    if record is not None and record.content_hash == fields.content_hash():
        return record, Change.UNCHANGED
    change = Change.UPDATED
    if record is None:
        record = model(ref=fields.ref)
        session.add(record)
        change = Change.CREATED
    _apply(record, fields)
    return record, change


def upsert_missing(session: Session, fields: MissingFields) -> tuple[MissingReport, Change]:
    """Create the report with this ``ref``, or bring it up to date."""
    record, change = _upsert(session, MissingReport, fields)
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


def upsert_found(session: Session, fields: FoundFields) -> tuple[FoundPerson, Change]:
    """Create the found person with this ``ref``, or bring the record up to date."""
    record, change = _upsert(session, FoundPerson, fields)
    session.flush()
    return record, change


def create_missing(session: Session, fields: MissingFields) -> MissingReport:
    """Create a report; a report with the same ``ref`` is a ``DuplicateRecordError``."""
    if session.scalar(select(MissingReport.id).where(MissingReport.ref == fields.ref)):
        raise DuplicateRecordError("missing", fields.ref)
    return upsert_missing(session, fields)[0]


def create_found(session: Session, fields: FoundFields) -> FoundPerson:
    """Create a found person; the same ``ref`` twice is a ``DuplicateRecordError``."""
    if session.scalar(select(FoundPerson.id).where(FoundPerson.ref == fields.ref)):
        raise DuplicateRecordError("found", fields.ref)
    return upsert_found(session, fields)[0]


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


def all_missing(session: Session) -> list[MissingReport]:
    """Every report with its photos and faces, for re-matching."""
    query = select(MissingReport).options(
        selectinload(MissingReport.photos).selectinload(Photo.faces)
    )
    return list(session.scalars(query.order_by(MissingReport.id)))


def all_found(session: Session) -> list[FoundPerson]:
    """Every found person with photos and faces, for re-matching."""
    query = select(FoundPerson).options(selectinload(FoundPerson.photos).selectinload(Photo.faces))
    return list(session.scalars(query.order_by(FoundPerson.id)))


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


def searchable_faces(session: Session, side: Side) -> list[tuple[int, bytes, str]]:
    """``(face id, embedding, model)`` of every searchable face of one side."""
    query = (
        select(Face.id, Face.embedding, Face.model)
        .join(Photo, Face.photo_id == Photo.id)
        .where(Photo.side == side, Face.searchable.is_(True))
        .order_by(Face.id)
    )
    return [(row[0], row[1], row[2]) for row in session.execute(query)]


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


def upsert_candidate(
    session: Session,
    *,
    missing_id: int,
    found_id: int,
    score: float,
    probability: float | None,
    evidence: dict[str, Any],
    model_version: str,
    existing: dict[tuple[int, int], Candidate] | None = None,
) -> tuple[Candidate, Change]:
    """Store a candidate's score and evidence; a reviewer's status is never touched.

    ``existing`` lets a batch job pass the candidates it loaded once instead of one
    query per pair.
    """
    key = (missing_id, found_id)
    if existing is not None:
        row = existing.get(key)
    else:
        row = session.scalar(
            select(Candidate).where(
                Candidate.missing_id == missing_id, Candidate.found_id == found_id
            )
        )
    if row is None:
        row = Candidate(
            missing_id=missing_id,
            found_id=found_id,
            score=score,
            probability=probability,
            evidence=evidence,
            model_version=model_version,
            status=CandidateStatus.PENDING,
        )
        session.add(row)
        if existing is not None:
            existing[key] = row  # a batch: the caller's commit flushes all at once
        else:
            session.flush()
        return row, Change.CREATED
    if (
        row.model_version == model_version
        and row.score == score
        and row.probability == probability
        and row.evidence == evidence
    ):
        return row, Change.UNCHANGED
    row.score = score
    row.probability = probability
    row.evidence = evidence
    row.model_version = model_version
    return row, Change.UPDATED


def all_candidates(session: Session) -> dict[tuple[int, int], Candidate]:
    """Every stored candidate by (report id, found person id)."""
    return {(c.missing_id, c.found_id): c for c in session.scalars(select(Candidate))}


@dataclass(frozen=True)
class RankedCandidate:
    """A candidate with its rank among the candidates of the same found person."""

    candidate: Candidate
    rank: int


def _ranked_query(status: CandidateStatus | None, max_rank: int | None) -> Select[Any]:
    rank = (
        func.rank()
        .over(partition_by=Candidate.found_id, order_by=(Candidate.score.desc(), Candidate.id))
        .label("rank")
    )
    inner = select(Candidate.id.label("cid"), rank).subquery()
    query = (
        select(Candidate, inner.c.rank)
        .join(inner, inner.c.cid == Candidate.id)
        .options(selectinload(Candidate.missing), selectinload(Candidate.found))
    )
    if status is not None:
        query = query.where(Candidate.status == status)
    if max_rank is not None:
        query = query.where(inner.c.rank <= max_rank)
    return query


def list_candidates(
    session: Session,
    *,
    status: CandidateStatus | None = None,
    max_rank: int | None = None,
    offset: int = 0,
    limit: int | None = 100,
) -> list[RankedCandidate]:
    """Candidates, best first, each with its rank for its found person."""
    query = _ranked_query(status, max_rank)
    query = query.order_by(Candidate.score.desc(), Candidate.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [RankedCandidate(row[0], int(row[1])) for row in session.execute(query)]


def count_candidates(session: Session, *, status: CandidateStatus | None = None) -> int:
    """How many candidates there are, in one status or in all."""
    query = select(func.count()).select_from(Candidate)
    if status is not None:
        query = query.where(Candidate.status == status)
    return int(session.scalar(query) or 0)


def get_candidate(session: Session, candidate_id: int) -> Candidate:
    """One candidate with both records and its decisions."""
    row = session.scalar(
        select(Candidate)
        .where(Candidate.id == candidate_id)
        .options(
            selectinload(Candidate.missing),
            selectinload(Candidate.found),
            selectinload(Candidate.decisions),
        )
    )
    if row is None:
        raise RecordNotFoundError("candidate", candidate_id)
    return row


def record_decision(
    session: Session,
    candidate_id: int,
    *,
    reviewer: str,
    status: CandidateStatus,
    reason: str | None,
) -> Decision:
    """Record a reviewer's decision and move the candidate to its status."""
    candidate = get_candidate(session, candidate_id)
    decision = Decision(candidate_id=candidate.id, reviewer=reviewer, status=status, reason=reason)
    candidate.status = status
    candidate.updated_at = utcnow()
    session.add(decision)
    session.flush()
    return decision


def labelled_pairs(session: Session) -> list[tuple[Candidate, bool]]:
    """Candidates a reviewer has confirmed (True) or rejected (False)."""
    query = select(Candidate).where(
        Candidate.status.in_([CandidateStatus.CONFIRMED, CandidateStatus.REJECTED])
    )
    return [(c, c.status is CandidateStatus.CONFIRMED) for c in session.scalars(query)]


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    subject_kind: str,
    subject_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append a line to the audit log. ``detail`` must hold no personal data."""
    session.add(
        AuditEvent(
            actor=actor,
            action=action,
            subject_kind=subject_kind,
            subject_id=None if subject_id is None else str(subject_id),
            detail=detail or {},
        )
    )
