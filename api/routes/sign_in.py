"""A browser's sign-in: the reviewer page trades an access token for a session cookie.

The token is sent once and never kept in the browser; the cookie is HttpOnly (no script
reads it), SameSite=Strict (no other site's page sends it) and Secure in production. It
ends at sign-out, after ``XUNQIN_SIGN_IN_IDLE_MINUTES`` unused, ``XUNQIN_SIGN_IN_HOURS``
after it began, or when its user is disabled or given a new token. Signing in again
ends the browser's previous sign-in. Signing in and out are audited; a refused token is
audited too, without the token, within the limits of :mod:`api.sign_in_refusals`.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response, status

from api.auth import (
    SIGN_IN_COOKIE,
    NotAllowedError,
    NotSignedInError,
    SessionCookie,
    check_page_header,
    signed_in_caller,
)
from api.deps import ServicesDep, SessionDep
from api.error_responses import error_responses
from api.schemas import SignInCreate, SignInPublic
from api.sign_in_refusals import RefusalsDep
from usecases.settings import Settings
from usecases.signing_in import end_sign_in, note_refused_sign_in, start_sign_in

router = APIRouter(prefix="/session", tags=["sign-in"], responses=error_responses(422))


@router.get("", response_model=SignInPublic)
def read_sign_in(services: ServicesDep, secret: SessionCookie = None) -> SignInPublic:
    """Whether the server asks callers to sign in, and as whom this browser is."""
    mode = services.settings.auth_mode
    caller = signed_in_caller(services, secret) if mode == "tokens" else None
    if caller is None:
        return SignInPublic(auth=mode, signed_in=False)
    return SignInPublic(auth=mode, signed_in=True, name=caller.name, role=caller.role)


@router.post(
    "",
    response_model=SignInPublic,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 401, 403, 429),
)
def sign_in(
    body: SignInCreate,
    request: Request,
    response: Response,
    services: ServicesDep,
    session: SessionDep,
    refusals: RefusalsDep,
    previous: SessionCookie = None,
) -> SignInPublic:
    """Trade an access token for this browser's sign-in cookie."""
    if services.settings.auth_mode != "tokens":
        raise NotAllowedError("this server does not sign users in (XUNQIN_AUTH=header)")
    check_page_header(request, "signing in")
    lifetime = timedelta(hours=services.settings.sign_in_hours)
    # A refused token writes nothing in the request's session (the error below rolls it
    # back); its audit line, within the refusals' limits, has a session of its own.
    opened = start_sign_in(session, body.token, lifetime=lifetime, previous=previous)
    if opened is None:
        refusals.refuse(request.client.host if request.client else "unknown")
        note_refused_sign_in(services.database)
        raise NotSignedInError("the access token is not valid (or its user is disabled)")
    response.set_cookie(
        SIGN_IN_COOKIE,
        opened.secret,
        max_age=int(lifetime.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=_secure(services.settings, request),
    )
    return SignInPublic(auth="tokens", signed_in=True, name=opened.user.name,
                        role=opened.user.role, expires_at=opened.expires_at)  # fmt: skip


def _secure(settings: Settings, request: Request) -> bool:
    if settings.secure_cookies is not None:
        return settings.secure_cookies
    return settings.environment == "production" or request.url.scheme == "https"


@router.delete("", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(403))
def sign_out(request: Request, session: SessionDep, secret: SessionCookie = None) -> Response:
    """End this browser's sign-in (nothing to end is no error)."""
    if secret:
        check_page_header(request, "signing out")
    end_sign_in(session, secret or "")
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SIGN_IN_COOKIE, path="/", httponly=True, samesite="strict")
    return response
