"""The columns of one side: what the comparisons need of N reports (or N found persons),
one array entry a record.

Each view is turned into its facts once, by the same functions the per-pair scorer uses
(:func:`~matching.evidence_model.facts.missing_facts`, ``found_facts``), and the facts
into arrays:

- days as ordinals (:data:`NO_DAY` when unknown), other numbers as float64 (NaN when
  unknown), sexes as small codes (:data:`SEX_CODES`);
- places as class codes, and for each distinct place its coordinates, a flag for a
  place known only to its province, and its province and city as class codes;
- faces as one float32 matrix of every face of the side, with each record's faces at
  ``offsets[r]:offsets[r + 1]`` and each face's year and age (NaN when unknown);
- set-valued facts (where the person is from, marks, conditions) as class codes
  (:class:`~.interning.Classes`), so they are compared once per pair of distinct values;
- names as :class:`~matching.evidence_model.name_columns.NameColumns`.

The facts are kept too, one per record: a pair whose arrays put it too near the edge of
a level for floating point to decide the same way is compared by the comparison's own
code on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from matching.evidence_model.columns.interning import Classes
from matching.evidence_model.facts import (
    FaceFacts,
    FoundFacts,
    HomeFacts,
    MissingFacts,
    found_facts,
    missing_facts,
)
from matching.evidence_model.name_columns import NameColumns
from matching.evidence_model.traits import Condition, Mark
from matching.places import Place, PlaceLevel
from matching.views import FoundView, MissingView
from records import Sex

NO_DAY = 0
"""The day ordinal of an unknown date (``date.toordinal`` starts at 1)."""
SEX_CODES = {sex: code for code, sex in enumerate(Sex)}
"""Each sex's code in the ``sex`` columns."""


def _floats(values: Sequence[float | None]) -> NDArray[np.float64]:
    return np.fromiter(
        (np.nan if v is None else v for v in values), dtype=np.float64, count=len(values)
    )


def _days(values: Sequence[int | None]) -> NDArray[np.int64]:
    return np.fromiter(
        (NO_DAY if v is None else v for v in values), dtype=np.int64, count=len(values)
    )


@dataclass(frozen=True, slots=True)
class PlaceColumns:
    """Each record's place as a class code (``classes``), and each distinct place's
    coordinates, province and city (indexed by class; ``known`` False for no place)."""

    classes: Classes[Place | None]
    known: NDArray[np.bool_]
    latitude: NDArray[np.float64]
    longitude: NDArray[np.float64]
    coarse: NDArray[np.bool_]
    """Known only to its province."""
    province: Classes[str | None]
    city: Classes[str | None]

    @classmethod
    def of(cls, places: Sequence[Place | None]) -> PlaceColumns:
        """The columns of resolved places (None: unknown)."""
        classes = Classes.of(places)
        distinct = classes.keys
        return cls(
            classes=classes,
            known=np.fromiter(
                (p is not None for p in distinct), dtype=np.bool_, count=len(distinct)
            ),
            latitude=_floats([p.latitude if p else None for p in distinct]),
            longitude=_floats([p.longitude if p else None for p in distinct]),
            coarse=np.fromiter(
                (p is not None and p.level is PlaceLevel.PROVINCE for p in distinct),
                dtype=np.bool_,
                count=len(distinct),
            ),
            province=Classes.of([p.province if p else None for p in distinct]),
            city=Classes.of([p.city_code if p else None for p in distinct]),
        )


@dataclass(frozen=True, slots=True)
class FaceColumns:
    """Every face of a side in one matrix; record ``r``'s are rows ``offsets[r]`` to
    ``offsets[r + 1]``, in the order of its facts."""

    embeddings: NDArray[np.float32]
    offsets: NDArray[np.int64]
    years: NDArray[np.float64]
    ages: NDArray[np.float64]
    records: NDArray[np.int64]
    """The record each face belongs to."""
    squared_norms: NDArray[np.float64]
    """Each embedding's squared length, in float64."""
    poor: NDArray[np.bool_]
    """Whether each face is poor."""

    @classmethod
    def of(cls, faces: Sequence[FaceFacts]) -> FaceColumns:
        """The columns of each record's face facts.

        Raises ValueError when the records' embeddings differ in width.
        """
        counts = np.fromiter((f.count for f in faces), dtype=np.int64, count=len(faces))
        offsets = np.zeros(len(faces) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        widths = {f.embeddings.shape[1] for f in faces if f.count}
        if len(widths) > 1:
            raise ValueError(f"faces of one side must share a width, got {sorted(widths)}")
        width = widths.pop() if widths else 128
        embeddings = np.zeros((int(offsets[-1]), width), dtype=np.float32)
        for row, f in enumerate(faces):
            if f.count:
                embeddings[offsets[row] : offsets[row + 1]] = f.embeddings
        wide = embeddings.astype(np.float64)
        return cls(
            embeddings=embeddings,
            offsets=offsets,
            years=_floats([y for f in faces for y in f.years]),
            ages=_floats([a for f in faces for a in f.ages]),
            records=np.repeat(np.arange(len(faces), dtype=np.int64), counts),
            squared_norms=np.einsum("ij,ij->i", wide, wide),
            poor=np.fromiter((f.is_poor(k) for f in faces for k in range(f.count)),
                             dtype=np.bool_, count=int(offsets[-1])),
        )  # fmt: skip

    @property
    def counts(self) -> NDArray[np.int64]:
        """How many faces each record has."""
        return np.diff(self.offsets)


@dataclass(frozen=True, slots=True)
class MissingColumns:
    """Everything the comparisons need of N reports, one array entry a report."""

    facts: tuple[MissingFacts, ...]
    sex: NDArray[np.int8]
    day: NDArray[np.int64]
    """The day the person went missing (:data:`NO_DAY`: unknown)."""
    birth_year: NDArray[np.float64]
    age_when_missing: NDArray[np.float64]
    height: NDArray[np.float64]
    place: PlaceColumns
    faces: FaceColumns
    names: NameColumns
    home: Classes[HomeFacts]
    marks: Classes[frozenset[Mark]]
    conditions: Classes[frozenset[Condition]]

    def __len__(self) -> int:
        return len(self.facts)


@dataclass(frozen=True, slots=True)
class FoundColumns:
    """Everything the comparisons need of N found persons, one array entry a person."""

    facts: tuple[FoundFacts, ...]
    sex: NDArray[np.int8]
    day: NDArray[np.int64]
    """The day the person was found (:data:`NO_DAY`: unknown)."""
    found_year: NDArray[np.float64]
    age_low: NDArray[np.float64]
    age_high: NDArray[np.float64]
    age_estimate: NDArray[np.float64]
    height: NDArray[np.float64]
    place: PlaceColumns
    faces: FaceColumns
    names: NameColumns
    home: Classes[HomeFacts]
    marks: Classes[frozenset[Mark]]
    conditions: Classes[frozenset[Condition]]

    def __len__(self) -> int:
        return len(self.facts)


def _sexes(sexes: Sequence[Sex]) -> NDArray[np.int8]:
    return np.fromiter((SEX_CODES[s] for s in sexes), dtype=np.int8, count=len(sexes))


def missing_columns(views: Sequence[MissingView]) -> MissingColumns:
    """The columns of reports, in the order given."""
    facts = tuple(missing_facts(view) for view in views)
    return MissingColumns(
        facts=facts,
        sex=_sexes([f.view.sex for f in facts]),
        day=_days([f.missing_day for f in facts]),
        birth_year=_floats([f.view.birth_year for f in facts]),
        age_when_missing=_floats([f.age_when_missing for f in facts]),
        height=_floats([f.view.height_cm for f in facts]),
        place=PlaceColumns.of([f.place for f in facts]),
        faces=FaceColumns.of([f.faces for f in facts]),
        names=NameColumns.of([f.view.names for f in facts], [f.speaker_regions for f in facts]),
        home=Classes.of([f.home for f in facts]),
        marks=Classes.of([f.marks for f in facts]),
        conditions=Classes.of([f.conditions for f in facts]),
    )


def found_columns(views: Sequence[FoundView]) -> FoundColumns:
    """The columns of found persons, in the order given."""
    facts = tuple(found_facts(view) for view in views)
    # The age comparison's reading of a one-sided estimate: the one bound is both.
    low = [f.view.age_min if f.view.age_min is not None else f.view.age_max for f in facts]
    high = [f.view.age_max if f.view.age_max is not None else f.view.age_min for f in facts]
    return FoundColumns(
        facts=facts,
        sex=_sexes([f.view.sex for f in facts]),
        day=_days([f.found_day for f in facts]),
        found_year=_floats(
            [f.view.found_date.year if f.view.found_date else None for f in facts]
        ),  # fmt: skip
        age_low=_floats(low),
        age_high=_floats(high),
        age_estimate=_floats([f.age_estimate for f in facts]),
        height=_floats([f.view.height_cm for f in facts]),
        place=PlaceColumns.of([f.place for f in facts]),
        faces=FaceColumns.of([f.faces for f in facts]),
        names=NameColumns.of([f.view.names for f in facts], [f.speaker_regions for f in facts]),
        home=Classes.of([f.home for f in facts]),
        marks=Classes.of([f.marks for f in facts]),
        conditions=Classes.of([f.conditions for f in facts]),
    )
