"""Which report/found pairs are worth scoring.

Small stores score every pair. Larger ones score the pairs whose names share a key of
the name index (every pair whose names match at the 小名/partial level or better, in any
dialect; the scorer compares them) or whose faces are neighbours in the face index; the
pairs of one sex, a fitting birth year and a shared province; and, for a found person
whose names cannot find their report (none, or only a 小名 the family may never have
listed), the reports of their sex and a birth year the age comparison would not call
far, anywhere. Everything else is left out as too unlikely to read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta

import numpy as np
from numpy.typing import NDArray

from matching.evidence_model import EvidenceModel
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


BLOCKING = "names=keys;bounded=attributes-1000,facts"
"""The rules that choose pairs, as a re-match records them: names by shared key (not
compared), since the scorer compares them; when each found person's pairs are bounded,
the attribute reach and the facts that rule pairs out (:meth:`ReportBlocking.tiered_keys`).
A change of rules changes this."""

BIRTH_SLACK = 12
"""Years a report's birth year may be from a found person's estimate for the sex,
year and province pairs."""


def attribute_pairs(
    missing: Sequence[MissingView],
    found: Sequence[FoundView],
    *,
    birth_slack: int = BIRTH_SLACK,
) -> set[tuple[int, int]]:
    """Pairs of the same sex, a compatible birth year and a shared province.

    The province is where the report says the person was lost or is from, against where
    the person was found or what their speech points to. It reaches the people with no
    usable name and no photo, who are mostly found near home within days.
    """
    reports = _AttributeKeys(missing, np.arange(len(missing), dtype=np.int64))
    return {(int(i), j) for j, person in enumerate(found)
            for i in reports.reports_of(person, birth_slack=birth_slack)}  # fmt: skip


class _AttributeKeys:
    """Reports by (province, sex), with their birth years, for :func:`attribute_pairs`."""

    def __init__(self, missing: Sequence[MissingView], rows: NDArray[np.int64]) -> None:
        by_key: dict[tuple[str, Sex], list[tuple[int, int]]] = {}
        for i in rows.tolist():
            report = missing[i]
            if report.birth_year is None:
                continue  # no year is compatible with an estimate here
            provinces = {_province(report.missing_place), _province(report.hometown)} - {None}
            for province in provinces:
                by_key.setdefault((str(province), report.sex), []).append((i, report.birth_year))
        self._by_key = {
            key: np.array(rows_of, dtype=np.int64).reshape(-1, 2) for key, rows_of in by_key.items()
        }

    def reports_of(self, person: FoundView, *, birth_slack: int = BIRTH_SLACK) -> NDArray[np.int64]:
        """The reports of the person's sex, a birth year within ``birth_slack`` of the
        estimate and a province the person's place or speech points to."""
        born = _birth_estimate(person)
        if born is None or person.sex is Sex.UNKNOWN:
            return _NONE
        provinces = ({_province(person.found_place), _province(person.hometown)}
                     | set(speaker_regions(person))) - {None}  # fmt: skip
        chunks = []
        for province in provinces:
            table = self._by_key.get((str(province), person.sex))
            if table is not None:
                chunks.append(table[np.abs(table[:, 1] - born) <= birth_slack, 0])
        return np.unique(np.concatenate(chunks)) if chunks else _NONE


def _age_range(person: FoundView) -> tuple[int, int] | None:
    """The person's estimated age as (lowest, highest), either end standing for both."""
    ages = [a for a in (person.age_min, person.age_max) if a is not None]
    return (min(ages), max(ages)) if ages else None


def _outside_in_tolerances(
    low: int, high: int, implied: NDArray[np.int64], years_missing: float
) -> NDArray[np.float64]:
    """How far each implied age lies outside the estimate ``low`` to ``high``, in the
    tolerances the age comparison allows at that age after ``years_missing`` (0 inside);
    each distinct age computed once (a person's reports span a few dozen ages)."""
    ages_met, at = np.unique(implied, return_inverse=True)
    fit = np.array([years_outside(low, high, age) / age_tolerance(float(age), years_missing)
                    for age in ages_met.tolist()], dtype=np.float64)  # fmt: skip
    return fit[at]


_LAST = np.iinfo(np.int64).max

ATTRIBUTE_REACH = 1000
"""Reports a found person reaches by sex, birth year and province at most, when each
found person's pairs are bounded (:meth:`ReportBlocking.tiered_keys`)."""


_NONE: NDArray[np.int64] = np.zeros(0, dtype=np.int64)

NO_NAME_TIER = 5
"""The tier of a pair whose names share no key (:meth:`ReportBlocking.name_tiers`)."""
_WHOLE_NAME_TIERS = 2
"""The last tier of whole-name keys (the same name, sound, dialect or near sound)."""


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
    a store with many such people (a power of two, at least one each)."""
    if budget < 1:
        raise ValueError(f"the weak-name pair budget must be at least 1, got {budget}")
    served = sum(1 for person in found if _served_without_names(person))
    if not served or budget // served >= WEAK_NAME_REACH:
        return WEAK_NAME_REACH
    # A power of two: the reach changes only when the people served double or halve, so
    # that a run after a few new records chooses each person's reports as the last did.
    return 1 << (max(1, budget // served).bit_length() - 1)


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
    reports = _WeakNameReports(_ReportFacts(missing))
    chunks = [j * len(missing) + reports.reports_of(person, per_person=per_person)
              for j, person in enumerate(found)]  # fmt: skip
    return np.unique(np.concatenate(chunks)) if chunks else _NONE


class _ReportFacts:
    """Every report's sex (as :data:`_SEX_NUMBER`), birth year (:data:`_NO_YEAR` when not
    given) and missing day (:func:`_day_number`), by position, read in one pass."""

    def __init__(self, missing: Sequence[MissingView]) -> None:
        count = len(missing)
        self.sexes = np.fromiter((_SEX_NUMBER[r.sex] for r in missing), dtype=np.int8,
                                 count=count)  # fmt: skip
        self.years = np.fromiter((_NO_YEAR if r.birth_year is None else r.birth_year
                                  for r in missing), dtype=np.int64, count=count)  # fmt: skip
        self.lost = np.fromiter((_day_number(r.missing_date) for r in missing), dtype=np.int64,
                                count=count)  # fmt: skip

    def compatible(self, person: FoundView, rows: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Which reports at ``rows`` could be the person on the facts that cost nothing
        to compare: a sex that is not the other one, a birth year the age comparison would
        not call far, lost before the person was found (or within the days a report may
        be filed late). A fact missing on either side rules nothing out."""
        keep = np.ones(len(rows), dtype=np.bool_)
        if person.sex is not Sex.UNKNOWN:
            sexes = self.sexes[rows]
            keep &= (sexes == _SEX_NUMBER[person.sex]) | (sexes == _SEX_NUMBER[Sex.UNKNOWN])
        day = _estimated_on(person)
        if day is None:
            return keep
        ages = _age_range(person)
        if ages is not None:
            youngest, oldest = not_far_ages(*ages)
            years = self.years[rows]
            fits = (years >= day.year - oldest) & (years <= day.year - youngest)
            keep &= (years == _NO_YEAR) | fits
        return keep & (self.lost[rows] <= _day_number(day + timedelta(days=SLACK_DAYS)))

    def fitting_first(
        self, person: FoundView, rows: NDArray[np.int64], reach: int
    ) -> NDArray[np.int64]:
        """At most ``reach`` of the reports at ``rows`` (sorted, without repeats; all of
        them when the person has no age or date): those whose age at the found date the
        age comparison finds within or near the estimate first, then off, then far, and
        among them the shortest time missing before the person was found (no missing date,
        then a report lost after the person was found, last)."""
        day, ages = _estimated_on(person), _age_range(person)
        if len(rows) <= reach or day is None or ages is None:
            return rows
        ratio = _outside_in_tolerances(*ages, day.year - self.years[rows], 0.0)
        outside = np.select([ratio <= 1, ratio <= OFF_FACTOR], [0, 1], 2)
        lost = self.lost[rows]
        dated = lost != _UNKNOWN_DAY
        # Lost after the person was found (beyond a late filing) comes last: facts rule it
        # out later, and it must not take the place of one lost before.
        missing_for = np.where(dated, day.toordinal() - np.where(dated, lost, 0), 0)
        late = dated & (missing_for < -SLACK_DAYS)
        missing_for = np.where(dated, np.abs(missing_for), _LAST - 1)
        missing_for = np.where(late, _LAST, missing_for)
        return np.sort(rows[np.lexsort((rows, missing_for, outside))[:reach]])


_NO_YEAR = -1


class _WeakNameReports:
    """Every report by sex and birth year, for :func:`weak_name_keys`.

    Always built over every report, never a part of them: a person reaches the
    ``per_person`` best-fitting reports of all, so that a run scoring only new reports
    pairs each with the people a run over everything would. Held as arrays (each sex's
    reports sorted by birth year, then position), so a person's reports are chosen with
    array operations: a found person a few milliseconds at a hundred thousand reports.
    """

    def __init__(self, facts: _ReportFacts) -> None:
        sexes, years, lost = facts.sexes, facts.years, facts.lost
        dated = years != _NO_YEAR
        positions = np.arange(len(sexes), dtype=np.int64)
        self._by_sex: dict[Sex, tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]]
        self._by_sex, self._yearless = {}, {}
        for sex, code in _SEX_NUMBER.items():
            mine = sexes == code
            rows = positions[mine & dated]
            rows = rows[np.lexsort((rows, years[rows]))]  # by birth year, then position
            self._by_sex[sex] = (years[rows], rows, lost[rows])
            rows = positions[mine & ~dated]
            self._yearless[sex] = (rows, lost[rows])

    def reports_of(self, person: FoundView, *, per_person: int) -> NDArray[np.int64]:
        """The reports the person reaches (none unless their names cannot block)."""
        if per_person < 0:
            raise ValueError(f"a person reaches at least no report, not {per_person}")
        day = _estimated_on(person)
        if day is None or not _served_without_names(person):
            return _NONE
        ages = _age_range(person)
        if ages is None:  # _served_without_names holds an age
            return _NONE
        low, high = ages
        youngest, oldest = not_far_ages(low, high)
        year_found = day.year
        sexes = [person.sex, Sex.UNKNOWN] if person.sex is not Sex.UNKNOWN else list(Sex)
        latest = _day_number(day + timedelta(days=SLACK_DAYS))
        middle = (low + high) / 2
        chosen: list[NDArray[np.int64]] = []
        implied_ages: list[NDArray[np.int64]] = []
        for sex in sexes:
            years, rows, lost = self._by_sex[sex]
            lo = int(np.searchsorted(years, year_found - oldest, side="left"))
            hi = int(np.searchsorted(years, year_found - youngest, side="right"))
            in_time = lost[lo:hi] <= latest
            chosen.append(rows[lo:hi][in_time])
            implied_ages.append(year_found - years[lo:hi][in_time])
        rows, implied = np.concatenate(chosen), np.concatenate(implied_ages)
        # How far outside the estimate, in the tolerances the comparison allows at that
        # age (0 inside it), then how far from its middle, then the report's position.
        fit = _outside_in_tolerances(low, high, implied, GAP_CAP)
        order = np.lexsort((rows, np.abs(implied - middle), fit))
        kept = rows[order[:per_person]]
        # Reports without a birth year only fill what the fitting years leave free.
        room = per_person - len(kept)
        fill = [self._yearless[sex][0][self._yearless[sex][1] <= latest] for sex in sexes]
        return np.concatenate([kept, np.concatenate(fill)[: max(room, 0)]])


_SEX_NUMBER = {sex: code for code, sex in enumerate(Sex)}
"""Each sex's number in :class:`_WeakNameReports`' arrays."""

_UNKNOWN_DAY = np.iinfo(np.int64).min
"""The day number of an unknown missing date: before every day, so never too late."""


def _day_number(day: date | None) -> int:
    return _UNKNOWN_DAY if day is None else day.toordinal()


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
    blocking = ReportBlocking(missing, face_indexes=face_indexes, face_model=model,
                              face_neighbours=face_neighbours)  # fmt: skip
    rows = np.arange(len(found), dtype=np.int64)
    keys = np.unique(np.concatenate([blocking.name_keys(found, rows),
                                     blocking.face_keys(found, rows)]))  # fmt: skip
    return set(keyed_pairs(keys, len(missing)))


class ReportBlocking:
    """The reports' side of blocking, built once per run and asked block by block.

    ``only`` (positions in ``missing``; None: all) are the reports whose pairs are
    wanted: a run after new reports arrived asks for theirs alone. The name index and the
    sex, year and province keys hold only those (whether a pair matches does not depend
    on other reports, but for the attribute reach of a bounded blocking, which then
    ranks among those alone and so chooses at least what a run over everything would);
    the weak-name reach and the face neighbours are ranked among every report, then kept
    to ``only``, so that each pair is chosen as a run over everything would choose it.
    ``all_pairs`` asks for every pair (a small store).
    Keys are :func:`pair_keys` (found position times the number of reports, plus the
    report's position).
    """

    def __init__(
        self,
        missing: Sequence[MissingView],
        *,
        only: NDArray[np.int64] | None = None,
        face_indexes: FaceIndexes | None = None,
        face_model: str | None = None,
        face_neighbours: int = 50,
        weak_reach: int = WEAK_NAME_REACH,
        all_pairs: bool = False,
    ) -> None:
        self._n = len(missing)
        self._rows = np.arange(self._n, dtype=np.int64) if only is None else np.unique(only)
        self._wanted = np.zeros(self._n, dtype=np.bool_)
        self._wanted[self._rows] = True
        self._all_pairs = all_pairs
        self._face_indexes, self._face_model = face_indexes, face_model
        self._face_neighbours, self._weak_reach = face_neighbours, weak_reach
        self._owner_of_face = {face.face_id: i for i, report in enumerate(missing)
                               for face in report.faces}  # fmt: skip
        if all_pairs:
            return
        self._names: NameIndex[int] = NameIndex()
        for i in self._rows.tolist():
            if missing[i].names:
                self._names.add(i, missing[i].names)
        self._slot_rows = np.array([-1 if i is None else i for i in self._names.slot_ids()],
                                   dtype=np.int64)  # fmt: skip
        self._attributes = _AttributeKeys(missing, self._rows)
        self._facts = _ReportFacts(missing)
        self._weak = _WeakNameReports(self._facts)

    def keys(self, found: Sequence[FoundView], rows: NDArray[np.int64]) -> NDArray[np.int64]:
        """Every wanted pair of the found persons ``found``, at positions ``rows`` of the
        run's found persons, as sorted keys without repeats."""
        return self.tiered_keys(found, rows)[0]

    def tiered_keys(
        self, found: Sequence[FoundView], rows: NDArray[np.int64], *, bounded: bool = False
    ) -> tuple[NDArray[np.int64], NDArray[np.int8]]:
        """:meth:`keys`, with each pair's first tier of shared name keys
        (:meth:`name_tiers`; :data:`NO_NAME_TIER` where the names share none).

        ``bounded`` chooses as the bounded re-match does, whose pairs grow as the store,
        not as its square: sex, birth year and province reach at most
        :data:`ATTRIBUTE_REACH` reports, and the pairs that share no whole name (a
        partial name, a single syllable or 小名 core, or no key) are left out when the
        facts costing nothing to compare rule them out (another sex, a birth year the age
        comparison calls far, lost after the person was found): at a million reports a
        found person's single syllables and provinces reach tens of thousands, nearly
        all of them so. Face neighbours are kept whatever the facts.
        """
        if self._all_pairs:
            keys = np.unique((rows[:, None] * self._n + self._rows[None, :]).ravel())
            return keys, np.full(len(keys), NO_NAME_TIER, dtype=np.int8)
        key_chunks, tier_chunks = [_NONE], [np.zeros(0, dtype=np.int8)]
        faces = self.face_keys(found, rows)
        reach = ATTRIBUTE_REACH if bounded else None
        for person, j in zip(found, rows.tolist(), strict=True):
            named, tiers = self.name_tiers(person)
            others = np.unique(np.concatenate([named[tiers > _WHOLE_NAME_TIERS],
                                               self.attribute_reports(person, reach=reach),
                                               self.weak_reports(person)]))  # fmt: skip
            if bounded:
                others = others[self._facts.compatible(person, others)]
            mine = faces[faces // self._n == j] % self._n if len(faces) else _NONE
            reports = np.unique(np.concatenate([named[tiers <= _WHOLE_NAME_TIERS], others,
                                                mine]))  # fmt: skip
            tier_of = np.full(len(reports), NO_NAME_TIER, dtype=np.int8)
            kept = np.isin(named, reports, assume_unique=True)
            tier_of[np.searchsorted(reports, named[kept])] = tiers[kept]
            key_chunks.append(j * self._n + reports)
            tier_chunks.append(tier_of)
        keys, tiers = np.concatenate(key_chunks), np.concatenate(tier_chunks)
        order = np.argsort(keys, kind="stable")
        return keys[order], tiers[order]

    def attribute_reports(
        self, person: FoundView, *, reach: int | None = None
    ) -> NDArray[np.int64]:
        """The wanted reports of the person's sex, a fitting birth year and a province
        their place or speech points to (:func:`attribute_pairs`), at most ``reach``."""
        if self._all_pairs:
            raise ValueError("a blocking of every pair has no attribute keys")
        rows = self._attributes.reports_of(person)
        return rows if reach is None else self._facts.fitting_first(person, rows, reach)

    def weak_reports(self, person: FoundView) -> NDArray[np.int64]:
        """The wanted reports the weak-name reach gives the person (none unless their
        names cannot block; :func:`weak_name_keys`)."""
        if self._all_pairs:
            raise ValueError("a blocking of every pair has no weak-name reach")
        weak = self._weak.reports_of(person, per_person=self._weak_reach)
        return weak[self._wanted[weak]]

    def name_keys(self, found: Sequence[FoundView], rows: NDArray[np.int64]) -> NDArray[np.int64]:
        """The pairs whose names share a key of the name index: every pair whose names
        match at the 小名/partial level or better, in any dialect, and some that do not.

        The names are not compared here: the scorer compares every pair's names in
        columns, and comparing them here first, one pair at a time, took four fifths of
        a re-match's time.
        """
        chunks = [_NONE]
        for person, j in zip(found, rows.tolist(), strict=True):
            if person.names:
                reports = self._names.candidates(person.names)
                chunks.append(j * self._n + np.array(reports, dtype=np.int64))
        return np.unique(np.concatenate(chunks))

    def name_tiers(self, person: FoundView) -> tuple[NDArray[np.int64], NDArray[np.int8]]:
        """The reports whose names share a key with the person's (sorted), each with the
        first tier of keys shared (:meth:`~matching.names.NameIndex.candidate_tiers`)."""
        if self._all_pairs:
            raise ValueError("a blocking of every pair has no name index")
        if not person.names:
            return _NONE, np.zeros(0, dtype=np.int8)
        slots, tiers = self._names.candidate_tiers(person.names)
        rows = self._slot_rows[slots]
        order = np.argsort(rows, kind="stable")
        return rows[order], tiers[order]

    def face_keys(self, found: Sequence[FoundView], rows: NDArray[np.int64]) -> NDArray[np.int64]:
        """The pairs whose faces are neighbours in the reports' face index."""
        return self.face_neighbours(found, rows)[0]

    def face_neighbours(
        self, found: Sequence[FoundView], rows: NDArray[np.int64]
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """The pairs whose faces are neighbours in the reports' face index, as sorted keys,
        and each pair's nearest faces' distance as the index gives it."""
        if self._face_indexes is None or self._face_model is None:
            return _NONE, np.zeros(0, dtype=np.float64)
        with_faces = [(person, j) for person, j in zip(found, rows.tolist(), strict=True)
                      if person.faces]  # fmt: skip
        if not with_faces:
            return _NONE, np.zeros(0, dtype=np.float64)
        vectors = np.concatenate([person.embeddings for person, _ in with_faces])
        owners = np.concatenate([np.full(len(person.faces), j, dtype=np.int64)
                                 for person, j in with_faces])  # fmt: skip
        neighbours = self._face_indexes.search(
            Side.MISSING, vectors, self._face_neighbours, model=self._face_model
        )
        found_pairs = [
            (int(j) * self._n + i, neighbour.distance)
            for j, row in zip(owners.tolist(), neighbours, strict=True)
            for neighbour in row
            if (i := self._owner_of_face.get(neighbour.id)) is not None and self._wanted[i]
        ]
        if not found_pairs:
            return _NONE, np.zeros(0, dtype=np.float64)
        keys = np.array([k for k, _ in found_pairs], dtype=np.int64)
        distances = np.array([d for _, d in found_pairs], dtype=np.float64)
        unique, inverse = np.unique(keys, return_inverse=True)
        nearest = np.full(len(unique), np.inf)
        np.minimum.at(nearest, inverse, distances)
        return unique, nearest


_TIER_LABELS = ("exact", "same_sound", "near_sound", "nickname_or_partial",
                "nickname_or_partial", "different")  # fmt: skip
"""The name level each tier of shared keys (:meth:`ReportBlocking.name_tiers`, then none
shared) stands for. For the whole-name tiers it is the level at worst but for rare cases
(a dialect match is filed with the near sounds, and is weighed as one until the names
are compared); for the partial tiers it is the best level a pair can reach, though most
pairs sharing only a single syllable compare as different: the guess is hopeful there,
and the ranking among them falls to the other comparisons."""


def name_tier_weights(model: EvidenceModel) -> NDArray[np.float64] | None:
    """The name term each tier of shared keys stands for (:data:`_TIER_LABELS`), from the
    model's own weights; None for a model that does not compare names."""
    at = next((k for k, c in enumerate(model.comparisons) if c.name == "name"), None)
    if at is None:
        return None
    labels = [level.label for level in model.comparisons[at].levels]
    weights = model.tables[at].weights[0]
    return np.array([weights[labels.index(label)] for label in _TIER_LABELS])


def name_guess(
    by_tier: NDArray[np.float64], tiers: NDArray[np.int8], both_named: NDArray[np.bool_]
) -> NDArray[np.float64]:
    """The name term each pair's tier of shared keys suggests (tier 5: none shared;
    ``by_tier`` from :func:`name_tier_weights`), before any name is compared; nothing when
    a side has no name."""
    return np.where(both_named, by_tier[tiers], 0.0)


def top_per_group(
    groups: NDArray[np.int64],
    others: NDArray[np.int64],
    weights: NDArray[np.float64],
    eligible: NDArray[np.bool_],
    keep: int,
) -> NDArray[np.bool_]:
    """Which eligible pairs are among the ``keep`` heaviest of their group (ties: the
    other side's higher id first, the newer record, so every run chooses the same)."""
    chosen = np.zeros(len(groups), dtype=np.bool_)
    candidates = np.flatnonzero(eligible)
    if not len(candidates) or keep < 1:
        return chosen
    order = candidates[np.lexsort((-others[candidates], -weights[candidates], groups[candidates]))]
    ordered = groups[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]]
    first = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
    chosen[order[np.arange(len(order)) - first < keep]] = True
    return chosen


def best_per_person(
    found: NDArray[np.int64],
    reports: NDArray[np.int64],
    guesses: NDArray[np.float64],
    per_person: int,
    people: NDArray[np.int64],
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Which pairs (found position, report position, guess) are among each found
    person's ``per_person`` best guessed (ties: the earlier report), and, for each of
    ``people``, the weakest guess kept when some were left out (NaN when none was)."""
    if per_person < 1:
        raise ValueError(f"a found person keeps at least one report, got {per_person}")
    # The earlier report first on a tie: the later one counts as the lesser "other".
    kept = top_per_group(found, -reports, guesses, np.ones(len(found), dtype=np.bool_),
                         per_person)  # fmt: skip
    owners, sizes = np.unique(found, return_counts=True)
    over = kept & np.isin(found, owners[sizes > per_person])
    bounds = np.full(len(people), np.nan)
    if over.any():
        bounded, at = np.unique(found[over], return_inverse=True)
        weakest = np.full(len(bounded), np.inf)
        np.minimum.at(weakest, at, guesses[over])
        by_person = np.argsort(people, kind="stable")
        bounds[by_person[np.searchsorted(people, bounded, sorter=by_person)]] = weakest
    return kept, bounds
