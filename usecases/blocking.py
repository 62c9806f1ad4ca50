"""Which report/found pairs are worth scoring.

Small stores score every pair. Larger ones score the pairs whose names match at the
小名/partial level or better (dialect-aware, through the name index, with the found
person's accent and stated hometown as the speaker's regions) or whose faces are
neighbours in the face index; the pairs of one sex, a fitting birth year and a shared
province; and, for a found person whose names cannot find their report (none, or only
a 小名 the family may never have listed), the reports of their sex and a birth year the
age comparison would not call far, anywhere. Everything else is left out as too
unlikely to read.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta

import numpy as np
from numpy.typing import NDArray

from matching.evidence_model.comparisons.age import (
    GAP_CAP,
    OFF_FACTOR,
    age_tolerance,
    not_far_ages,
    years_outside,
)
from matching.evidence_model.comparisons.timing import SLACK_DAYS
from matching.names import NameIndex, regions_from_texts
from matching.names.forms import NameForm, name_forms, usable_names
from matching.places import resolve_place
from matching.views import FoundView, MissingView
from records import Sex, Side
from usecases.face_registry import FaceIndexes


def speaker_regions(person: FoundView) -> frozenset[str]:
    """Provinces the found person's speech points to: the accent heard, stated hometown."""
    return regions_from_texts(person.accent, person.hometown)


def _province(text: str | None) -> str | None:
    place = resolve_place(text) if text else None
    return place.province if place is not None else None


def _estimated_on(person: FoundView) -> date | None:
    """The day the age estimate is taken to refer to: the found date or, when it is not
    known, the day the record was made (the person was in care by then; an import of
    old records may make it later, which only shifts whom blocking reaches)."""
    return person.found_date or person.registered


def _birth_estimate(person: FoundView) -> int | None:
    ages = [a for a in (person.age_min, person.age_max) if a is not None]
    day = _estimated_on(person)
    if not ages or day is None:
        return None
    return day.year - round(sum(ages) / len(ages))


def attribute_pairs(
    missing: Sequence[MissingView],
    found: Sequence[FoundView],
    *,
    birth_slack: int = 12,
) -> set[tuple[int, int]]:
    """Pairs of the same sex, a compatible birth year and a shared province.

    The province is where the report says the person was lost or is from, against where
    the person was found or what their speech points to. It reaches the people with no
    usable name and no photo, who are mostly found near home within days.
    """
    by_key: dict[tuple[str, Sex], list[int]] = {}
    for i, report in enumerate(missing):
        provinces = {_province(report.missing_place), _province(report.hometown)} - {None}
        for province in provinces:
            by_key.setdefault((str(province), report.sex), []).append(i)
    pairs: set[tuple[int, int]] = set()
    for j, person in enumerate(found):
        born = _birth_estimate(person)
        if born is None or person.sex is Sex.UNKNOWN:
            continue
        provinces = ({_province(person.found_place), _province(person.hometown)}
                     | set(speaker_regions(person))) - {None}  # fmt: skip
        for province in provinces:
            for i in by_key.get((str(province), person.sex), ()):
                year = missing[i].birth_year
                if year is not None and abs(year - born) <= birth_slack:
                    pairs.add((i, j))
    return pairs


def names_can_block(person: FoundView) -> bool:
    """Whether the found person's names can find their report through the name index.

    Not when there is none, nor when every name is only a 小名 (老三, 小宝, 二娃), a lone
    character or a surname (王某): the family may never have listed it, and then the
    report shares nothing of it.
    """
    return any(_full_name(form) for name in usable_names(person.names) for form in name_forms(name))


def _full_name(form: NameForm) -> bool:
    if form.nickname is not None or form.surname_only or len(form.positions) == 1:
        return False
    # A Latin word that is not pinyin ("Wong", "Lee") is one name, most likely a surname.
    return bool(form.positions) or len(form.phonetic) > 1


WEAK_NAME_REACH = 2000
"""Reports a found person whose names cannot find their report reaches at most."""


def weak_name_reach(found: Sequence[FoundView], *, budget: int) -> int:
    """How many reports each found person :func:`weak_name_pairs` serves may reach so that
    all of them together stay within ``budget`` pairs: :data:`WEAK_NAME_REACH`, fewer in
    a store with many such people (at least one each)."""
    if budget < 1:
        raise ValueError(f"the weak-name pair budget must be at least 1, got {budget}")
    served = sum(1 for person in found if _served_without_names(person))
    return min(WEAK_NAME_REACH, max(1, budget // served)) if served else WEAK_NAME_REACH


def _served_without_names(person: FoundView) -> bool:
    has_age = person.age_min is not None or person.age_max is not None
    return has_age and _estimated_on(person) is not None and not names_can_block(person)


_KEY_SLICE = 1 << 16
"""Keys turned into Python pairs at a time."""


def pair_keys(pairs: Iterable[tuple[int, int]], n_missing: int) -> NDArray[np.int64]:
    """(report position, found position) pairs as one int64 each, sorted by found person
    then report, without repeats: 8 bytes a pair where a set of tuples takes about 150,
    and the nightly job holds millions."""
    keys = np.fromiter((j * n_missing + i for i, j in pairs), dtype=np.int64)
    return np.unique(keys)


def keyed_pairs(keys: NDArray[np.int64], n_missing: int) -> Iterator[tuple[int, int]]:
    """The (report position, found position) pairs of :func:`pair_keys`, in their order,
    a slice at a time (never all of them as Python objects at once)."""
    for start in range(0, len(keys), _KEY_SLICE):
        for key in keys[start : start + _KEY_SLICE].tolist():
            j, i = divmod(key, n_missing)
            yield i, j


def weak_name_pairs(
    missing: Sequence[MissingView],
    found: Sequence[FoundView],
    *,
    per_person: int = WEAK_NAME_REACH,
) -> set[tuple[int, int]]:
    """:func:`weak_name_keys` as a set of pairs, for a small store or a look at them."""
    return set(keyed_pairs(weak_name_keys(missing, found, per_person=per_person), len(missing)))


def weak_name_keys(
    missing: Sequence[MissingView],
    found: Sequence[FoundView],
    *,
    per_person: int = WEAK_NAME_REACH,
) -> NDArray[np.int64]:
    """Pairs (as :func:`pair_keys`) for found persons whose names cannot find their
    report (:func:`names_can_block`).

    These people (a quarter of those in care cannot say who they are; more know only a
    小名) would otherwise reach only the reports sharing a province, or, with a face,
    the few reports with a photo, and many are found far from home. Each gets the
    reports of a compatible sex lost before they were found (or within the days a report
    may be filed late) whose birth year the age comparison would not call far
    (:func:`~matching.evidence_model.comparisons.age.not_far_ages`), those that fit the
    estimate best first, then the reports that give no birth year (an unknown year is
    not a disagreement), at most ``per_person``, so the weak evidence left (age, time,
    height, marks, health) can rank them.
    """
    by_sex: dict[Sex, list[tuple[int, int]]] = {}
    yearless: dict[Sex, list[int]] = {}
    for i, report in enumerate(missing):
        if report.birth_year is not None:
            by_sex.setdefault(report.sex, []).append((report.birth_year, i))
        else:
            yearless.setdefault(report.sex, []).append(i)
    for rows in by_sex.values():
        rows.sort()
    chunks: list[NDArray[np.int64]] = []
    for j, person in enumerate(found):
        day = _estimated_on(person)
        if day is None or not _served_without_names(person):
            continue
        ages = [a for a in (person.age_min, person.age_max) if a is not None]
        low, high = min(ages), max(ages)
        youngest, oldest = not_far_ages(low, high)
        year_found = day.year
        sexes = [person.sex, Sex.UNKNOWN] if person.sex is not Sex.UNKNOWN else list(Sex)
        latest = day + timedelta(days=SLACK_DAYS)
        middle = (low + high) / 2
        fits: list[tuple[float, float, int]] = []
        for sex in sexes:
            rows = by_sex.get(sex, [])
            lo = bisect_left(rows, (year_found - oldest, -1))
            hi = bisect_right(rows, (year_found - youngest, len(missing)))
            for year, i in rows[lo:hi]:
                if _lost_in_time(missing[i], latest):
                    # How far outside the estimate, in the tolerances the comparison
                    # allows at that age (0 inside it), then how far from its middle.
                    implied = year_found - year
                    outside = years_outside(low, high, implied)
                    fit = outside / age_tolerance(float(implied), GAP_CAP)
                    fits.append((fit, abs(implied - middle), i))
        kept = heapq.nsmallest(per_person, fits)
        # Reports without a birth year only fill what the fitting years leave free.
        room = per_person - len(kept)
        for sex in sexes:
            for i in yearless.get(sex, ()):
                if room <= 0:
                    break
                if _lost_in_time(missing[i], latest):
                    kept.append((OFF_FACTOR, 0.0, i))
                    room -= 1
        reports = np.fromiter((i for *_fit, i in kept), dtype=np.int64, count=len(kept))
        chunks.append(j * len(missing) + reports)
    return np.unique(np.concatenate(chunks)) if chunks else np.zeros(0, dtype=np.int64)


def _lost_in_time(report: MissingView, latest: date | None) -> bool:
    """Whether the report's missing date is no later than ``latest`` (or unknown)."""
    return report.missing_date is None or latest is None or report.missing_date <= latest


def all_pairs(n_missing: int, n_found: int) -> Iterator[tuple[int, int]]:
    """Every (report position, found position) pair."""
    for j in range(n_found):
        for i in range(n_missing):
            yield i, j


def blocked_pairs(
    missing: Sequence[MissingView],
    found: Sequence[FoundView],
    face_indexes: FaceIndexes | None,
    *,
    face_neighbours: int,
    model: str | None,
) -> set[tuple[int, int]]:
    """Pairs whose names match or whose faces are near, as positions in the sequences."""
    index: NameIndex[int] = NameIndex()
    for i, report in enumerate(missing):
        if report.names:
            index.add(i, report.names)
    pairs: set[tuple[int, int]] = set()
    for j, person in enumerate(found):
        if person.names:
            hits = index.query(person.names, regions=speaker_regions(person), limit=1_000_000)
            pairs.update((hit.record_id, j) for hit in hits)
    if face_indexes is None or model is None:
        return pairs
    position = {report.id: i for i, report in enumerate(missing)}
    owner_of_face = {face.face_id: report.id for report in missing for face in report.faces}
    for j, person in enumerate(found):
        if not person.faces:
            continue
        for row in face_indexes.search(
            Side.MISSING, person.embeddings, face_neighbours, model=model
        ):
            for neighbour in row:
                report_id = owner_of_face.get(neighbour.id)
                if report_id is not None:
                    pairs.add((position[report_id], j))
    return pairs
