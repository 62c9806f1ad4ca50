"""Erasing a record from the store for good, and finding the closed cases a retention
sweep erases.

A record goes with its photos, faces, candidates and their decisions; the audit log,
which holds no personal data, stays. Photo files and the face index are the caller's
(``usecases.erasure``), after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from records.enums import Side
from records.models import Candidate, Decision
from records.storage._queries import MODELS, chunks
from records.storage.person_records import OPEN_FOUND, OPEN_MISSING, get_person
from records.storage.photos import DeletedPhoto, delete_photo


@dataclass(frozen=True)
class ErasedRecord:
    """What erasing a record took with it."""

    side: Side
    record_id: int
    photos: tuple[DeletedPhoto, ...]
    candidates: int
    decisions: int


def erase_record(session: Session, side: Side, ref: str) -> ErasedRecord:
    """Delete a record with its photos, faces, candidates and their decisions (the audit
    log, which holds no personal data, stays). Photo files stay: the caller removes the
    unused ones after the commit."""
    record = get_person(session, side, ref)
    photos = tuple(delete_photo(session, photo.id) for photo in list(record.photos))
    column = Candidate.missing_id if side is Side.MISSING else Candidate.found_id
    candidate_ids = list(session.scalars(select(Candidate.id).where(column == record.id)))
    decisions = sum(
        session.scalar(
            select(func.count()).select_from(Decision).where(Decision.candidate_id.in_(chunk))
        )
        or 0
        for chunk in chunks(candidate_ids)
    )
    for chunk in chunks(candidate_ids):
        # Decisions go with their candidates (ON DELETE CASCADE).
        session.execute(delete(Candidate).where(Candidate.id.in_(chunk)))
    record_id = record.id
    session.expire(record)
    session.delete(record)
    session.flush()
    return ErasedRecord(side, record_id, photos, len(candidate_ids), decisions)


def closed_refs(session: Session, side: Side, *, unchanged_since: datetime) -> list[str]:
    """The refs of one side's closed cases last changed before ``unchanged_since``: what a
    retention sweep erases."""
    model = MODELS[side]
    open_statuses = OPEN_MISSING if side is Side.MISSING else OPEN_FOUND
    query = (
        select(model.ref)
        .where(model.status.not_in(open_statuses), model.updated_at < unchanged_since)
        .order_by(model.id)
    )
    return list(session.scalars(query))
