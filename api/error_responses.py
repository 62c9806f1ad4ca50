"""The one place where errors become HTTP responses, and where those are documented.

Every error answers one body, :class:`api.schemas.ErrorPublic`: a short code (``error``),
a message for people and, for some codes, a ``detail`` (the problems of a refused
request, the faces of a photo with several). FastAPI's and Starlette's own errors (a
request that breaks the documented schema, an unknown path, a method a path does not
take, a body that cannot be read) answer the same body.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from api.auth import NotAllowedError, NotSignedInError
from api.schemas import ErrorPublic, ProblemPublic
from api.sign_in_refusals import TooManyRefusalsError
from usecases.refusals import REFUSED, RefusalKind, refusal_for
from usecases.vocabulary import RecordsError

logger = logging.getLogger(__name__)

_STATUS: Final[dict[RefusalKind, int]] = {
    RefusalKind.NOT_FOUND: 404,
    RefusalKind.CONFLICT: 409,
    RefusalKind.INVALID: 422,
    RefusalKind.TOO_LARGE: 413,
    # The row is there but its file is not the photo: gone for good unless restored.
    RefusalKind.GONE: 410,
    RefusalKind.BUSY: 503,
}
"""The status code of each kind of refusal (``usecases.refusals`` says which is which)."""


_DESCRIPTIONS: Final[dict[int, str]] = {
    400: "the body could not be read (not JSON, not a form, not UTF-8)",
    401: "no valid access token, or the sign-in has ended",
    403: "the caller's role may not do this, or a signed-in browser's change lacks "
    "X-Xunqin-Request",
    404: "no such record",
    409: "in conflict with what is stored (a duplicate, a closed case, another pair), "
    "or a photo with several faces (detail: every face's box)",
    410: "the photo's file is gone from the store, or no longer holds the photo",
    413: "the upload or the image is too large",
    422: "the request breaks the documented schema or the model's rules (detail: the "
    "problems, for invalid_request)",
    429: "too many refused sign-ins: wait (Retry-After)",
    503: "every face worker is busy, or one stopped on this photo: try again (Retry-After)",
}

COMMON_ERRORS: Final = (400, 401, 403, 422)
"""What any operation that reads its caller and its input may answer."""


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route or router: each status with the one error body."""
    return {
        status: {"model": ErrorPublic, "description": _DESCRIPTIONS[status]} for status in statuses
    }


_HTTP_CODES: Final[dict[int, str]] = {
    400: "unreadable_body",
    404: "not_found",
    405: "method_not_allowed",
}


def _response(status: int, error: str, message: str, detail: object = None) -> JSONResponse:
    body = ErrorPublic(error=error, message=message, detail=detail)
    return JSONResponse(status_code=status, content=body.model_dump(mode="json"))


def _problems(exc: RequestValidationError) -> list[ProblemPublic]:
    # Neither the input (a token, a name) nor pydantic's links go back: where and why.
    return [
        ProblemPublic(loc=[str(part) for part in error["loc"]], msg=error["msg"],
                      type=error["type"])
        for error in exc.errors()
    ]  # fmt: skip


def _summary(problems: list[ProblemPublic]) -> str:
    if not problems:
        return "the request is not valid"
    first = problems[0]
    text = f"{'.'.join(first.loc)}: {first.msg}" if first.loc else first.msg
    return text + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")


_METHODS: Final = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> list[str]:
    # Starlette's 405 names the methods of the first route on the path only: each method
    # is tried against every route (not the static files, which take any path below).
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]
    return [
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    ]


def document_errors(app: FastAPI) -> None:
    """Say in the app's OpenAPI that every 4xx answers :class:`ErrorPublic` as JSON, also
    on routes that answer HTML or PNG when all goes well."""
    build = app.openapi
    error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorPublic"}}}

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for operations in schema["paths"].values():
                for operation in operations.values():
                    for status, response in operation.get("responses", {}).items():
                        if status.startswith("4"):
                            response["content"] = error_body
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    """Map every error to its status code and the one error body."""
    document_errors(app)

    async def refused(_: Request, exc: Exception) -> JSONResponse:
        told = refusal_for(exc)
        if told is None:  # pragma: no cover - registered for refusals only
            raise exc
        response = _response(_STATUS[told.kind], told.code, told.message, told.detail)
        if told.retry_after is not None:
            response.headers["Retry-After"] = str(told.retry_after)
        return response

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

    async def store_error(_: Request, exc: Exception) -> JSONResponse:
        # The driver's text may quote the failing row (PostgreSQL's "Failing row
        # contains ..."): only the kind of error is logged, and nothing is answered.
        cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        logger.error("the store refused a request: %s", type(cause).__name__)
        return _response(500, "store_error", "the store could not complete the request")

    async def invalid_request(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = _problems(exc)
        return _response(422, "invalid_request", _summary(problems),
                         [problem.model_dump() for problem in problems])  # fmt: skip

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        response = _response(exc.status_code, _HTTP_CODES.get(exc.status_code, "http_error"),
                             str(exc.detail))  # fmt: skip
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(_allowed_methods(request))
        return response

    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(SQLAlchemyError, store_error)
    app.add_exception_handler(NotSignedInError, not_signed_in)
    app.add_exception_handler(NotAllowedError, not_allowed)
    app.add_exception_handler(TooManyRefusalsError, too_many_refusals)
    for error_type in (*REFUSED, RecordsError):
        app.add_exception_handler(error_type, refused)
