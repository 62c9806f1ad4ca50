"""Cases: an officer closes a case (reunited, identified, left) or reopens it.

A closed case's faces leave the face search at once and its candidates leave the review
queue; a reopened one's come back. Erasing a case for good is ``usecases.erasure``'s.
"""

from __future__ import annotations

from records import Database, FoundStatus, MissingStatus, Side
from records.storage.audit_log import audit
from records.storage.person_records import PersonRecord, set_status
from usecases.face_registry import FaceIndexes


def set_record_status(
    database: Database,
    face_indexes: FaceIndexes,
    side: Side,
    ref: str,
    status: MissingStatus | FoundStatus,
    *,
    actor: str,
) -> PersonRecord:
    """Move a record to a status, audited; a closed case's faces leave the index at once
    (and a reopened one's come back). Returns the record with its photos."""
    with database.session() as session:
        record, previous = set_status(session, side, ref, status)
        if previous is not status:
            detail = {"from": previous.value, "to": status.value}
            audit(session, actor=actor, action="set_status", subject_kind=side.value,
                  subject_id=record.id, detail=detail)  # fmt: skip
    face_indexes.refresh_records(side, [record.id])
    return record
