"""What the comparisons need of a record, derived once per record and cached.

Re-matching scores each report against thousands of found persons; reading places,
accents and marks out of free text for every pair would dominate the time. So each view
is turned once into its facts (speaker regions, resolved places, hometown provinces,
canonical marks and conditions, face ages) and the facts are cached by record id. A new
view object for the same id (the record was reloaded, maybe changed) replaces the entry.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date

import numpy as np
from numpy.typing import NDArray

from matching.evidence_model.dialect_areas import areas_of
from matching.evidence_model.spec import StratumSpec
from matching.evidence_model.traits import Condition, Mark, read_conditions, read_marks
from matching.names import regions_from_text
from matching.places import Place, PlaceLevel, resolve_place
from matching.views import FoundView, MissingView

NARROW_PROVINCES = 2
"""A text naming at most this many provinces points to a province (川渝: either)."""
AREA_PROVINCES = 6
"""A text naming at most this many points to a dialect area (西南, 东北); more is vague
(南方口音 names fifteen provinces)."""


@dataclass(frozen=True, slots=True)
class HomeFacts:
    """Where a person is from, as far as the record's texts say.

    ``narrow`` holds provinces named precisely (四川, 川渝), ``area`` those of an area
    (西南口音, 西南官话), ``vague`` those of a broad hint (南方口音); ``city_code`` is
    the prefecture-level city a stated hometown names, if any.
    """

    narrow: frozenset[str] = frozenset()
    area: frozenset[str] = frozenset()
    vague: frozenset[str] = frozenset()
    city_code: str | None = None
    city_name: str | None = None
    areas: frozenset[str] = frozenset()
    """Dialect areas of the precise and area-level provinces."""

    @property
    def known(self) -> bool:
        """Whether anything points anywhere."""
        return bool(self.narrow or self.area or self.vague)

    @property
    def provinces(self) -> frozenset[str]:
        """Every province any text points to."""
        return self.narrow | self.area | self.vague


@dataclass(frozen=True, slots=True)
class FaceFacts:
    """A record's searchable faces with each photo's year and the person's age in it."""

    embeddings: NDArray[np.float32]
    years: tuple[float | None, ...]
    ages: tuple[float | None, ...]
    poor: tuple[bool, ...] = ()
    """Whether each face is poor (empty: none is)."""

    def is_poor(self, k: int) -> bool:
        """Whether face ``k`` is poor."""
        return bool(self.poor) and self.poor[k]

    @property
    def count(self) -> int:
        """How many faces."""
        return int(self.embeddings.shape[0])


@dataclass(frozen=True, slots=True)
class MissingFacts:
    """A report's facts for comparison."""

    view: MissingView
    speaker_regions: frozenset[str]
    home: HomeFacts
    place: Place | None
    marks: frozenset[Mark]
    conditions: frozenset[Condition]
    faces: FaceFacts
    missing_day: int | None
    age_when_missing: float | None


@dataclass(frozen=True, slots=True)
class FoundFacts:
    """A found person's facts for comparison."""

    view: FoundView
    speaker_regions: frozenset[str]
    home: HomeFacts
    place: Place | None
    marks: frozenset[Mark]
    conditions: frozenset[Condition]
    faces: FaceFacts
    found_day: int | None
    age_estimate: float | None


GREW_UP_AWAY_BEFORE = 12.0
"""Lost younger than this, a child takes on the speech of wherever they grow up."""
GREW_UP_AWAY_YEARS = 5.0
"""Gone at least this long, such a child has grown up there."""


GREW_UP_AWAY = StratumSpec("grew_up_away", "lost as a young child and found years later")
"""The stratum of the comparisons whose evidence :func:`grew_up_away` weakens."""


def grew_up_away(missing: MissingFacts, found: FoundFacts) -> bool:
    """Whether, were these one person, they were lost as a young child and grew up
    elsewhere: their accent is that place's, and trafficked children are mostly taken far,
    so accent and the place found say little about the family's home."""
    age = missing.age_when_missing
    if age is None or age >= GREW_UP_AWAY_BEFORE:
        return False
    if missing.missing_day is None or found.found_day is None:
        return False
    return found.found_day - missing.missing_day >= GREW_UP_AWAY_YEARS * 365.25


def _day(value: date | None) -> int | None:
    return value.toordinal() if value is not None else None


def _year_fraction(value: date) -> float:
    return value.year + (value.timetuple().tm_yday - 0.5) / 365.25


def home_facts(texts: tuple[str | None, ...], *, place_text: str | None) -> HomeFacts:
    """Sort what each text says about a person's home into precise, area and vague."""
    narrow: set[str] = set()
    area: set[str] = set()
    vague: set[str] = set()
    for text in texts:
        if not text:
            continue
        provinces = regions_from_text(text)
        if not provinces:
            continue
        if len(provinces) <= NARROW_PROVINCES:
            narrow |= provinces
        elif len(provinces) <= AREA_PROVINCES:
            area |= provinces
        else:
            vague |= provinces
    place = resolve_place(place_text) if place_text else None
    city_code = city_name = None
    if place is not None:
        narrow.add(place.province)
        if place.level >= PlaceLevel.CITY:
            city_code, city_name = place.city_code, place.name
    return HomeFacts(
        frozenset(narrow),
        frozenset(area),
        frozenset(vague),
        city_code,
        city_name,
        areas_of(frozenset(narrow | area)),
    )


def _speaker_regions(*texts: str | None) -> frozenset[str]:
    regions: frozenset[str] = frozenset()
    for text in texts:
        if text:
            regions |= regions_from_text(text)
    return regions


def _face_facts(
    view: MissingView | FoundView, *, birth_year: float | None, default_year: float | None
) -> FaceFacts:
    years: list[float | None] = []
    ages: list[float | None] = []
    for face in view.faces:
        year: float | None = float(face.taken_year) if face.taken_year is not None else None
        age: float | None = float(face.age_at_photo) if face.age_at_photo is not None else None
        if year is None and age is not None and birth_year is not None:
            year = birth_year + age
        if year is None:
            year = default_year
        if age is None and year is not None and birth_year is not None:
            age = year - birth_year
        years.append(year)
        ages.append(age)
    return FaceFacts(view.embeddings, tuple(years), tuple(ages),
                     tuple(face.poor for face in view.faces))  # fmt: skip


def missing_facts(view: MissingView) -> MissingFacts:
    """Derive a report's facts (cheap enough per record, too dear per pair)."""
    birth = float(view.birth_year) + 0.5 if view.birth_year is not None else None
    age = None
    if birth is not None and view.missing_date is not None:
        age = _year_fraction(view.missing_date) - birth
    return MissingFacts(
        view=view,
        speaker_regions=_speaker_regions(view.hometown, view.dialect),
        home=home_facts((view.hometown, view.dialect), place_text=view.hometown),
        place=resolve_place(view.missing_place),
        marks=read_marks(view.features),
        conditions=read_conditions(view.health),
        # A report's photo without a year: assume it shows the person as they were lost.
        faces=_face_facts(
            view,
            birth_year=birth,
            default_year=_year_fraction(view.missing_date) if view.missing_date else None,
        ),
        missing_day=_day(view.missing_date),
        age_when_missing=age,
    )


def found_facts(view: FoundView) -> FoundFacts:
    """Derive a found person's facts."""
    low = view.age_min if view.age_min is not None else view.age_max
    high = view.age_max if view.age_max is not None else view.age_min
    estimate = (low + high) / 2 if low is not None and high is not None else None
    found_year = _year_fraction(view.found_date) if view.found_date else None
    birth = found_year - estimate if found_year is not None and estimate is not None else None
    return FoundFacts(
        view=view,
        speaker_regions=_speaker_regions(view.accent, view.hometown),
        home=home_facts((view.accent, view.hometown), place_text=view.hometown),
        place=resolve_place(view.found_place),
        marks=read_marks(view.features),
        conditions=read_conditions(view.health),
        # A station's photo without a year was taken when the person came into care.
        faces=_face_facts(view, birth_year=birth, default_year=found_year),
        found_day=_day(view.found_date),
        age_estimate=estimate,
    )


class FactsCache:
    """Facts by record id, rebuilt when a different view object arrives for the id."""

    def __init__(self) -> None:
        self._missing: dict[int, tuple[MissingView, MissingFacts]] = {}
        self._found: dict[int, tuple[FoundView, FoundFacts]] = {}
        self._lock = threading.Lock()

    def missing(self, view: MissingView) -> MissingFacts:
        """The report's facts, derived on first sight of this view (never kept for a
        view that is no stored record: a search's query has a negative id)."""
        if view.id < 0:
            return missing_facts(view)
        entry = self._missing.get(view.id)
        if entry is not None and entry[0] is view:
            return entry[1]
        facts = missing_facts(view)
        with self._lock:
            self._missing[view.id] = (view, facts)
        return facts

    def found(self, view: FoundView) -> FoundFacts:
        """The found person's facts, derived on first sight of this view (never kept for
        a view that is no stored record)."""
        if view.id < 0:
            return found_facts(view)
        entry = self._found.get(view.id)
        if entry is not None and entry[0] is view:
            return entry[1]
        facts = found_facts(view)
        with self._lock:
            self._found[view.id] = (view, facts)
        return facts

    def clear(self) -> None:
        """Forget every record (after a re-match run, to free memory)."""
        with self._lock:
            self._missing.clear()
            self._found.clear()

    def __len__(self) -> int:
        return len(self._missing) + len(self._found)

    def __reduce__(self) -> tuple[type[FactsCache], tuple[()]]:
        # A model sent to another process (a re-match's blocks on a Ray cluster) arrives
        # with an empty cache, which it fills again there: the cached facts stay here, and
        # the lock, which cannot be pickled, is made anew.
        return (FactsCache, ())
