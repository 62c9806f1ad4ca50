"""Users' accounts: an admin adds a user, lists them, gives one a new access token or
disables one (``xunqin user ...``).

Each change is one transaction with its audit line (who did it, which user, the role or
whether the user was enabled; never a token). A token is shown once, by the caller, and
never kept: the store holds only its digest (``records.users``). Named apart from
``records.users``, which stores them: no two modules of the house share a name.
"""

from __future__ import annotations

from records import Database, Role, User
from records import users as user_store
from records.storage.audit_log import audit
from records.users import NewUser

__all__ = ["NewUser", "add_user", "disable_user", "issue_token", "list_users"]


def add_user(database: Database, name: str, role: Role, *, actor: str) -> NewUser:
    """Add a user with a fresh access token, audited with their role
    (``InvalidRecordError`` for an empty or long name, ``DuplicateRecordError`` if taken)."""
    with database.session() as session:
        new = user_store.add_user(session, name, role)
        audit(session, actor=actor, action="add_user", subject_kind="user",
              subject_id=new.user.id, detail={"role": role.value})  # fmt: skip
    return new  # the session keeps its loaded fields after the commit


def issue_token(database: Database, name: str, *, actor: str, enable: bool = False) -> NewUser:
    """Give a user a new access token: the old one and every sign-in of theirs stop
    working at once. A disabled user is refused unless ``enable``. Audited with
    ``enable``."""
    with database.session() as session:
        new = user_store.new_token(session, name, enable=enable)
        audit(session, actor=actor, action="new_token", subject_kind="user",
              subject_id=new.user.id, detail={"enable": enable})  # fmt: skip
    return new


def disable_user(database: Database, name: str, *, actor: str) -> User:
    """Disable a user: their token and sign-ins stop working at once (the name stays, for
    the audit log's sake). Audited."""
    with database.session() as session:
        user = user_store.disable_user(session, name)
        audit(session, actor=actor, action="disable_user", subject_kind="user",
              subject_id=user.id)  # fmt: skip
    return user


def list_users(database: Database) -> list[User]:
    """Every user, in the order added (names and roles, never tokens; not audited: it
    shows no one's personal data)."""
    with database.session() as session:
        return user_store.list_users(session)
