"""Signing in: who an access token or a browser's sign-in belongs to, and a browser
trading a token for a sign-in (and ending it).

Signing in and out are audited in the caller's unit of work (``session``), with the
user's name and id. A refused token writes nothing there (the request's session is
rolled back by the refusal, and a write pending in it would hold SQLite's lock): its
audit line, without the token, has a session of its own (:func:`note_refused_sign_in`),
written only while the interface's limits on refusals allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from records import Database, Role, User
from records.storage.audit_log import audit
from records.users import SignIn, close_sign_in, open_sign_in, user_by_sign_in, user_by_token
from usecases.auditing import audit_once

__all__ = [
    "Holder",
    "SignIn",
    "end_sign_in",
    "holder_of_sign_in",
    "holder_of_token",
    "note_refused_sign_in",
    "start_sign_in",
]


@dataclass(frozen=True)
class Holder:
    """The active user a token or a sign-in belongs to."""

    name: str
    role: Role


def holder_of_token(database: Database, token: str) -> Holder | None:
    """The active user holding access ``token``, or None."""
    with database.session() as session:
        user = user_by_token(session, token)
        return None if user is None else Holder(user.name, user.role)


def holder_of_sign_in(database: Database, secret: str, *, idle: timedelta) -> Holder | None:
    """The active user of the live sign-in holding ``secret`` (a browser's cookie), or
    None; its last use is noted, and a sign-in ended (past its end, idle for ``idle``, its
    user disabled) is deleted."""
    with database.session() as session:
        user = user_by_sign_in(session, secret, idle=idle)
        return None if user is None else Holder(user.name, user.role)


def start_sign_in(
    session: Session, token: str, *, lifetime: timedelta, previous: str | None = None
) -> SignIn | None:
    """Trade a valid access token for a sign-in that ends after ``lifetime``, ending the
    browser's ``previous`` one (another user may be signing in on it); audited. None,
    and nothing written, if the token is not valid or its user is disabled."""
    opened = open_sign_in(session, token, lifetime=lifetime)
    if opened is None:
        return None
    if previous:
        close_sign_in(session, previous)
    audit(session, actor=opened.user.name, action="sign_in", subject_kind="user",
          subject_id=opened.user.id)  # fmt: skip
    return opened


def note_refused_sign_in(database: Database) -> None:
    """Audit a refused sign-in (by an unknown actor, without the token), in a session of
    its own."""
    audit_once(database, actor="unknown", action="sign_in_refused", subject_kind="user")


def end_sign_in(session: Session, secret: str) -> User | None:
    """End the sign-in holding ``secret``, audited; its user, or None if there was none
    (no error)."""
    user = close_sign_in(session, secret)
    if user is not None:
        audit(session, actor=user.name, action="sign_out", subject_kind="user",
              subject_id=user.id)  # fmt: skip
    return user
