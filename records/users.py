"""Users of the API: adding one (its access token is shown once), finding one by token,
disabling one.

A token is 32 random bytes, URL-safe; the store keeps only its SHA-256, so a copy of
the database gives no one access.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.enums import Role
from records.errors import DuplicateRecordError, InvalidRecordError, RecordNotFoundError
from records.models import User, utcnow

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
    return user


def list_users(session: Session) -> list[User]:
    """Every user, in the order added."""
    return list(session.scalars(select(User).order_by(User.id)))
