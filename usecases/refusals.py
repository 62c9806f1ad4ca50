"""What a refused request is told: one table from the domain's errors to a short code, a
kind of refusal and a message, shared by the HTTP API and the command line.

The API answers each kind with its status code (``api.error_responses``); the command line prints
the message and exits with a code for the kind. A new domain error is added here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from indexes import (
    FaceIntakeError,
    FaceTooPoorError,
    FaceWorkerError,
    FaceWorkersBusyError,
    ImageRejectedError,
    IndexModelMismatchError,
    NoFaceFoundError,
    SeveralFacesFoundError,
)
from records import (
    AlreadyDecidedError,
    DecisionConflictError,
    DuplicateRecordError,
    InvalidRecordError,
    PhotoFileChangedError,
    PhotoFileMissingError,
    PhotoPathOutsideError,
    RecordNotFoundError,
    RecordsError,
)


class RefusalKind(StrEnum):
    """Why a request was refused, in the terms both interfaces answer in."""

    NOT_FOUND = "not_found"  # no such record
    CONFLICT = "conflict"  # in conflict with what is stored, or a choice to make
    INVALID = "invalid"  # the input breaks the model's rules
    TOO_LARGE = "too_large"  # an upload or image over the bounds
    GONE = "gone"  # the row is there, its file is not the photo
    BUSY = "busy"  # try again later


@dataclass(frozen=True)
class Refusal:
    """A refusal as told: ``code`` is short and stable, ``message`` for people."""

    kind: RefusalKind
    code: str
    message: str
    detail: object = None
    retry_after: int | None = None


# Most specific first: the first type an error is an instance of answers.
_TABLE: Final[list[tuple[type[Exception], RefusalKind, str]]] = [
    (RecordNotFoundError, RefusalKind.NOT_FOUND, "not_found"),
    (DuplicateRecordError, RefusalKind.CONFLICT, "duplicate"),
    (AlreadyDecidedError, RefusalKind.CONFLICT, "already_decided"),
    (DecisionConflictError, RefusalKind.CONFLICT, "decision_conflict"),
    (InvalidRecordError, RefusalKind.INVALID, "invalid_record"),
    (NoFaceFoundError, RefusalKind.INVALID, "no_face"),
    (FaceTooPoorError, RefusalKind.INVALID, "face_too_poor"),
    (SeveralFacesFoundError, RefusalKind.CONFLICT, "several_faces"),
    (IndexModelMismatchError, RefusalKind.CONFLICT, "index_model_mismatch"),
    (PhotoFileMissingError, RefusalKind.GONE, "photo_file_missing"),
    (PhotoFileChangedError, RefusalKind.GONE, "photo_file_changed"),
    (PhotoPathOutsideError, RefusalKind.CONFLICT, "photo_file_outside_store"),
    (FaceWorkersBusyError, RefusalKind.BUSY, "face_workers_busy"),
    (FaceWorkerError, RefusalKind.BUSY, "face_worker_failed"),
]

REFUSED: Final[tuple[type[Exception], ...]] = (
    ImageRejectedError, *(error for error, _, _ in _TABLE)
)  # fmt: skip
"""Every domain error that is a refusal (and not a fault of the service)."""

FACE_INTAKE: Final = FaceIntakeError
"""The refusals about the photo itself (the command line gives them their exit code)."""


def refusal_for(error: Exception) -> Refusal | None:
    """How the error is told, or None when it is no refusal of ours."""
    if isinstance(error, ImageRejectedError):
        too_large = error.reason in {"too_large", "too_many_pixels"}
        kind = RefusalKind.TOO_LARGE if too_large else RefusalKind.INVALID
        return Refusal(kind, f"image_{error.reason}", str(error))
    for error_type, kind, code in _TABLE:
        if isinstance(error, error_type):
            return Refusal(kind, code, *_told(error))
    if isinstance(error, RecordsError):
        return Refusal(RefusalKind.INVALID, "invalid_record", str(error))
    return None


def _told(error: Exception) -> tuple[str, object, int | None]:
    """The message, the detail and the seconds to wait, for the errors that carry more."""
    if isinstance(error, SeveralFacesFoundError):
        faces = [{"face_no": f.face_no, "box": list(f.box), "width_px": f.width_px}
                 for f in error.faces]  # fmt: skip
        return f"{error} with face_no", faces, None
    if isinstance(error, AlreadyDecidedError):
        latest = error.latest
        detail = {
            "latest_decision": {"id": latest.id, "reviewer": latest.reviewer,
                                "status": latest.status.value,
                                "decided_at": latest.decided_at.isoformat()},
            "seen_decision_id": error.seen_decision_id,
        }  # fmt: skip
        return str(error), detail, None
    if isinstance(error, FaceWorkersBusyError):
        return str(error), None, error.retry_after
    if isinstance(error, FaceWorkerError):
        # A worker that died took this photo with it; the pool has started afresh.
        return str(error), None, 1
    return str(error), None, None
