"""Validated field sets for creating or updating person records.

Importers and the API both build these; the store only ever sees validated values.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from records.enums import DatePrecision, Sex
from records.errors import InvalidRecordError

MAX_REF_LENGTH = 64
MAX_NAME_LENGTH = 64
EARLIEST_YEAR = 1900


def _check_ref(ref: str) -> None:
    if not ref or not ref.strip():
        raise InvalidRecordError("is required", field="ref")
    if len(ref) > MAX_REF_LENGTH:
        raise InvalidRecordError(f"longer than {MAX_REF_LENGTH} characters", field="ref")


def _check_name(value: str | None, field_name: str) -> None:
    if value is not None and len(value) > MAX_NAME_LENGTH:
        raise InvalidRecordError(f"longer than {MAX_NAME_LENGTH} characters", field=field_name)


TEXT_LIMITS: dict[str, int] = {
    "missing_place": 200, "found_place": 200, "hometown": 200, "reporter_contact": 200,
    "station": 200, "dialect": 64, "accent": 64, "station_case_no": 64,
}  # fmt: skip
"""The longest each free-text field may be, in characters: its column's width."""


def _check_texts(fields: object) -> None:
    # Checked here, not left to the store: SQLite would keep a longer text and
    # PostgreSQL refuse the whole row with an error far from its cause.
    for field_name, limit in TEXT_LIMITS.items():
        value = getattr(fields, field_name, None)
        if value is not None and len(value) > limit:
            raise InvalidRecordError(f"longer than {limit} characters", field=field_name)


def _check_height(height_cm: float | None) -> None:
    if height_cm is not None and not 30 <= height_cm <= 250:
        raise InvalidRecordError(f"{height_cm} is not a height in cm", field="height_cm")


def _check_year(year: int | None, field_name: str, *, today: date) -> None:
    if year is not None and not EARLIEST_YEAR <= year <= today.year:
        raise InvalidRecordError(
            f"{year} is outside {EARLIEST_YEAR}..{today.year}", field=field_name
        )


def _check_date(value: date | None, field_name: str, *, today: date) -> None:
    if value is not None and value > today:
        raise InvalidRecordError(f"{value.isoformat()} is in the future", field=field_name)
    if value is not None:
        _check_year(value.year, field_name, today=today)


def _hash(payload: dict[str, object]) -> str:
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, kw_only=True)
class PhotoRef:
    """A photo named by an import row or an upload, with what is known of its age."""

    path: Path
    taken_year: int | None = None
    taken_date: date | None = None
    age: int | None = None

    def __post_init__(self) -> None:
        today = date.today()
        _check_year(self.taken_year, "photos.taken_year", today=today)
        _check_date(self.taken_date, "photos.taken_date", today=today)
        if self.age is not None and not 0 <= self.age <= 120:
            raise InvalidRecordError(f"{self.age} is not an age", field="photos.age")


@dataclass(frozen=True, kw_only=True)
class MissingFields:
    """Everything a family's report says, validated."""

    ref: str
    name: str | None = None
    aliases: tuple[str, ...] = ()
    sex: Sex = Sex.UNKNOWN
    birth_date: date | None = None
    birth_year: int | None = None
    birth_precision: DatePrecision = DatePrecision.UNKNOWN
    missing_date: date | None = None
    missing_place: str | None = None
    hometown: str | None = None
    dialect: str | None = None
    height_cm: float | None = None
    features: tuple[str, ...] = ()
    health: tuple[str, ...] = ()
    reporter_contact: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        today = date.today()
        _check_ref(self.ref)
        _check_name(self.name, "name")
        for alias in self.aliases:
            _check_name(alias, "aliases")
        _check_year(self.birth_year, "birth_year", today=today)
        _check_date(self.birth_date, "birth_date", today=today)
        _check_date(self.missing_date, "missing_date", today=today)
        _check_height(self.height_cm)
        _check_texts(self)
        if (
            self.birth_date is not None
            and self.birth_year is not None
            and self.birth_date.year != self.birth_year
        ):
            raise InvalidRecordError(
                f"birth_date {self.birth_date.isoformat()} disagrees with birth_year "
                f"{self.birth_year}",
                field="birth_year",
            )
        if self.birth_date and self.missing_date and self.missing_date < self.birth_date:
            raise InvalidRecordError("is before the birth date", field="missing_date")

    @property
    def effective_birth_year(self) -> int | None:
        """The birth year, from the date when only the date is given."""
        if self.birth_year is not None:
            return self.birth_year
        return self.birth_date.year if self.birth_date else None

    def content_hash(self) -> str:
        """A digest of every field, so an unchanged re-import is recognised."""
        return _hash(asdict(self))


@dataclass(frozen=True, kw_only=True)
class FoundFields:
    """Everything a station recorded about a person in its care, validated."""

    ref: str
    name: str | None = None
    aliases: tuple[str, ...] = ()
    sex: Sex = Sex.UNKNOWN
    age_min: int | None = None
    age_max: int | None = None
    found_date: date | None = None
    found_place: str | None = None
    accent: str | None = None
    hometown: str | None = None
    height_cm: float | None = None
    features: tuple[str, ...] = ()
    health: tuple[str, ...] = ()
    station: str | None = None
    station_case_no: str | None = None
    name_assigned: bool = False
    """The stated name is one the station gave, not the person's own: it is kept and
    shown, but never compared with reports' names."""

    def __post_init__(self) -> None:
        today = date.today()
        _check_ref(self.ref)
        _check_name(self.name, "name")
        if self.name_assigned and self.name is None:
            raise InvalidRecordError("says the name was given, but there is no name",
                                     field="name_assigned")  # fmt: skip
        for alias in self.aliases:
            _check_name(alias, "aliases")
        for value, name in ((self.age_min, "age_min"), (self.age_max, "age_max")):
            if value is not None and not 0 <= value <= 120:
                raise InvalidRecordError(f"{value} is not an age", field=name)
        if self.age_min is not None and self.age_max is not None and self.age_min > self.age_max:
            raise InvalidRecordError(
                f"age_min {self.age_min} is above age_max {self.age_max}", field="age_min"
            )
        _check_date(self.found_date, "found_date", today=today)
        _check_height(self.height_cm)
        _check_texts(self)

    def content_hash(self) -> str:
        """A digest of every field, so an unchanged re-import is recognised."""
        fields = asdict(self)
        if not self.name_assigned:
            # Records stored before the field existed keep their digest.
            del fields["name_assigned"]
        return _hash(fields)
