"""Searching reports by a name as heard, with the speaker's accent, sex and birth year.

The name index finds the reports whose names match at the 小名/partial level or better
(and, for a query that can only be a surname, such as 张 or 王某, that surname's
namesakes); the hits are then ranked by how much the name agreement says (its level, and how rare
the shared name is), and by what else the officer knows: sex, an estimated birth year,
and the accent heard against the report's hometown. Those also decide which of many
equally named reports the index compares first (a 小名 such as 阿明 fits thousands).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz
from sqlalchemy import select

from matching.attribute_table import AttributeTable
from matching.names import (
    NameComparison,
    NameIndex,
    NameLevel,
    compare_names,
    fold_name,
    parse_nickname,
    regions_from_text,
    regions_from_texts,
    split_name,
    surname_keys,
)
from matching.names.nicknames import NicknameKind, nickname_sex
from matching.names.normalise import is_han
from matching.names.readings import is_known_surname
from matching.names.surnames import known_surnames
from matching.names.syllables import is_syllable
from records import Database, MissingReport, Sex
from records.storage.person_records import OPEN_MISSING

# log2-like weights of each level for ranking search hits; the evidence model owns the
# calibrated ones, these only order a list.
LEVEL_WEIGHTS = {
    NameLevel.EXACT: 10.0,
    NameLevel.SAME_SOUND: 9.0,
    NameLevel.DIALECT_SPEAKER: 8.0,
    NameLevel.DIALECT_OTHER: 6.5,
    NameLevel.NEAR_SOUND: 5.5,
    NameLevel.NICKNAME_OR_PARTIAL: 4.0,
    NameLevel.SURNAME_ONLY: 1.0,
    NameLevel.DIFFERENT: -3.0,
    NameLevel.NULL: 0.0,
}
# Two or more characters of a name kept in order (王家 / 王家子): a character lost is
# about as common a slip as a homophone, so it weighs as a name that sounds the same.
KEPT_IN_ORDER_WEIGHT = 9.0
# The other way round (the station wrote 张娟明, the family 张娟): a character heard that
# the family never wrote is a rarer slip than one lost, below a dialect reading (张娟民).
# At 100,000 reports with sex and birth year this raised recall@10 by 0.7 points
# (dialect, exact and homophone queries whose report lost to a shorter namesake).
EXTRA_CHARACTER_WEIGHT = 6.0
# A lone character that is the whole given name (梅 / 李梅).
LONE_CHARACTER_WEIGHT = 5.0

_HEADROOM = 1000
"""Index hits ranked per search. Sex, birth year and a 小名's shape reorder hits across
name levels, so the best ten can lie deep in the index's order; past a thousand hits,
recall@10 at 100,000 reports grew by a tenth of a point while searches took twice as long."""


@dataclass(frozen=True)
class ReportEntry:
    """What name search keeps of a report."""

    ref: str
    names: tuple[str, ...]
    sex: Sex
    birth_year: int | None
    regions: frozenset[str] = frozenset()
    """Provinces the person is from (hometown, dialect, where last seen); may be empty."""


def report_regions(*texts: str | None) -> frozenset[str]:
    """The provinces a report's hometown, dialect and last-seen place point to."""
    return regions_from_texts(*texts)


@dataclass(frozen=True)
class NameSearchHit:
    """A report, how its names compare with the query, and its ranking weight."""

    ref: str
    name: str | None
    level: str
    reason: str
    weight: float
    sex: str
    birth_year: int | None


def _is_subsequence(short: str, long: str) -> bool:
    remaining = iter(long)
    return all(char in remaining for char in short)


def _lone_surname(folded: str) -> bool:
    """A lone character that is a known surname (张, not 伟), or one pinyin syllable."""
    if len(folded) == 1:
        return is_han(folded) and is_known_surname(folded)
    return folded.isascii() and is_syllable(folded)


def _level_weight(comparison: NameComparison, query: str) -> float:
    """The level's weight, refined where one level holds evidence of unequal strength;
    ``query`` is the name as the station wrote it (the comparison's left side)."""
    weight = LEVEL_WEIGHTS[comparison.level]
    asked = fold_name(query)
    shorter, longer = sorted((asked, fold_name(comparison.right or "")), key=len)
    if comparison.level is NameLevel.SURNAME_ONLY and _lone_surname(asked):
        # A lone character taken for the surname (张 / 张鑫) is a partial name: the given
        # name was lost, as it is for a 小名's core. (Surname-only between two full names
        # is a disagreement of given names and weighs less.)
        return LEVEL_WEIGHTS[NameLevel.NICKNAME_OR_PARTIAL]
    if comparison.level is not NameLevel.NICKNAME_OR_PARTIAL or not shorter:
        return weight
    if len(shorter) >= 2:
        # Two or more characters kept in order (刘建 / 刘建华, 建华 / 刘建华) say much more
        # than a one-character 小名 core (阿华 / 刘建华).
        if _is_subsequence(shorter, longer) and not parse_nickname(shorter):
            weight = KEPT_IN_ORDER_WEIGHT if shorter == asked else EXTRA_CHARACTER_WEIGHT
    elif any(split.given == shorter for split in split_name(longer)):
        # A lone 梅 is more likely the whole given name (李梅) than a part of one (李春梅).
        weight = LONE_CHARACTER_WEIGHT
    return weight


def _is_nickname(folded: str) -> bool:
    """Whether a folded name reads as a 小名 only: 张宝 or 陈仔 may as well be a surname
    and a given name, and Latin letters (jj) are no 小名."""
    if len(folded) < 2 or not all(is_han(char) for char in folded):
        return False
    nickname = parse_nickname(folded)
    if nickname is None:
        return False
    return nickname.kind is not NicknameKind.SUFFIXED or folded[0] not in known_surnames()


# A 小名 against a 小名 the family listed: the same one, or one of the same core or rank.
_NICKNAME_ON_NICKNAME = {
    NameLevel.EXACT: 9.0,
    NameLevel.SAME_SOUND: 8.0,
    NameLevel.DIALECT_SPEAKER: 7.0,
    NameLevel.DIALECT_OTHER: 6.0,
    NameLevel.NEAR_SOUND: 5.5,
    NameLevel.NICKNAME_OR_PARTIAL: 5.0,
}

# A 小名 against a registered name that reads the same (小芳 / 肖芳).
_SOUNDS_LIKE_REGISTERED = {
    NameLevel.EXACT: 7.0,
    NameLevel.SAME_SOUND: 6.5,
    NameLevel.DIALECT_SPEAKER: 6.0,
    NameLevel.DIALECT_OTHER: 5.0,
    NameLevel.NEAR_SOUND: 4.5,
}


def _nickname_query_weight(comparison: NameComparison, entry: ReportEntry) -> float | None:
    """The weight of a hit for a 小名 the station wrote, or None if the query is not one.

    Ranks by how likely the person would give this 小名 if the report is theirs: most
    when the family listed the same 小名; less when the given name ends in its core
    (小明 from 建明, the usual pattern) or the family listed a 小名 of the same core or
    birth rank (阿明 for 小明); less still when the core sits elsewhere in the given
    name, or when the family listed only other 小名 (the person would more likely have
    said one of those). It does not depend on the order of the report's names.
    """
    query = fold_name(comparison.left or "")
    if not _is_nickname(query):
        return None
    level = comparison.level
    if level < NameLevel.NICKNAME_OR_PARTIAL:
        if _is_nickname(fold_name(comparison.right or "")):
            return _NICKNAME_ON_NICKNAME.get(level)
        # 小芳 / 肖芳: a registered name read as a 小名 is possible, not the usual way.
        return _SOUNDS_LIKE_REGISTERED.get(level)
    if level is not NameLevel.NICKNAME_OR_PARTIAL:
        return None
    names = [fold_name(name) for name in entry.names]
    listed = [name for name in names if _is_nickname(name)]
    compatible = any(compare_names([query], [name]).level in _COMPATIBLE_LEVELS for name in listed)
    weight = 5.0 if compatible else 3.5
    nickname = parse_nickname(query)
    core = nickname.core if nickname else None
    if core is not None:
        givens = [split.given for name in names if name not in listed
                  for split in split_name(name) if split.given]  # fmt: skip
        if any(given.endswith(core) for given in givens):
            weight = 6.0
    if listed and not compatible:
        weight -= 2.0
    return weight


NICKNAME_SEX_AGREES = 0.5
NICKNAME_SEX_DIFFERS = -4.0
"""What a 小名 that says whose it is (三妹, 招娣 a girl's; 狗蛋, 明哥 a boy's) adds when the
report's sex agrees, and takes when it does not: a 三丫 is not a son, whatever the name."""


def _nickname_sex_weight(query: str, entry: ReportEntry) -> float:
    said = nickname_sex(query)
    if said is None or entry.sex is Sex.UNKNOWN:
        return 0.0
    return NICKNAME_SEX_AGREES if entry.sex.value == said else NICKNAME_SEX_DIFFERS


_COMPATIBLE_LEVELS = frozenset(NameLevel) - {
    NameLevel.NULL,
    NameLevel.SURNAME_ONLY,
    NameLevel.DIFFERENT,
}


def rank_weight(
    comparison: NameComparison,
    query: str,
    entry: ReportEntry,
    *,
    name_count: int = 1,
    attributes: float = 0.0,
) -> float:
    """How strongly a hit fits: its name level, rarity, then what else is known.

    ``name_count`` is how many reports carry the report's matched name as written;
    ``attributes`` what sex, birth year and region say (:class:`AttributeTable`).
    """
    nickname_weight = _nickname_query_weight(comparison, entry)
    if nickname_weight is None:
        weight = _level_weight(comparison, query)
    else:
        weight = nickname_weight + _nickname_sex_weight(fold_name(comparison.left or ""), entry)
    if comparison.surname_share:
        # A shared 王 (7%) says less than a shared 覃: up to a bit and a half more.
        weight += min(1.5, max(0.0, -math.log10(comparison.surname_share) - 1.0))
    if comparison.given_rarity:
        weight += min(1.5, comparison.given_rarity / 10.0)
    if comparison.right is not None:
        # Between equals, names that also look alike on paper come first.
        weight += fuzz.ratio(fold_name(query), fold_name(comparison.right)) / 100.0
    if (
        name_count > 1
        and comparison.level < NameLevel.NICKNAME_OR_PARTIAL
        and _is_nickname(fold_name(comparison.right or ""))
    ):
        # A 小名 many reports carry (美美, 小宝, 老三) picks out fewer people: half a bit
        # less for every doubling, as term-frequency adjustments do. (Registered names'
        # rarity is already counted by surname share and given-name rarity.)
        weight -= min(3.0, 0.5 * math.log2(name_count))
    return weight + attributes


class NameSearcher:
    """A name index over reports, with the ranking officers see."""

    def __init__(self, entries: Iterable[ReportEntry]) -> None:
        self._entries: dict[str, ReportEntry] = {}
        self._attributes = AttributeTable()
        self._index: NameIndex[str] = NameIndex()
        for entry in entries:
            self.add(entry)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def index(self) -> NameIndex[str]:
        """The name index underneath (to measure or query it on its own)."""
        return self._index

    @classmethod
    def from_database(cls, database: Database) -> NameSearcher:
        """Index every open report in the store."""
        query = select(
            MissingReport.ref,
            MissingReport.name,
            MissingReport.aliases,
            MissingReport.sex,
            MissingReport.birth_year,
            MissingReport.birth_date,
            MissingReport.hometown,
            MissingReport.dialect,
            MissingReport.missing_place,
        ).where(MissingReport.status.in_(OPEN_MISSING))  # a closed case is not searched
        with database.session() as session:
            rows = session.execute(query).all()
        return cls(
            ReportEntry(
                ref,
                tuple(n for n in (name, *aliases) if n),
                sex,
                year or (birth_date.year if birth_date else None),
                report_regions(hometown, dialect, place),
            )
            for ref, name, aliases, sex, year, birth_date, hometown, dialect, place in rows
        )

    def add(self, entry: ReportEntry) -> None:
        """Index a report (again, if its names changed)."""
        self._attributes.set(entry.ref, entry.sex, entry.birth_year, entry.regions)
        if entry.ref in self._entries:
            self._index.remove(entry.ref)
        self._entries[entry.ref] = entry
        self._index.add(entry.ref, entry.names)

    def search(
        self,
        name: str | Sequence[str],
        *,
        accent: str | None = None,
        sex: Sex = Sex.UNKNOWN,
        birth_year: int | None = None,
        k: int = 10,
    ) -> list[NameSearchHit]:
        """The ``k`` best reports for a name as heard (or several: a name and its 小名);
        ``accent`` is what was heard, e.g. "四川口音"."""
        names = [name] if isinstance(name, str) else [n for n in name if n]
        if not any(n.strip() for n in names):
            raise ValueError("a name to search for is required")
        regions = regions_from_text(accent) if accent else frozenset()
        known = sex is not Sex.UNKNOWN or birth_year is not None or bool(regions)

        def prior(refs: Sequence[str]) -> npt.NDArray[np.float64]:
            return self._attributes.weights(refs, sex=sex, birth_year=birth_year,
                                            regions=regions)  # fmt: skip

        # A query that can only be a surname (张, 王某) wants that surname's namesakes,
        # after any better match: the sex, birth year and accent rank them.
        deepest = NameLevel.SURNAME_ONLY if surname_keys(names) else NameLevel.NICKNAME_OR_PARTIAL
        # Headroom for re-ranking beyond the name level: a thousand hits whatever ``k``,
        # so that asking for ten gives the first ten of asking for fifty.
        hits = self._index.query(
            names, regions=regions, limit=max(_HEADROOM, 20 * k), max_level=deepest,
            prior=prior if known else None,
        )  # fmt: skip
        attributes = prior([hit.record_id for hit in hits]).tolist() if known else [0.0] * len(hits)
        counts: dict[str, int] = {}  # names many hits share (小名) are counted once
        ranked = []
        for hit, extra in zip(hits, attributes, strict=True):
            entry = self._entries[hit.record_id]
            query = hit.comparison.left or names[0]
            right = hit.comparison.right
            for written in (right, query):
                if written and written not in counts:
                    counts[written] = self._index.name_count(written)
            # A name that only sounds like the query is at least as common as the query:
            # 小民 heard for 小明 picks out no fewer people than 小明 written.
            count = max(counts[right], counts[query]) if right else 1
            weight = rank_weight(
                hit.comparison, query, entry, name_count=count, attributes=extra,
            )  # fmt: skip
            ranked.append((weight, entry, hit.comparison))
        ranked.sort(key=lambda item: (-item[0], item[1].ref))
        return [
            NameSearchHit(
                ref=entry.ref,
                name=entry.names[0] if entry.names else None,
                level=comparison.level.name.lower(),
                reason=comparison.reason,
                weight=round(weight, 3),
                sex=entry.sex.value,
                birth_year=entry.birth_year,
            )
            for weight, entry, comparison in ranked[:k]
        ]
