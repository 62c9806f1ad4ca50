"""Errors raised by the records package.

RecordsError
├── RecordNotFoundError   no record with that reference or id
├── DuplicateRecordError  a record with that reference exists with other content
├── InvalidRecordError    a value breaks the model's rules (line number when importing)
└── DecisionConflictError a decision on a closed case, or on another pair than the one seen
    └── AlreadyDecidedError   the candidate's latest decision is not the one the reviewer saw,
                              or is one they did not say they override
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from records.enums import CandidateStatus


class RecordsError(Exception):
    """Base of every error of the records package."""


class RecordNotFoundError(RecordsError):
    """No record has the reference or id asked for."""

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"no {kind} record {key!r}")
        self.kind = kind
        self.key = key


class DuplicateRecordError(RecordsError):
    """A record with the same reference already exists and differs."""

    def __init__(self, kind: str, ref: str) -> None:
        super().__init__(f"a {kind} record {ref!r} already exists with different content")
        self.kind = kind
        self.ref = ref


class InvalidRecordError(RecordsError):
    """A field value is not acceptable. ``field`` names it where one is to blame."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message if field is None else f"{field}: {message}")
        self.field = field


class DecisionConflictError(RecordsError):
    """A decision cannot be recorded as asked: the candidate's case is closed, or the
    candidate is no longer the pair the reviewer saw."""


@dataclass(frozen=True, slots=True)
class LatestDecision:
    """Who decided what and when: the candidate's latest decision, as a conflict names it."""

    id: int
    reviewer: str
    status: CandidateStatus
    decided_at: datetime


class AlreadyDecidedError(DecisionConflictError):
    """The candidate's latest decision is ``latest``, not the one the reviewer saw
    (``seen_decision_id``, None: undecided), or it is the one seen but the new decision
    does not say it overrides it."""

    def __init__(self, candidate_id: int, latest: LatestDecision, seen_decision_id: int | None):
        when = latest.decided_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        said = f"{latest.reviewer} decided {latest.status.value} at {when} (decision {latest.id})"
        if seen_decision_id == latest.id:
            message = (
                f"candidate {candidate_id} is decided: {said}; to change it, override "
                f"decision {latest.id} with a reason"
            )
        else:
            message = (
                f"candidate {candidate_id} was decided since it was seen: {said}; "
                "reload it, or override that decision with a reason"
            )
        super().__init__(message)
        self.candidate_id = candidate_id
        self.latest = latest
        self.seen_decision_id = seen_decision_id
