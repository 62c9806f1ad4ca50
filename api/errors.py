"""The one place where domain errors become HTTP responses."""

from __future__ import annotations

import logging
import math

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from api.auth import NotAllowedError, NotSignedInError
from api.refusals import TooManyRefusalsError
from indexes import (
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
)

logger = logging.getLogger(__name__)

_STATUS: list[tuple[type[Exception], int, str]] = [
    (RecordNotFoundError, 404, "not_found"),
    (DuplicateRecordError, 409, "duplicate"),
    (DecisionConflictError, 409, "decision_conflict"),
    (InvalidRecordError, 422, "invalid_record"),
    (NoFaceFoundError, 422, "no_face"),
    (FaceTooPoorError, 422, "face_too_poor"),
    (SeveralFacesFoundError, 409, "several_faces"),
    (IndexModelMismatchError, 409, "index_model_mismatch"),
    # The row is there but its file is not the photo: gone for good unless restored.
    (PhotoFileMissingError, 410, "photo_file_missing"),
    (PhotoFileChangedError, 410, "photo_file_changed"),
    (PhotoPathOutsideError, 409, "photo_file_outside_store"),
]


def _response(status: int, error: str, message: str, detail: object = None) -> JSONResponse:
    return JSONResponse(
        status_code=status, content={"error": error, "message": message, "detail": detail}
    )


def install_error_handlers(app: FastAPI) -> None:
    """Map every domain error to its status code and a clear body."""

    async def image_rejected(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ImageRejectedError)
        status = 413 if exc.reason in {"too_large", "too_many_pixels"} else 422
        return _response(status, f"image_{exc.reason}", str(exc))

    async def several_faces(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, SeveralFacesFoundError)
        faces = [
            {"face_no": f.face_no, "box": list(f.box), "width_px": f.width_px} for f in exc.faces
        ]
        return _response(409, "several_faces", f"{str(exc)} with face_no", faces)

    async def already_decided(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AlreadyDecidedError)
        latest = exc.latest
        detail = {
            "latest_decision": {
                "id": latest.id,
                "reviewer": latest.reviewer,
                "status": latest.status.value,
                "decided_at": latest.decided_at.isoformat(),
            },
            "seen_decision_id": exc.seen_decision_id,
        }
        return _response(409, "already_decided", str(exc), detail)

    async def not_signed_in(_: Request, exc: Exception) -> JSONResponse:
        response = _response(401, "not_signed_in", str(exc))
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    async def not_allowed(_: Request, exc: Exception) -> JSONResponse:
        return _response(403, "not_allowed", str(exc))

    async def too_many_refusals(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, TooManyRefusalsError)
        response = _response(429, "too_many_refusals", str(exc))
        response.headers["Retry-After"] = str(math.ceil(exc.retry_after))
        return response

    async def face_workers_busy(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, FaceWorkersBusyError)
        response = _response(503, "face_workers_busy", str(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    async def face_worker_failed(_: Request, exc: Exception) -> JSONResponse:
        # A worker that died took this photo with it; the pool has started afresh.
        response = _response(503, "face_worker_failed", str(exc))
        response.headers["Retry-After"] = "1"
        return response

    async def store_error(_: Request, exc: Exception) -> JSONResponse:
        # The driver's text may quote the failing row (PostgreSQL's "Failing row
        # contains ..."): only the kind of error is logged, and nothing is answered.
        cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        logger.error("the store refused a request: %s", type(cause).__name__)
        return _response(500, "store_error", "the store could not complete the request")

    app.add_exception_handler(SQLAlchemyError, store_error)
    app.add_exception_handler(NotSignedInError, not_signed_in)
    app.add_exception_handler(NotAllowedError, not_allowed)
    app.add_exception_handler(TooManyRefusalsError, too_many_refusals)
    app.add_exception_handler(ImageRejectedError, image_rejected)
    app.add_exception_handler(FaceWorkersBusyError, face_workers_busy)
    app.add_exception_handler(FaceWorkerError, face_worker_failed)
    app.add_exception_handler(SeveralFacesFoundError, several_faces)
    # A subclass of DecisionConflictError: its own handler is found first.
    app.add_exception_handler(AlreadyDecidedError, already_decided)
    for error_type, status, code in _STATUS:
        if error_type is SeveralFacesFoundError:
            continue

        async def handler(
            _: Request, exc: Exception, status: int = status, code: str = code
        ) -> JSONResponse:
            return _response(status, code, str(exc))

        app.add_exception_handler(error_type, handler)
