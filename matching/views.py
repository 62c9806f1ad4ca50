"""Plain, store-independent views of the two kinds of record, as the matcher sees them.

Scoring works on these frozen dataclasses, not on ORM rows: they are cheap to build
in bulk, safe to pass between threads, and easy to make in tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from numpy.typing import NDArray

from records import FoundPerson, MissingReport, Photo, Sex

EMPTY_EMBEDDINGS: NDArray[np.float32] = np.zeros((0, 128), dtype=np.float32)


@dataclass(frozen=True, kw_only=True)
class FaceView:
    """A searchable face and when its photo was taken, as far as known."""

    face_id: int
    embedding: NDArray[np.float32]
    taken_year: int | None = None
    age_at_photo: int | None = None
    poor: bool = False
    """Whether the intake found the face poor: small, blurred, turned or tilted."""


@dataclass(frozen=True, kw_only=True)
class PersonView:
    """What the matcher uses of either kind of record."""

    id: int
    ref: str
    names: tuple[str, ...] = ()
    sex: Sex = Sex.UNKNOWN
    hometown: str | None = None
    height_cm: float | None = None
    features: tuple[str, ...] = ()
    health: tuple[str, ...] = ()
    faces: tuple[FaceView, ...] = field(default=(), repr=False)

    @property
    def embeddings(self) -> NDArray[np.float32]:
        """The faces' embeddings as one ``(n, 128)`` array."""
        if not self.faces:
            return EMPTY_EMBEDDINGS
        return np.stack([face.embedding for face in self.faces]).astype(np.float32, copy=False)


@dataclass(frozen=True, kw_only=True)
class MissingView(PersonView):
    """A missing-person report: ``hometown`` is the family's 籍贯/户籍地."""

    birth_year: int | None = None
    missing_date: date | None = None
    missing_place: str | None = None
    dialect: str | None = None


@dataclass(frozen=True, kw_only=True)
class FoundView(PersonView):
    """A found person: ``hometown`` holds the stated hometown fragments."""

    age_min: int | None = None
    age_max: int | None = None
    found_date: date | None = None
    found_place: str | None = None
    accent: str | None = None
    registered: date | None = None
    """The day the record was made: the person was in care by then."""


def _faces(photos: list[Photo]) -> tuple[FaceView, ...]:
    return tuple(
        FaceView(
            face_id=face.id,
            embedding=np.frombuffer(face.embedding, dtype=np.float32),
            taken_year=photo.taken_year or (photo.taken_date.year if photo.taken_date else None),
            age_at_photo=photo.age_at_photo,
            # The intake notes a face's problems; one with none is a good face.
            poor=face.quality_note is not None,
        )
        for photo in photos
        for face in photo.faces
        if face.searchable
    )


def record_names(name: str | None, aliases: Sequence[str]) -> tuple[str, ...]:
    """A record's stated name and aliases, trimmed, empty ones and repeats dropped."""
    seen: dict[str, None] = {}
    for value in (name, *aliases):
        if value and value.strip():
            seen.setdefault(value.strip(), None)
    return tuple(seen)


def own_names(name: str | None, aliases: Sequence[str], *, name_assigned: bool) -> tuple[str, ...]:
    """A found person's names that may be compared with reports': without a name the
    station gave, which says nothing of who the person is."""
    return record_names(None if name_assigned else name, aliases)


def missing_view(report: MissingReport) -> MissingView:
    """The matcher's view of a report (photos and faces must be loaded)."""
    birth_year = report.birth_year or (report.birth_date.year if report.birth_date else None)
    return MissingView(
        id=report.id,
        ref=report.ref,
        names=record_names(report.name, report.aliases),
        sex=report.sex,
        birth_year=birth_year,
        missing_date=report.missing_date,
        missing_place=report.missing_place,
        hometown=report.hometown,
        dialect=report.dialect,
        height_cm=report.height_cm,
        features=tuple(report.features),
        health=tuple(report.health),
        faces=_faces(report.photos),
    )


def found_view(person: FoundPerson) -> FoundView:
    """The matcher's view of a found person (photos and faces must be loaded)."""
    return FoundView(
        id=person.id,
        ref=person.ref,
        names=own_names(person.name, person.aliases, name_assigned=person.name_assigned),
        sex=person.sex,
        age_min=person.age_min,
        age_max=person.age_max,
        found_date=person.found_date,
        found_place=person.found_place,
        accent=person.accent,
        registered=person.created_at.date() if person.created_at else None,
        hometown=person.hometown,
        height_cm=person.height_cm,
        features=tuple(person.features),
        health=tuple(person.health),
        faces=_faces(person.photos),
    )
