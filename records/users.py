"""Users of the API: adding one (its access token is shown once), finding one by token,
disabling one; a browser's sign-in sessions.

A token is 32 random bytes, URL-safe; the store keeps only its SHA-256, so a copy of
the database gives no one access. A session's secret (the browser's cookie) is kept the
same way.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from records.enums import Role
from records.errors import DuplicateRecordError, InvalidRecordError, RecordNotFoundError
from records.models import SignInSession, User, utcnow

MAX_USER_NAME = 100


@dataclass(frozen=True)
class NewUser:
    """A user just added, with the token to hand over (it is not kept)."""

    user: User
    token: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(session: Session, name: str, role: Role) -> NewUser:
    """Add a user with a fresh access token."""
    name = name.strip()
    if not name or len(name) > MAX_USER_NAME:
        raise InvalidRecordError(f"must be 1 to {MAX_USER_NAME} characters", field="name")
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise DuplicateRecordError("user", name)
    token = secrets.token_urlsafe(32)
    user = User(name=name, role=role, token_sha256=_digest(token))
    session.add(user)
    session.flush()
    return NewUser(user, token)


def user_by_token(session: Session, token: str) -> User | None:
    """The active user holding ``token``, or None."""
    if not token:
        return None
    user = session.scalar(select(User).where(User.token_sha256 == _digest(token)))
    return user if user is not None and user.disabled_at is None else None


def new_token(session: Session, name: str, *, enable: bool = False) -> NewUser:
    """Give a user a new access token (a lost or leaked one stops working at once). A
    disabled user stays disabled, and is refused, unless ``enable``."""
    user = session.scalar(select(User).where(User.name == name.strip()))
    if user is None:
        raise RecordNotFoundError("user", name)
    if user.disabled_at is not None and not enable:
        raise InvalidRecordError("is disabled: enable them explicitly", field="user")
    token = secrets.token_urlsafe(32)
    user.token_sha256 = _digest(token)
    user.disabled_at = None
    _end_sign_ins(session, user)  # a leaked token's sessions go with it
    session.flush()
    return NewUser(user, token)


def disable_user(session: Session, name: str) -> User:
    """Disable a user: their token stops working at once (the name stays, for the audit
    log's sake)."""
    user = session.scalar(select(User).where(User.name == name.strip()))
    if user is None:
        raise RecordNotFoundError("user", name)
    if user.disabled_at is None:
        user.disabled_at = utcnow()
    _end_sign_ins(session, user)
    return user


def list_users(session: Session) -> list[User]:
    """Every user, in the order added."""
    return list(session.scalars(select(User).order_by(User.id)))


_SEEN_STEP = timedelta(minutes=1)
"""A session's last use is written at most once a minute, not on every request (more
often under an idle limit shorter than four minutes)."""


@dataclass(frozen=True)
class SignIn:
    """A session just opened, with the secret for the browser's cookie (not kept)."""

    user: User
    secret: str
    expires_at: datetime


def _end_sign_ins(session: Session, user: User) -> None:
    session.execute(delete(SignInSession).where(SignInSession.user_id == user.id))


def _sign_in_holding(session: Session, secret: str) -> SignInSession | None:
    if not secret:
        return None
    digest = _digest(secret)
    return session.scalar(select(SignInSession).where(SignInSession.secret_sha256 == digest))


def open_sign_in(
    session: Session, token: str, *, lifetime: timedelta, now: datetime | None = None
) -> SignIn | None:
    """Trade a valid access token for a sign-in session that ends after ``lifetime``;
    None if the token is not valid or its user is disabled. Sessions already ended are
    deleted on the way: nothing is kept longer than needed."""
    user = user_by_token(session, token)
    if user is None:
        return None
    now = now or utcnow()
    session.execute(delete(SignInSession).where(SignInSession.expires_at <= now))
    secret = secrets.token_urlsafe(32)
    expires = now + lifetime
    session.add(SignInSession(user_id=user.id, secret_sha256=_digest(secret), created_at=now,
                              last_seen_at=now, expires_at=expires))  # fmt: skip
    session.flush()
    return SignIn(user, secret, expires)


def user_by_sign_in(
    session: Session, secret: str, *, idle: timedelta, now: datetime | None = None
) -> User | None:
    """The active user of the live session holding ``secret``, or None. A session past
    its end, idle for ``idle`` or longer, or of a disabled user is deleted."""
    row = _sign_in_holding(session, secret)
    if row is None:
        return None
    now = now or utcnow()
    if row.expires_at <= now or row.last_seen_at + idle <= now or row.user.disabled_at:
        session.delete(row)
        session.flush()
        return None
    # Noted at most once a minute, and always well within the idle limit: a session in
    # use must never look idle.
    if now - row.last_seen_at >= min(_SEEN_STEP, idle / 4):
        row.last_seen_at = now
    return row.user


def close_sign_in(session: Session, secret: str) -> User | None:
    """End the session holding ``secret``; returns its user, or None if there was none."""
    row = _sign_in_holding(session, secret)
    if row is None:
        return None
    user = row.user
    session.delete(row)
    session.flush()
    return user
