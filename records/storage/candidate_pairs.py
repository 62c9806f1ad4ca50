"""Candidate pairs: a report and a found person the matcher put side by side, with the
score it stored and what their explanation is built from when read.

A re-match upserts them; reviewers list them best first, each ranked among the
candidates of the same found person. Candidates of a closed case drop out of the
listings unless asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, cast

from sqlalchemy import CursorResult, Select, Table, delete, exists, func, insert, select, update
from sqlalchemy.orm import Session, selectinload

from records.enums import CandidateStatus
from records.errors import RecordNotFoundError
from records.models import Candidate, Decision, FoundPerson, MissingReport, Photo, utcnow
from records.storage._queries import SelectT
from records.storage.person_records import OPEN_FOUND, OPEN_MISSING, Change
from records.storage.scored_rows import refresh_scores


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
    change = refresh_scores(row, score=score, probability=probability, evidence=evidence,
                            model_version=model_version)  # fmt: skip
    return row, change


def all_candidates(session: Session) -> dict[tuple[int, int], Candidate]:
    """Every stored candidate by (report id, found person id)."""
    return {(c.missing_id, c.found_id): c for c in session.scalars(select(Candidate))}


@dataclass(frozen=True, slots=True)
class StoredScore:
    """What a re-match compares of a stored candidate to know whether to write it."""

    id: int
    score: float
    probability: float | None
    model_version: str
    status: CandidateStatus
    has_basis: bool
    """Whether it stores an explanation basis (those of earlier versions do not)."""
    face_nearest: bool = False
    """Whether its basis says it was kept for its face alone (among the closest faces)."""


def stored_scores(session: Session) -> dict[tuple[int, int], StoredScore]:
    """Every stored candidate's score by (report id, found person id), as plain values:
    a re-match reads them all, and objects with their evidence would be many times larger."""
    # Whether a basis is there, not the basis: a national store holds millions of them.
    query = select(Candidate.missing_id, Candidate.found_id, Candidate.id, Candidate.score,
                   Candidate.probability, Candidate.model_version, Candidate.status,
                   Candidate.explanation_basis.is_not(None),
                   Candidate.explanation_basis["face_nearest"].as_boolean())  # fmt: skip
    session.flush()  # what the session holds unwritten, the connection would not see
    return {
        (m, f): StoredScore(i, s, p, v, st, bool(b), bool(face))
        # Through the connection: the ORM's row loading was most of the time.
        for m, f, i, s, p, v, st, b, face in session.connection().execute(query)
    }


def write_candidates(
    session: Session, new: list[dict[str, Any]], changed: list[dict[str, Any]]
) -> None:
    """Insert new candidates (pending) and update the score, probability, explanation
    basis and model version of stored ones (each dict with its ``id``), in bulk: a re-match writes
    tens of thousands, and one object each took most of its storing time. A reviewer's
    status is never touched."""
    now = utcnow()
    for start in range(0, len(new), 1000):
        rows = [{**row, "status": CandidateStatus.PENDING, "created_at": now, "updated_at": now}
                for row in new[start : start + 1000]]  # fmt: skip
        # The table, not the class: the ORM's bulk path took twice the time a row, and a
        # full re-match at scale writes millions.
        session.execute(insert(_CANDIDATES), rows)
    for start in range(0, len(changed), 1000):
        rows = [{**row, "updated_at": now} for row in changed[start : start + 1000]]
        session.execute(update(Candidate), rows)


_CANDIDATES = cast(Table, Candidate.__table__)

_STALE_CHUNK = 5000
"""Stale candidates deleted per statement."""


def delete_stale_candidates(session: Session, stale: list[int]) -> int:
    """Delete pending candidates no longer kept; never one with a decision.

    In chunks (SQLite caps bound parameters). The statement checks again that a row is
    pending and undecided: a reviewer may have decided it while this job scored, and a
    decision (even one set back to pending) is history never to delete.
    latest_decision_id is on the row itself, which PostgreSQL checks again once a
    deciding transaction that held it commits.
    """
    removed = 0
    for start in range(0, len(stale), _STALE_CHUNK):
        deleted = cast(
            "CursorResult[Any]",
            session.execute(
                delete(Candidate)
                .where(
                    Candidate.id.in_(stale[start : start + _STALE_CHUNK]),
                    Candidate.status == CandidateStatus.PENDING,
                    Candidate.latest_decision_id.is_(None),
                    ~exists().where(Decision.candidate_id == Candidate.id),
                )
                .execution_options(synchronize_session=False)
            ),
        )
        removed += deleted.rowcount
    return removed


@dataclass(frozen=True)
class RankedCandidate:
    """A candidate with its rank among the candidates of the same found person."""

    candidate: Candidate
    rank: int


def _open_candidates(query: SelectT) -> SelectT:
    """Restrict a query of candidates to those whose report and found person are both open."""
    return (
        query.join(MissingReport, Candidate.missing_id == MissingReport.id)
        .join(FoundPerson, Candidate.found_id == FoundPerson.id)
        .where(MissingReport.status.in_(OPEN_MISSING), FoundPerson.status.in_(OPEN_FOUND))
    )


_WITH_RECORDS: Final = (
    selectinload(Candidate.missing).selectinload(MissingReport.photos).selectinload(Photo.faces),
    selectinload(Candidate.found).selectinload(FoundPerson.photos).selectinload(Photo.faces),
)
"""Both records with their photos and faces, in a few queries for a whole page: a
candidate read is explained from them (not one query a record as each is explained)."""


def _ranked_query(
    status: CandidateStatus | None, max_rank: int | None, include_closed: bool
) -> Select[Any]:
    rank = (
        func.rank()
        .over(partition_by=Candidate.found_id, order_by=(Candidate.score.desc(), Candidate.id))
        .label("rank")
    )
    ranked = select(Candidate.id.label("cid"), rank)
    inner = (ranked if include_closed else _open_candidates(ranked)).subquery()
    query = (
        select(Candidate, inner.c.rank)
        .join(inner, inner.c.cid == Candidate.id)
        .options(*_WITH_RECORDS, selectinload(Candidate.latest_decision))
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
    include_closed: bool = False,
) -> list[RankedCandidate]:
    """Candidates, best first, each with its rank for its found person.

    Candidates of a closed case are left out (and not ranked) unless ``include_closed``.
    """
    query = _ranked_query(status, max_rank, include_closed)
    query = query.order_by(Candidate.score.desc(), Candidate.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [RankedCandidate(row[0], int(row[1])) for row in session.execute(query)]


def count_candidates(
    session: Session, *, status: CandidateStatus | None = None, include_closed: bool = False
) -> int:
    """How many candidates there are, in one status or in all (of open cases, by default)."""
    query = select(func.count()).select_from(Candidate)
    if not include_closed:
        query = _open_candidates(query)
    if status is not None:
        query = query.where(Candidate.status == status)
    return int(session.scalar(query) or 0)


def get_candidate(session: Session, candidate_id: int) -> Candidate:
    """One candidate with both records and its decisions."""
    row = session.scalar(
        select(Candidate)
        .where(Candidate.id == candidate_id)
        .options(
            *_WITH_RECORDS,
            selectinload(Candidate.decisions),
            selectinload(Candidate.latest_decision),
        )
    )
    if row is None:
        raise RecordNotFoundError("candidate", candidate_id)
    return row
