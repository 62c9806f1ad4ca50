"""Erasing a record from the store for good, and finding the closed cases a retention
sweep erases.

A record goes with its photos, faces, candidates and their decisions (and a found
person with its links to other found persons and their decisions); the audit log,
which holds no personal data, stays. Photo files and the face index are the caller's
(``usecases.erasure``), after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from records.enums import Side
from records.models import Candidate, Decision, FoundLink, FoundLinkDecision
from records.storage._queries import MODELS, chunks
from records.storage.person_records import OPEN_FOUND, OPEN_MISSING, get_person
from records.storage.photos import DeletedPhoto, delete_photo
from records.storage.rematch_state import forget_bounded_paired_with


@dataclass(frozen=True)
class ErasedRecord:
    """What erasing a record took with it."""

    side: Side
    record_id: int
    photos: tuple[DeletedPhoto, ...]
    candidates: int
    decisions: int
    links: int = 0
    """Links to other found persons (a found person's only)."""
    link_decisions: int = 0


def _erase_links(session: Session, found_id: int) -> tuple[int, int]:
    """Delete a found person's links and their decisions; (links, decisions) deleted."""
    link_ids = list(
        session.scalars(
            select(FoundLink.id).where(
                or_(FoundLink.found_a_id == found_id, FoundLink.found_b_id == found_id)
            )
        )
    )
    decisions = sum(
        session.scalar(
            select(func.count())
            .select_from(FoundLinkDecision)
            .where(FoundLinkDecision.link_id.in_(chunk))
        )
        or 0
        for chunk in chunks(link_ids)
    )
    for chunk in chunks(link_ids):
        # Decisions go with their links (ON DELETE CASCADE).
        session.execute(delete(FoundLink).where(FoundLink.id.in_(chunk)))
    return len(link_ids), decisions


def erase_record(session: Session, side: Side, ref: str) -> ErasedRecord:
    """Delete a record with its photos, faces, candidates and their decisions, and a
    found person's links with their decisions (the audit log, which holds no personal
    data, stays). Photo files stay: the caller removes the unused ones after the
    commit."""
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
    links, link_decisions = _erase_links(session, record.id) if side is Side.FOUND else (0, 0)
    if side is Side.MISSING:
        # Its scored pairs go with it (ON DELETE CASCADE): a bounded found person weighed
        # against it is chosen for again by the next re-match, as a full run would.
        forget_bounded_paired_with(session, [record.id])
    record_id = record.id
    session.expire(record)
    session.delete(record)
    session.flush()
    return ErasedRecord(side, record_id, photos, len(candidate_ids), decisions, links,
                        link_decisions)  # fmt: skip


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
