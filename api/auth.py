"""Who is calling, and what their role lets them do.

With ``XUNQIN_AUTH=tokens`` (always in production) every request carries
``Authorization: Bearer <token>`` of a user added with ``xunqin user add``, or the cookie
of a browser's sign-in (``POST /session`` trades the token for it once; see
:mod:`api.routes.sign_in`); the user's role decides which routes answer (403 otherwise).
A request signed in by cookie that changes anything must also carry the header
``X-Xunqin-Request``: another site's page can make a browser send the cookie, not set a
header without the server's leave. With ``XUNQIN_AUTH=header`` (the
default on a development machine) the caller names themselves in ``X-Xunqin-User`` and
may do everything: for one machine, never for a network (``xunqin serve`` refuses a
non-local address in that mode).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Final

from fastapi import Cookie, Depends, Header, Request

from api.deps import ServicesDep
from api.schemas import Text
from usecases.signing_in import holder_of_sign_in, holder_of_token
from usecases.vocabulary import Role

SIGN_IN_COOKIE: Final = "xunqin_session"
SessionCookie = Annotated[str | None, Cookie(alias=SIGN_IN_COOKIE)]
"""The browser's sign-in cookie, as a route parameter."""
REQUEST_HEADER: Final = "X-Xunqin-Request"
"""The header a cookie-signed request that changes anything must carry (any value)."""
_SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


class Right(StrEnum):
    """One kind of thing a route does."""

    READ_RECORDS = "read records"
    WRITE_RECORDS = "create records and add photos"
    READ_CONTACT = "read a reporter's contact"
    CLOSE_CASES = "close and reopen cases"
    SEARCH = "search by photo or name"
    READ_CANDIDATES = "read candidates"
    DECIDE = "decide on candidates"
    DELETE = "delete photos and erase records"
    READ_JOBS = "see the re-match's runs"


RIGHTS: Final[dict[Role, frozenset[Right]]] = {
    Role.OFFICER: frozenset({Right.READ_RECORDS, Right.WRITE_RECORDS, Right.READ_CONTACT,
                             Right.CLOSE_CASES, Right.SEARCH, Right.READ_CANDIDATES}),
    Role.REVIEWER: frozenset({Right.READ_RECORDS, Right.SEARCH, Right.READ_CANDIDATES,
                              Right.DECIDE}),
    Role.ADMIN: frozenset(Right),
}  # fmt: skip
"""Least access: a reviewer decides but neither edits records nor sees contacts; an
officer keeps records and searches but does not decide; only an admin deletes."""


class NotSignedInError(Exception):
    """No valid access token came with the request."""


class NotAllowedError(Exception):
    """The caller's role does not have the right a route needs."""


@dataclass(frozen=True)
class Caller:
    """The user behind a request."""

    name: str
    role: Role
    signed_in: bool
    """False when the caller only named themselves (``XUNQIN_AUTH=header``)."""
    named: bool = True
    """False when nobody was named: a header-mode caller without ``X-Xunqin-User``."""

    def may(self, right: Right) -> bool:
        """Whether the caller's role has ``right``."""
        return right in RIGHTS[self.role]

    def check(self, right: Right) -> None:
        """Raise NotAllowedError unless the caller's role has ``right``."""
        if not self.may(right):
            raise NotAllowedError(f"a {self.role.value} may not {right.value}")


def check_page_header(request: Request, doing: str) -> None:
    """Raise NotAllowedError unless the request carries :data:`REQUEST_HEADER` (what the
    reviewer page sends and another site's page cannot), saying what ``doing`` needs it."""
    if REQUEST_HEADER not in request.headers:
        raise NotAllowedError(f"{doing} needs the {REQUEST_HEADER} header")


def signed_in_caller(services: ServicesDep, secret: str | None) -> Caller | None:
    """The user of a live browser sign-in, or None (its last use noted)."""
    if not secret:
        return None
    idle = timedelta(minutes=services.settings.sign_in_idle_minutes)
    holder = holder_of_sign_in(services.database, secret, idle=idle)
    return None if holder is None else Caller(holder.name, holder.role, signed_in=True)


def get_caller(
    request: Request,
    services: ServicesDep,
    authorization: Annotated[str | None, Header()] = None,
    x_xunqin_user: Annotated[Text | None, Header()] = None,
    secret: SessionCookie = None,
) -> Caller:
    """The caller, by token, by a browser's sign-in, or (in header mode) by the name
    they give."""
    if services.settings.auth_mode == "header":
        name = (x_xunqin_user or "").strip()[:100]
        return Caller(name or "anonymous", Role.ADMIN, signed_in=False, named=bool(name))
    if authorization is None and secret:
        caller = signed_in_caller(services, secret)
        if caller is None:
            raise NotSignedInError("the sign-in has ended: sign in again")
        if request.method not in _SAFE_METHODS:
            check_page_header(request, "a signed-in browser's change")
        return caller
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotSignedInError("an access token is required: Authorization: Bearer <token>")
    holder = holder_of_token(services.database, token.strip())
    if holder is None:
        raise NotSignedInError("the access token is not valid (or its user is disabled)")
    return Caller(holder.name, holder.role, signed_in=True)


CallerDep = Annotated[Caller, Depends(get_caller)]


def require(right: Right) -> Callable[[Caller], Caller]:
    """A dependency that lets a request through only if the caller has ``right``."""

    def check(caller: CallerDep) -> Caller:
        caller.check(right)
        return caller

    return check


def get_actor(caller: CallerDep) -> str:
    """Who is acting, for the audit log."""
    return caller.name


ActorDep = Annotated[str, Depends(get_actor)]
