"""Reading: registering a record, and every read of a record, a candidate or a photo,
each audited once.

A read is personal data seen, so it leaves an audit line (who, what kind, which id, how
many were shown; never the content). These functions work in the caller's unit of work
(``session``): the API builds its answer from the rows in the request's session, the
command line in one it opens, and the audit line commits with the read.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from matching.evidence_model import EvidenceModel, EvidenceScore
from records import (
    Candidate,
    CandidateStatus,
    FoundPerson,
    MissingReport,
    Photo,
    RecordNotFoundError,
)
from records.inputs import FoundFields, MissingFields
from records.photo_store import PhotoStore
from records.storage import person_records
from records.storage.audit_log import audit
from records.storage.candidate_pairs import (
    RankedCandidate,
    count_candidates,
    get_candidate,
    list_candidates,
)
from usecases.explaining import Explanations


def register_missing(session: Session, fields: MissingFields, *, actor: str) -> MissingReport:
    """File a missing-person report (``DuplicateRecordError`` if the ref is taken)."""
    record = person_records.create_missing(session, fields)
    audit(session, actor=actor, action="create", subject_kind="missing", subject_id=record.id)
    return record


def register_found(session: Session, fields: FoundFields, *, actor: str) -> FoundPerson:
    """Record a person in a station's care (``DuplicateRecordError`` if the ref is taken)."""
    record = person_records.create_found(session, fields)
    audit(session, actor=actor, action="create", subject_kind="found", subject_id=record.id)
    return record


def missing_page(
    session: Session, *, actor: str, offset: int, limit: int
) -> tuple[list[MissingReport], int]:
    """A page of reports and how many there are in all."""
    rows = person_records.list_missing(session, offset=offset, limit=limit)
    audit(session, actor=actor, action="list", subject_kind="missing",
          detail={"shown": len(rows), "offset": offset})  # fmt: skip
    return rows, person_records.count(session, MissingReport)


def found_page(
    session: Session, *, actor: str, offset: int, limit: int
) -> tuple[list[FoundPerson], int]:
    """A page of found persons and how many there are in all."""
    rows = person_records.list_found(session, offset=offset, limit=limit)
    audit(session, actor=actor, action="list", subject_kind="found",
          detail={"shown": len(rows), "offset": offset})  # fmt: skip
    return rows, person_records.count(session, FoundPerson)


def missing_report(session: Session, ref: str, *, actor: str, contact: bool) -> MissingReport:
    """One report; the audit line says whether the reporter's contact was given."""
    record = person_records.get_missing(session, ref)
    audit(session, actor=actor, action="read", subject_kind="missing", subject_id=record.id,
          detail={"contact": contact})  # fmt: skip
    return record


def found_person(session: Session, ref: str, *, actor: str) -> FoundPerson:
    """One found person."""
    record = person_records.get_found(session, ref)
    audit(session, actor=actor, action="read", subject_kind="found", subject_id=record.id)
    return record


def photo_file(session: Session, photo_store: PhotoStore, photo_id: int, *, actor: str) -> Path:
    """A stored photo's file, checked to hold the photo (``PhotoFileError`` otherwise)."""
    photo = session.get(Photo, photo_id)
    if photo is None:
        raise RecordNotFoundError("photo", photo_id)
    path = photo_store.verified(photo.stored_path, photo.sha256)
    audit(session, actor=actor, action="read_photo", subject_kind="photo", subject_id=photo_id)
    return path


def candidates_page(
    session: Session,
    *,
    actor: str,
    status: CandidateStatus | None = None,
    max_rank: int | None = None,
    offset: int = 0,
    limit: int | None = 50,
    with_evidence: bool | None = None,
) -> tuple[list[RankedCandidate], int]:
    """Candidates, best first, of one status and up to a rank if asked, and how many of
    that status there are; the audit line says too whether the evidence was shown."""
    rows = list_candidates(session, status=status, max_rank=max_rank, offset=offset,
                           limit=limit)  # fmt: skip
    shown: dict[str, object] = {"shown": len(rows), "offset": offset}
    if with_evidence is not None:
        shown["evidence"] = with_evidence
    audit(session, actor=actor, action="list", subject_kind="candidate", detail=shown)
    return rows, count_candidates(session, status=status)


def candidate(session: Session, candidate_id: int, *, actor: str) -> Candidate:
    """One candidate with its evidence (which names both people and why they may be one)."""
    row = get_candidate(session, candidate_id)
    audit(session, actor=actor, action="read", subject_kind="candidate", subject_id=candidate_id)
    return row


def candidate_score(
    session: Session, candidate_id: int, *, actor: str, model: EvidenceModel
) -> EvidenceScore:
    """A candidate's explained score (for its waterfall chart), the read audited."""
    return Explanations(session, model).of(candidate(session, candidate_id, actor=actor))
