"""The audit log: one line appended for each write a person makes.

The caller adds the line in the same transaction as the write it records. A line names
who did what to which subject, and never holds personal data.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from records.models import AuditEvent


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    subject_kind: str,
    subject_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append a line to the audit log. ``detail`` must hold no personal data."""
    session.add(
        AuditEvent(
            actor=actor,
            action=action,
            subject_kind=subject_kind,
            subject_id=None if subject_id is None else str(subject_id),
            detail=detail or {},
        )
    )
