"""The audit line a use case writes: one per use case, counts and kinds, never content."""

from __future__ import annotations

from records import Database
from records.storage.audit_log import audit


def audit_once(
    database: Database,
    *,
    actor: str,
    action: str,
    subject_kind: str,
    subject_id: int | str | None = None,
    detail: dict[str, object] | None = None,
) -> None:
    """Write one audit line in a session of its own (for use cases that wrote nothing
    else: a search, a read)."""
    with database.session() as session:
        audit(session, actor=actor, action=action, subject_kind=subject_kind,
              subject_id=subject_id, detail=detail)  # fmt: skip
