"""Weighing a photo search's hits with the evidence model, as candidates are weighed.

A face distance is evidence, not a verdict: what it is worth depends on the photos' ages
and the years between them (a childhood photo against an adult face says little), and
on East Asian faces different people come close. So the photo searched with becomes a
one-face record of the other side, carrying what the officer knows of the person in it
(sex, an estimated age, the year it was taken), and each hit is scored by the calibrated
model on face, sex and age. The rest is not asked: the photo's date is not the date the
person was found or lost, and a photo has no name or place.

The person in the photo is at most one of the hits, so the hits share that chance: each
hit's probability is its odds over one plus the odds of every hit weighed (the sharing of
:mod:`matching.competition`, among this search's hits only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np
from numpy.typing import NDArray

from matching.competition import share_between_candidates
from matching.evidence_model import EvidenceModel, EvidenceScore
from matching.evidence_model.comparisons.age import NARROW_RANGE
from matching.evidence_model.facts import found_facts, missing_facts
from matching.views import FaceView, FoundView, MissingView
from records import InvalidRecordError, Sex, Side

PHOTO_COMPARISONS: Final = frozenset({"face", "sex", "age"})
"""What a photo search weighs: the face, and the sex and age the officer gives."""
OLDEST_AGE: Final = 120
WIDEST_AGE_RANGE: Final = 20
"""The widest age estimate taken, in years: as wide as the widest a station writes down.
A wider one ("20 to 90") fits nearly everyone, yet would be weighed as an estimate that
agrees."""
QUERY_ID: Final = -1
"""The record id of the photo searched with (no stored record has it)."""


@dataclass(frozen=True)
class PhotoQuery:
    """What the officer knows of the person in the photo; every field may be left out.

    ``age_min`` and ``age_max`` are the person's estimated age in the photo (one of them
    alone is taken as the age). ``photo_year`` is the year it was taken; left out, it is
    this year when searching reports (a photo of a person in care, taken now) and unknown
    when searching found persons (a family's photo may be decades old). ``birth_year`` is
    for searching found persons with a family's photo: the family knows it, where a
    station only estimates an age.
    """

    sex: Sex = Sex.UNKNOWN
    age_min: int | None = None
    age_max: int | None = None
    photo_year: int | None = None
    birth_year: int | None = None

    def ages(self) -> tuple[int, int] | None:
        """The estimated age range in the photo, or None."""
        low = self.age_min if self.age_min is not None else self.age_max
        high = self.age_max if self.age_max is not None else self.age_min
        return None if low is None or high is None else (low, high)

    def middle_age(self) -> int | None:
        """The middle of the estimated age range, or None."""
        ages = self.ages()
        return None if ages is None else round((ages[0] + ages[1]) / 2)

    def year_in_care(self, today: date) -> int:
        """The photo's year for a person in care: this year, unless said."""
        return self.photo_year if self.photo_year is not None else today.year

    def year_taken(self, side: Side, today: date) -> int | None:
        """The photo's year as weighed: this year for a person in care (searching
        reports), unless said; unknown for a family's photo unless said."""
        return self.year_in_care(today) if side is Side.MISSING else self.photo_year

    def age_in_photo(self, side: Side, today: date) -> int | None:
        """The middle of the estimate, else what the birth year and the photo's year give."""
        middle = self.middle_age()
        if middle is not None:
            return middle
        year = self.year_taken(side, today)
        if self.birth_year is not None and year is not None:
            return year - self.birth_year
        return None

    def check(self, side: Side, today: date) -> None:
        """Refuse a query that cannot describe a person (InvalidRecordError names the field)."""
        for field in ("age_min", "age_max"):
            value = getattr(self, field)
            if value is not None and not 0 <= value <= OLDEST_AGE:
                raise InvalidRecordError(f"must be 0 to {OLDEST_AGE}, got {value}", field=field)
        ages = self.ages()
        if ages is not None and ages[0] > ages[1]:
            raise InvalidRecordError(
                f"the youngest age {ages[0]} is over the oldest {ages[1]}", field="age_min"
            )
        if ages is not None and ages[1] - ages[0] > WIDEST_AGE_RANGE:
            raise InvalidRecordError(
                f"an estimate over {WIDEST_AGE_RANGE} years wide fits nearly everyone: "
                "leave the age out instead", field="age_max",
            )  # fmt: skip
        for field in ("photo_year", "birth_year"):
            value = getattr(self, field)
            if value is not None and not 1900 <= value <= today.year:
                raise InvalidRecordError(f"must be 1900 to {today.year}, got {value}", field=field)
        if self.birth_year is None:
            return
        if side is Side.MISSING:
            raise InvalidRecordError(
                "a person in care's age is an estimate: give age_min and age_max",
                field="birth_year",
            )
        year = self.year_taken(side, today)
        if year is not None and year < self.birth_year:
            raise InvalidRecordError(
                "the photo was taken before the birth year", field="photo_year"
            )
        if year is not None and ages is not None:
            age = year - self.birth_year
            if not ages[0] - 1 <= age <= ages[1] + 1:
                raise InvalidRecordError(
                    f"born {self.birth_year}, the person was {age} in {year}, not "
                    f"{ages[0]}-{ages[1]}", field="birth_year",
                )  # fmt: skip

    def asked(self) -> list[str]:
        """Which fields were given (what an audit may record: not their values)."""
        return [f for f in ("sex", "age_min", "age_max", "photo_year", "birth_year")
                if getattr(self, f) not in (None, Sex.UNKNOWN)]  # fmt: skip


def _query_face(embedding: NDArray[np.float32], year: int | None, age: int | None) -> FaceView:
    return FaceView(face_id=QUERY_ID, embedding=embedding, taken_year=year, age_at_photo=age)


def query_found_view(
    embedding: NDArray[np.float32], query: PhotoQuery, *, today: date
) -> FoundView:
    """The photo of a person in care as a found person seen on the day it was taken: the
    age comparison reads the estimate at that date."""
    year = query.year_in_care(today)
    ages = query.ages()
    return FoundView(
        id=QUERY_ID,
        ref="(photo)",
        sex=query.sex,
        age_min=ages[0] if ages else None,
        age_max=ages[1] if ages else None,
        found_date=today if year == today.year else date(year, 7, 1),
        faces=(_query_face(embedding, year, query.age_in_photo(Side.MISSING, today)),),
    )


def query_missing_view(
    embedding: NDArray[np.float32], query: PhotoQuery, *, today: date
) -> MissingView:
    """A family's photo of a missing person as a report lost when the photo was taken.

    The birth year is the family's, or the photo's year less a narrow estimate of the
    age in it; a wide estimate gives none, since the comparison takes a birth year as
    known. The photo's date stands for the date lost, so the years from it to the date
    found widen the age comparison's tolerance, as they would for a report.
    """
    year = query.year_taken(Side.FOUND, today)
    ages = query.ages()
    birth_year = query.birth_year
    middle = query.middle_age()
    if birth_year is None and year is not None and ages is not None and middle is not None:
        if ages[1] - ages[0] <= NARROW_RANGE:
            birth_year = year - middle
    return MissingView(
        id=QUERY_ID,
        ref="(photo)",
        sex=query.sex,
        birth_year=birth_year,
        missing_date=date(year, 7, 1) if year is not None else None,
        faces=(_query_face(embedding, year, query.age_in_photo(Side.FOUND, today)),),
    )


def weigh_photo_hits(
    model: EvidenceModel,
    side: Side,
    embedding: NDArray[np.float32],
    query: PhotoQuery,
    hits: Sequence[MissingView | FoundView],
    *,
    today: date | None = None,
) -> list[EvidenceScore]:
    """Each hit's explained score against the photo, its chance shared with the others.

    ``side`` is the side searched (the hits'); the photo is a found person when reports
    are searched, a report when found persons are. Scores come in the hits' order.
    """
    today = today or date.today()
    query.check(side, today)
    scores: list[EvidenceScore] = []
    if side is Side.MISSING:
        found = found_facts(query_found_view(embedding, query, today=today))
        for hit in hits:
            if not isinstance(hit, MissingView):
                raise TypeError("a search of reports weighs reports")
            scores.append(model.score_facts(missing_facts(hit), found, asked=PHOTO_COMPARISONS))
    else:
        missing = missing_facts(query_missing_view(embedding, query, today=today))
        for hit in hits:
            if not isinstance(hit, FoundView):
                raise TypeError("a search of found persons weighs found persons")
            scores.append(model.score_facts(missing, found_facts(hit), asked=PHOTO_COMPARISONS))
    if not scores:
        return scores
    # One person in the photo: every hit competes with every other for that one match.
    # The photo is the found person when reports are searched, the report otherwise.
    one = np.zeros(len(scores), dtype=np.int64)
    each = np.arange(len(scores), dtype=np.int64)
    weights = np.array([s.calibrated_weight for s in scores], dtype=np.float64)
    found_ids, missing_ids = (one, each) if side is Side.MISSING else (each, one)
    sharing = share_between_candidates(found_ids, missing_ids, weights, fit_shift=False)
    return [score.shared(sharing.of(k)) for k, score in enumerate(scores)]
