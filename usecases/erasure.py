"""Erasing records for good: the record, its photos (and files no other record keeps),
its faces (out of the index and its file), its candidates and their decisions, and a
found person's links to other found persons and their decisions.

One record at a time (``erase_record``, the API's ``DELETE``) or many
(``erase_records``: ``xunqin erase``, a retention sweep of the cases
``closed_unchanged_for`` finds), each in its own transaction with an audit line that
keeps counts, not what was erased.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

from records import Database, RecordNotFoundError, Side
from records.photo_store import PhotoStore
from records.storage import record_erasure
from records.storage.audit_log import audit
from usecases.face_registry import FaceIndexes

logger = logging.getLogger(__name__)

ERASE_CHUNK: Final = 100
"""Records erased between two saves of the face index when many go at once: the file is
rewritten once per chunk, not once per record (at a million faces a rewrite takes
seconds), and a crash leaves at most a chunk's faces for the next opening to drop."""


def _erase_in_store(database: Database, side: Side, ref: str, *, actor: str
                    ) -> record_erasure.ErasedRecord:  # fmt: skip
    with database.session() as session:
        erased = record_erasure.erase_record(session, side, ref)
        detail = {"photos": len(erased.photos), "candidates": erased.candidates,
                  "decisions": erased.decisions}  # fmt: skip
        if side is Side.FOUND:
            detail |= {"links": erased.links, "link_decisions": erased.link_decisions}
        audit(session, actor=actor, action="erase", subject_kind=side.value,
              subject_id=erased.record_id, detail=detail)  # fmt: skip
    return erased


def _delete_unused_files(
    erased: record_erasure.ErasedRecord, photo_store: PhotoStore | None
) -> None:
    if photo_store is not None:
        for photo in erased.photos:
            if photo.file_unused:
                photo_store.delete(photo.stored_path)


def erase_record(
    database: Database,
    face_indexes: FaceIndexes,
    side: Side,
    ref: str,
    *,
    actor: str,
    photo_store: PhotoStore | None = None,
) -> record_erasure.ErasedRecord:
    """Erase a record for good: the record, its photos and faces, its candidates and
    their decisions; its faces leave the index (and its file) at once, and photo files
    no other record keeps are removed (``photo_store`` given). The audit line keeps
    counts, not what was erased."""
    erased = _erase_in_store(database, side, ref, actor=actor)
    face_indexes.refresh_records(side, [erased.record_id])
    _delete_unused_files(erased, photo_store)
    return erased


@dataclass
class Erasure:
    """What a batch erasure has done so far: each erased record by ref, and the refs
    not found. It holds the truth even when the batch stopped midway."""

    erased: dict[str, record_erasure.ErasedRecord] = field(default_factory=dict)
    not_found: list[str] = field(default_factory=list)


def erase_records(
    database: Database,
    face_indexes: FaceIndexes,
    side: Side,
    refs: Sequence[str],
    *,
    actor: str,
    photo_store: PhotoStore | None = None,
    progress: Callable[[int, int], None] | None = None,
    erasure: Erasure | None = None,
) -> Erasure:
    """Erase many records as :func:`erase_record` does one (a retention sweep).

    Each record goes in its own transaction with its own audit line, and its unused
    photo files right after; the face index is saved once every :data:`ERASE_CHUNK`
    records, and also when the batch stops midway (an error, Ctrl-C), for the records
    erased so far. Pass ``erasure`` to see what was done even then. A ref not in the
    store is reported, not an error.
    """
    erasure = erasure if erasure is not None else Erasure()
    for start in range(0, len(refs), ERASE_CHUNK):
        chunk: list[int] = []
        try:
            for ref in refs[start : start + ERASE_CHUNK]:
                try:
                    erased = _erase_in_store(database, side, ref, actor=actor)
                except RecordNotFoundError:
                    erasure.not_found.append(ref)
                    continue
                erasure.erased[ref] = erased
                chunk.append(erased.record_id)
                _delete_unused_files(erased, photo_store)
        except BaseException:
            # The faces of what went still leave the index; should that fail too (the
            # store gone), the next opening drops them, and the first error is the one
            # to see.
            try:
                face_indexes.refresh_records(side, chunk)
            except Exception as error:  # noqa: BLE001 - the original error follows
                logger.error("erase: the face index keeps %d records' faces until its "
                             "next opening: %s", len(chunk), type(error).__name__)  # fmt: skip
            raise
        face_indexes.refresh_records(side, chunk)
        if progress is not None:
            progress(min(start + ERASE_CHUNK, len(refs)), len(refs))
    return erasure


def closed_unchanged_for(
    database: Database, side: Side, *, days: int, now: datetime | None = None
) -> list[str]:
    """The refs of one side's closed cases unchanged for ``days`` days (before ``now``):
    what a retention sweep erases. Only refs are read, and nothing is written."""
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    with database.session() as session:
        return record_erasure.closed_refs(session, side, unchanged_since=since)
