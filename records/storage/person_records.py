"""Reports and found persons: creating and updating them from their fields, reading them
one, a page or all at a time, counting them, and moving them from status to status.

``OPEN_MISSING`` and ``OPEN_FOUND`` say which statuses are still looked for; the other
modules of the store leave closed cases out by them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import asdict
from typing import Any, Final, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from records.enums import DatePrecision, FoundStatus, MissingStatus, Side
from records.errors import DuplicateRecordError, InvalidRecordError, RecordNotFoundError
from records.inputs import FoundFields, MissingFields
from records.models import FoundPerson, MissingReport, Photo, utcnow
from records.storage._queries import MODELS, chunks


class Change(enum.StrEnum):
    """What an upsert did."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


PersonRecord = MissingReport | FoundPerson

OPEN_MISSING: Final = tuple(status for status in MissingStatus if status.is_open)
"""Statuses of the reports still looked for."""
OPEN_FOUND: Final = tuple(status for status in FoundStatus if status.is_open)
"""Statuses of the found persons still to be identified."""


def _apply(record: PersonRecord, fields: MissingFields | FoundFields) -> None:
    for key, value in asdict(fields).items():
        setattr(record, key, list(value) if isinstance(value, tuple) else value)
    record.content_hash = fields.content_hash()


PersonT = TypeVar("PersonT", MissingReport, FoundPerson)


_KIND: Final[dict[type[PersonRecord], str]] = {MissingReport: "missing", FoundPerson: "found"}


def _upsert(
    session: Session,
    model: type[PersonT],
    fields: MissingFields | FoundFields,
    *,
    create_only: bool = False,
) -> tuple[PersonT, Change]:
    record = session.scalar(select(model).where(model.ref == fields.ref))
    if record is not None and create_only:
        raise DuplicateRecordError(_KIND[model], fields.ref)
    if record is not None and record.content_hash == fields.content_hash():
        return record, Change.UNCHANGED
    change = Change.UPDATED
    if record is None:
        record = model(ref=fields.ref)
        session.add(record)
        change = Change.CREATED
    _apply(record, fields)
    return record, change


def upsert_missing(
    session: Session, fields: MissingFields, *, create_only: bool = False
) -> tuple[MissingReport, Change]:
    """Create the report with this ``ref``, or bring it up to date (``create_only``: a
    report of this ``ref`` is a ``DuplicateRecordError``)."""
    record, change = _upsert(session, MissingReport, fields, create_only=create_only)
    if change is not Change.UNCHANGED and fields.birth_precision is DatePrecision.UNKNOWN:
        record.birth_precision = (
            DatePrecision.DAY
            if fields.birth_date
            else DatePrecision.YEAR
            if fields.birth_year
            else DatePrecision.UNKNOWN
        )
    session.flush()
    return record, change


def upsert_found(
    session: Session, fields: FoundFields, *, create_only: bool = False
) -> tuple[FoundPerson, Change]:
    """Create the found person with this ``ref``, or bring the record up to date
    (``create_only``: a record of this ``ref`` is a ``DuplicateRecordError``)."""
    record, change = _upsert(session, FoundPerson, fields, create_only=create_only)
    session.flush()
    return record, change


def _create_once(kind: str, ref: str, create: Callable[[], tuple[PersonT, Change]]) -> PersonT:
    """``create()``, a create-only upsert that flushes: a ``DuplicateRecordError`` when a
    record of this ``ref`` exists, also when another writer stores it between the lookup
    and the insert (the unique ref refuses the row; other constraints are checked before).

    No savepoint: on SQLite the driver would make it the real transaction and commit the
    record on its release, before the request's audit line. The session is then left to
    roll back, as the request does on any error.
    """
    try:
        return create()[0]
    except IntegrityError:
        raise DuplicateRecordError(kind, ref) from None


def create_missing(session: Session, fields: MissingFields) -> MissingReport:
    """Create a report; a report with the same ``ref`` is a ``DuplicateRecordError``."""
    return _create_once(
        "missing", fields.ref, lambda: upsert_missing(session, fields, create_only=True)
    )


def create_found(session: Session, fields: FoundFields) -> FoundPerson:
    """Create a found person; the same ``ref`` twice is a ``DuplicateRecordError``."""
    return _create_once(
        "found", fields.ref, lambda: upsert_found(session, fields, create_only=True)
    )


def get_missing(session: Session, ref: str) -> MissingReport:
    """The report with this reference, photos loaded."""
    record = session.scalar(
        select(MissingReport)
        .where(MissingReport.ref == ref)
        .options(selectinload(MissingReport.photos).selectinload(Photo.faces))
    )
    if record is None:
        raise RecordNotFoundError("missing", ref)
    return record


def get_found(session: Session, ref: str) -> FoundPerson:
    """The found person with this reference, photos loaded."""
    record = session.scalar(
        select(FoundPerson)
        .where(FoundPerson.ref == ref)
        .options(selectinload(FoundPerson.photos).selectinload(Photo.faces))
    )
    if record is None:
        raise RecordNotFoundError("found", ref)
    return record


def get_person(session: Session, side: Side, ref: str) -> PersonRecord:
    """The record of either side with this reference."""
    return get_missing(session, ref) if side is Side.MISSING else get_found(session, ref)


def records_by_ids(session: Session, side: Side, ids: Iterable[int]) -> dict[int, PersonRecord]:
    """The records of one side with one of ``ids``, photos and faces loaded, by id."""
    model = MODELS[side]
    found: dict[int, PersonRecord] = {}
    for chunk in chunks(ids):
        query = (
            select(model)
            .where(model.id.in_(chunk))
            .options(selectinload(model.photos).selectinload(Photo.faces))
        )
        records: Iterable[PersonRecord] = session.scalars(query)
        found.update((record.id, record) for record in records)
    return found


def list_missing(session: Session, *, offset: int = 0, limit: int = 100) -> list[MissingReport]:
    """Reports in reference order, one page."""
    query = select(MissingReport).order_by(MissingReport.ref).offset(offset).limit(limit)
    return list(session.scalars(query))


def list_found(session: Session, *, offset: int = 0, limit: int = 100) -> list[FoundPerson]:
    """Found persons in reference order, one page."""
    query = select(FoundPerson).order_by(FoundPerson.ref).offset(offset).limit(limit)
    return list(session.scalars(query))


def count(session: Session, model: type[Any]) -> int:
    """How many rows a table holds."""
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def all_missing(session: Session, *, include_closed: bool = False) -> list[MissingReport]:
    """Every open report (or every report) with its photos and faces, for re-matching."""
    query = select(MissingReport).options(
        selectinload(MissingReport.photos).selectinload(Photo.faces)
    )
    if not include_closed:
        query = query.where(MissingReport.status.in_(OPEN_MISSING))
    return list(session.scalars(query.order_by(MissingReport.id)))


def all_found(session: Session, *, include_closed: bool = False) -> list[FoundPerson]:
    """Every found person still to identify (or every one), with photos and faces."""
    query = select(FoundPerson).options(selectinload(FoundPerson.photos).selectinload(Photo.faces))
    if not include_closed:
        query = query.where(FoundPerson.status.in_(OPEN_FOUND))
    return list(session.scalars(query.order_by(FoundPerson.id)))


def open_missing_in_batches(session: Session, *, size: int = 5000) -> Iterator[list[MissingReport]]:
    """Every open report as :func:`all_missing` gives them, ``size`` at a time: a caller
    that keeps only what it reads of them holds one batch of rows, photos and faces (about
    7 KB a report), not a million."""
    return _open_in_batches(session, MissingReport, OPEN_MISSING, size)


def open_found_in_batches(session: Session, *, size: int = 5000) -> Iterator[list[FoundPerson]]:
    """Every found person still to identify as :func:`all_found` gives them, ``size`` at a
    time (:func:`open_missing_in_batches`)."""
    return _open_in_batches(session, FoundPerson, OPEN_FOUND, size)


def _open_in_batches(
    session: Session, model: type[PersonT], states: Collection[enum.Enum], size: int
) -> Iterator[list[PersonT]]:
    if size < 1:
        raise ValueError(f"a batch holds at least one record, got {size}")
    last = 0
    while True:
        query = (
            select(model)
            .options(selectinload(model.photos).selectinload(Photo.faces))
            .where(model.status.in_(states), model.id > last)
            .order_by(model.id)
            .limit(size)
        )
        batch = list(session.scalars(query))
        if not batch:
            return
        last = batch[-1].id
        # The session holds what it loaded weakly: a batch the caller lets go is freed.
        yield batch


def set_status(
    session: Session, side: Side, ref: str, status: MissingStatus | FoundStatus
) -> tuple[PersonRecord, MissingStatus | FoundStatus]:
    """Move a record to ``status``; returns the record (photos loaded) and its old status.

    The caller audits the change and brings the face index in step (a closed case's faces
    leave it; a reopened one's come back).
    """
    record = get_person(session, side, ref)
    previous: MissingStatus | FoundStatus = record.status
    if isinstance(record, MissingReport):
        if not isinstance(status, MissingStatus):
            raise InvalidRecordError(
                f"a report's status is one of {[s.value for s in MissingStatus]}", field="status"
            )
        if record.status is not status:
            record.status = status
            record.updated_at = utcnow()
    else:
        if not isinstance(status, FoundStatus):
            raise InvalidRecordError(
                f"a found person's status is one of {[s.value for s in FoundStatus]}",
                field="status",
            )
        if record.status is not status:
            record.status = status
            record.updated_at = utcnow()
    session.flush()
    return record, previous


def record_ids(session: Session) -> dict[Side, set[int]]:
    """The ids of every record on each side, open or closed."""
    return {
        Side.MISSING: set(session.scalars(select(MissingReport.id))),
        Side.FOUND: set(session.scalars(select(FoundPerson.id))),
    }
