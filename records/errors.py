"""Errors raised by the records package.

RecordsError
├── RecordNotFoundError   no record with that reference or id
├── DuplicateRecordError  a record with that reference exists with other content
├── InvalidRecordError    a value breaks the model's rules (line number when importing)
├── DecisionConflictError a decision on a closed case, or on another pair than the one seen
│   └── AlreadyDecidedError   the candidate's latest decision is not the one the reviewer saw,
│       │                     or is one they did not say they override
│       └── LinkAlreadyDecidedError   the same, for a link between two found persons
├── PhotoFileRefusedError a photo an import sheet names may not be read (one message for all)
├── ImportRefusedError    an import file had rejected rows: nothing of it was stored
└── PhotoFileError        a photo row's file cannot be served (``xunqin doctor`` says more)
    ├── PhotoFileMissingError   the file is gone from the photo folder
    ├── PhotoFileChangedError   the file's content is not the photo's (its SHA-256)
    └── PhotoPathOutsideError   the stored path leads outside the store's photo folder
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from records.enums import CandidateStatus, LinkStatus


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


class PhotoFileError(RecordsError):
    """A photo row's file cannot be served. The message names neither the file nor the
    record: a photo's stored path is its content hash, and the answer goes to clients."""

    message = "the photo's file cannot be served"

    def __init__(self, stored_path: str) -> None:
        super().__init__(f"{self.message}; an administrator can run `xunqin doctor`")
        self.stored_path = stored_path


class PhotoFileMissingError(PhotoFileError):
    """The photo's file is gone from the store's photo folder (restore it from a backup)."""

    message = "the photo's file is missing from the store"


class PhotoFileChangedError(PhotoFileError):
    """The photo's file no longer holds the photo: its content's SHA-256 differs."""

    message = "the photo's file no longer holds the photo (its content changed)"


class PhotoPathOutsideError(PhotoFileError):
    """The photo's stored path leads outside the store's photo folder: an absolute path
    kept from an older store, or one that climbs out by ``..`` or a symbolic link."""

    message = "the photo's file lies outside this store's photo folder"


class PhotoFileRefusedError(RecordsError):
    """A photo named by an import sheet is missing, outside the import's photos folder, not
    a regular file, or over the size limit. The message is the same whatever the cause, so
    a sheet cannot learn which files exist on the server."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(
            "no photo that may be imported there: it must be a regular file of at most "
            f"{max_bytes} bytes inside the import's photos folder"
        )


class ImportRefusedError(RecordsError):
    """An import file had rows that could not be imported, so none of it was stored.

    ``rejected`` holds ``(line, reason)`` for every rejected row, in file order; ``rows``
    is how many rows the file had.
    """

    def __init__(self, file_name: str, rows: int, rejected: list[tuple[int, str]]) -> None:
        super().__init__(
            f"{file_name}: {len(rejected)} of {rows} row(s) rejected; nothing was imported"
        )
        self.rows = rows
        self.rejected = rejected


@dataclass(frozen=True, slots=True)
class LatestDecision:
    """Who decided what and when: the latest decision of a candidate (or of a link between
    found persons), as a conflict names it."""

    id: int
    reviewer: str
    status: CandidateStatus | LinkStatus
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


class LinkAlreadyDecidedError(AlreadyDecidedError):
    """A link between two found persons was decided since the reviewer saw it, or is
    decided and the new decision does not say it overrides that (``candidate_id`` holds
    the link's id, so the refusal is told as a candidate's is)."""

    def __init__(self, link_id: int, latest: LatestDecision, seen_decision_id: int | None):
        when = latest.decided_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        words = latest.status.words if isinstance(latest.status, LinkStatus) else latest.status
        said = f"{latest.reviewer} 于 {when} 判定为{words}（判定 {latest.id}）"
        if seen_decision_id == latest.id:
            message = (
                f"关联 {link_id} 已有判定：{said}；如需更改，请说明理由并覆盖判定 {latest.id} "
                f"(link {link_id} is decided; to change it, override decision {latest.id} "
                "with a reason)"
            )
        else:
            message = (
                f"关联 {link_id} 在您查看之后已被判定：{said}；请重新载入，或说明理由覆盖该判定 "
                f"(link {link_id} was decided since it was seen: reload it, or override "
                "that decision with a reason)"
            )
        DecisionConflictError.__init__(self, message)
        self.candidate_id = link_id
        self.latest = latest
        self.seen_decision_id = seen_decision_id
