"""A browser's sign-in: the reviewer page trades an access token for a session cookie.

The token is sent once and never kept in the browser; the cookie is HttpOnly (no script
reads it), SameSite=Strict (no other site's page sends it) and Secure in production. It
ends at sign-out, after ``XUNQIN_SIGN_IN_IDLE_MINUTES`` unused, ``XUNQIN_SIGN_IN_HOURS``
after it began, or when its user is disabled or given a new token. Signing in again
ends the browser's previous sign-in. Signing in and out are audited; a refused token is
audited too, without the token, and an address refused too often is told to wait
(:class:`RefusedSignIns`), so that nobody can fill the audit log from outside.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import deque
from datetime import timedelta
from typing import Annotated, Final

from fastapi import APIRouter, Cookie, Request, Response, status

from api.auth import (
    REQUEST_HEADER,
    SIGN_IN_COOKIE,
    NotAllowedError,
    NotSignedInError,
    TooManyRefusalsError,
    signed_in_caller,
)
from api.deps import ServicesDep, SessionDep
from api.schemas import SignInCreate, SignInPublic
from api.settings import Settings
from records import InvalidRecordError
from records.repository import audit
from records.users import close_sign_in, open_sign_in

router = APIRouter(prefix="/session", tags=["sign-in"])
SessionCookie = Annotated[str | None, Cookie(alias=SIGN_IN_COOKIE)]

REFUSALS_ALLOWED: Final = 10
"""Refused sign-ins from one address within :data:`REFUSAL_WINDOW` seconds that are
audited; more are answered 429, unaudited, until the oldest leaves the window."""
REFUSAL_WINDOW: Final = 60.0
MAX_ADDRESSES: Final = 10_000
"""Addresses whose refusals are remembered at most (stale ones go first)."""


def _bucket(host: str) -> str:
    # One IPv6 host holds a whole /64: counting single addresses would not hold it back.
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        return str(ipaddress.ip_network(f"{host}/64", strict=False))
    return host


class RefusedSignIns:
    """Refused sign-ins by the address they came from, so that nobody outside can fill
    the audit log.

    A valid token always signs in: a token is 32 random bytes, which no one guesses, so
    this limit is not what protects it, and a shared address (a proxy) must not lock
    every user out. Each worker process counts its own refusals, in memory.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._times: dict[str, deque[float]] = {}

    def refuse(self, host: str) -> None:
        """Count a refusal of ``host``; raise TooManyRefusalsError (and count nothing)
        when it already has :data:`REFUSALS_ALLOWED` within the window."""
        key, now = _bucket(host), time.monotonic()
        with self._lock:
            times = self._times.setdefault(key, deque())
            while times and now - times[0] > REFUSAL_WINDOW:
                times.popleft()
            if len(times) >= REFUSALS_ALLOWED:
                raise TooManyRefusalsError(REFUSAL_WINDOW - (now - times[0]))
            times.append(now)
            if len(self._times) > MAX_ADDRESSES:
                self._sweep(now)

    def __len__(self) -> int:
        return len(self._times)

    def _sweep(self, now: float) -> None:
        for key in [k for k, t in self._times.items() if not t or now - t[-1] > REFUSAL_WINDOW]:
            del self._times[key]
        while len(self._times) > MAX_ADDRESSES:  # all recent: the oldest remembered go
            del self._times[next(iter(self._times))]


@router.get("", response_model=SignInPublic)
def read_sign_in(services: ServicesDep, secret: SessionCookie = None) -> SignInPublic:
    """Whether the server asks callers to sign in, and as whom this browser is."""
    mode = services.settings.auth_mode
    caller = signed_in_caller(services, secret) if mode == "tokens" else None
    if caller is None:
        return SignInPublic(auth=mode, signed_in=False)
    return SignInPublic(auth=mode, signed_in=True, name=caller.name, role=caller.role.value)


@router.post("", response_model=SignInPublic, status_code=status.HTTP_201_CREATED)
def sign_in(
    body: SignInCreate,
    request: Request,
    response: Response,
    services: ServicesDep,
    session: SessionDep,
    previous: SessionCookie = None,
) -> SignInPublic:
    """Trade an access token for this browser's sign-in cookie."""
    if services.settings.auth_mode != "tokens":
        raise InvalidRecordError("this server does not sign users in (XUNQIN_AUTH=header)",
                                 field="auth")  # fmt: skip
    if REQUEST_HEADER not in request.headers:
        raise NotAllowedError(f"signing in needs the {REQUEST_HEADER} header")
    if previous:
        close_sign_in(session, previous)  # another user may be signing in on this browser
    lifetime = timedelta(hours=services.settings.sign_in_hours)
    opened = open_sign_in(session, body.token, lifetime=lifetime)
    if opened is None:
        refused: RefusedSignIns = request.app.state.sign_in_refusals
        refused.refuse(request.client.host if request.client else "unknown")
        # Committed on its own: the error below rolls the request's session back.
        with services.database.session() as own:
            audit(own, actor="unknown", action="sign_in_refused", subject_kind="user")
        raise NotSignedInError("the access token is not valid (or its user is disabled)")
    audit(session, actor=opened.user.name, action="sign_in", subject_kind="user",
          subject_id=opened.user.id)  # fmt: skip
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
                        role=opened.user.role.value, expires_at=opened.expires_at)  # fmt: skip


def _secure(settings: Settings, request: Request) -> bool:
    if settings.secure_cookies is not None:
        return settings.secure_cookies
    return settings.environment == "production" or request.url.scheme == "https"


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
def sign_out(session: SessionDep, secret: SessionCookie = None) -> Response:
    """End this browser's sign-in (nothing to end is no error)."""
    user = close_sign_in(session, secret or "")
    if user is not None:
        audit(session, actor=user.name, action="sign_out", subject_kind="user",
              subject_id=user.id)  # fmt: skip
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SIGN_IN_COOKIE, path="/", httponly=True, samesite="strict")
    return response
