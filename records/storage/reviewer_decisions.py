"""Reviewers' decisions on candidate pairs: recording one, and the pairs decided so far.

A decision makes its status the candidate's; it names the latest decision the reviewer
saw, so that of reviewers deciding at once on the same thing one is recorded and the
others are refused. Confirmed and rejected pairs are what the evidence model learns from.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from records.enums import CandidateStatus
from records.errors import (
    AlreadyDecidedError,
    DecisionConflictError,
    InvalidRecordError,
    LatestDecision,
)
from records.models import Candidate, Decision, utcnow
from records.storage.candidate_pairs import get_candidate


def _already_decided(
    session: Session, candidate_id: int, seen_decision_id: int | None
) -> DecisionConflictError:
    """The conflict to raise when the candidate's latest decision is not the one seen (or
    is, but was not overridden), naming that latest decision as the store has it now."""
    query = (
        select(Decision.id, Decision.reviewer, Decision.status, Decision.decided_at)
        .join(Candidate, Candidate.latest_decision_id == Decision.id)
        .where(Candidate.id == candidate_id)
    )
    row = session.execute(query).one_or_none()
    if row is None:
        return DecisionConflictError(
            f"candidate {candidate_id} has no decision {seen_decision_id}: reload it"
        )
    return AlreadyDecidedError(candidate_id, LatestDecision(*row), seen_decision_id)


def record_decision(
    session: Session,
    candidate_id: int,
    *,
    reviewer: str,
    status: CandidateStatus,
    reason: str | None,
    seen: tuple[str, str] | None = None,
    seen_decision_id: int | None = None,
    override: bool = False,
) -> Decision:
    """Record a reviewer's decision and make its status the candidate's.

    ``seen`` is the (report ref, found person ref) the reviewer decided on: a candidate
    id may have gone to another pair since the page was loaded (a re-match removes and
    adds candidates). A closed case takes no decisions: it has left the review.

    ``seen_decision_id`` is the candidate's latest decision as the reviewer saw it (None:
    they saw it undecided). A decided candidate takes a new decision only as an
    ``override`` of the decision seen, with a reason; the new decision keeps the id of the
    one it overrides. Anything else raises ``AlreadyDecidedError`` naming the latest
    decision. The check and the write are one conditional update of the candidate's row
    (the row stays locked until the commit), so of reviewers deciding at once on what
    they all saw, one is recorded and the others are refused.
    """
    candidate = get_candidate(session, candidate_id)
    if seen is not None and seen != (candidate.missing.ref, candidate.found.ref):
        raise DecisionConflictError(
            f"candidate {candidate_id} is no longer the pair seen: reload the candidates"
        )
    if not (candidate.missing.status.is_open and candidate.found.status.is_open):
        raise DecisionConflictError(f"candidate {candidate_id}'s case is closed")
    if override and seen_decision_id is None:
        raise InvalidRecordError(
            "an override names the decision it overrides", field="seen_decision_id"
        )
    if override and not (reason and reason.strip()):
        raise InvalidRecordError("an override says why", field="reason")
    if seen_decision_id is not None and not override:
        raise _already_decided(session, candidate_id, seen_decision_id)
    expected = (
        Candidate.latest_decision_id.is_(None)
        if seen_decision_id is None
        else Candidate.latest_decision_id == seen_decision_id
    )
    claimed = cast(
        "CursorResult[Any]",
        session.execute(
            update(Candidate)
            .where(Candidate.id == candidate_id, expected)
            .values(status=status, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        ),
    )
    if claimed.rowcount != 1:
        raise _already_decided(session, candidate_id, seen_decision_id)
    decision = Decision(
        candidate_id=candidate_id,
        reviewer=reviewer,
        status=status,
        reason=reason,
        overrides_id=seen_decision_id,
    )
    session.add(decision)
    session.flush()
    session.execute(
        update(Candidate)
        .where(Candidate.id == candidate_id)
        .values(latest_decision_id=decision.id)
        .execution_options(synchronize_session=False)
    )
    session.expire(
        candidate, ["status", "updated_at", "latest_decision_id", "latest_decision", "decisions"]
    )
    return decision


def labelled_pairs(session: Session) -> list[tuple[Candidate, bool]]:
    """Candidates a reviewer has confirmed (True) or rejected (False)."""
    query = select(Candidate).where(
        Candidate.status.in_([CandidateStatus.CONFIRMED, CandidateStatus.REJECTED])
    )
    return [(c, c.status is CandidateStatus.CONFIRMED) for c in session.scalars(query)]


def decided_pairs(session: Session) -> dict[tuple[int, int], CandidateStatus]:
    """Reviewers' statuses other than pending, by (report id, found person id)."""
    query = select(Candidate.missing_id, Candidate.found_id, Candidate.status).where(
        Candidate.status != CandidateStatus.PENDING
    )
    return {(m, f): status for m, f, status in session.execute(query)}
