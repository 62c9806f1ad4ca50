"""Names: every stated name, alias and 小名 on both sides, heard in the speakers' dialects.

The comparison is the names package's :func:`~matching.names.compare_names`; its levels
are :class:`~matching.names.NameLevel` in order. The speaker regions are everything
either side says about where the person is from: the found person's accent and stated
hometown, the report's hometown and dialect (a Sichuan speaker's 刘 written 牛 is then
the speaker's own dialect).

How common the agreeing name is matters: a shared 王伟 says less than a shared 覃振宇.
The comparison reports the agreeing name's frequency (surname share times the given
name's rarity, ``2 ** -bits``), and the model adjusts the u of the agreeing levels by
it (term-frequency adjustment, as splink does).
"""

from __future__ import annotations

from matching.evidence_model.facts import FoundFacts, MissingFacts
from matching.evidence_model.spec import ONE_STRATUM, LevelSpec, Outcome, StratumSpec
from matching.names import NameComparison, NameLevel, compare_names

_DESCRIPTIONS = {
    NameLevel.NULL: "no usable name on one side",
    NameLevel.EXACT: "the same name after folding",
    NameLevel.SAME_SOUND: "the same toneless pinyin",
    NameLevel.DIALECT_SPEAKER: "alike under a dialect rule of the speaker's region",
    NameLevel.DIALECT_OTHER: "alike under a dialect rule of another region",
    NameLevel.NEAR_SOUND: "near-sounds of mishearing, or a syllable off by a letter",
    NameLevel.NICKNAME_OR_PARTIAL: "a compatible 小名 or part of the name",
    NameLevel.SURNAME_ONLY: "surnames agree, given names do not",
    NameLevel.DIFFERENT: "the names disagree",
}
_TF_LEVELS = frozenset(
    {
        NameLevel.EXACT,
        NameLevel.SAME_SOUND,
        NameLevel.DIALECT_SPEAKER,
        NameLevel.DIALECT_OTHER,
        NameLevel.NEAR_SOUND,
        NameLevel.NICKNAME_OR_PARTIAL,
        NameLevel.SURNAME_ONLY,
    }
)


def name_frequency(result: NameComparison) -> float | None:
    """The share of people expected to bear the agreeing name (None if nothing agrees)."""
    if result.surname_share is None and result.given_rarity is None:
        return None
    share = result.surname_share if result.surname_share is not None else 1.0
    if result.given_rarity is not None:
        share *= 2.0**-result.given_rarity
    return share


def name_term_frequency(result: NameComparison) -> float | None:
    """The frequency the model adjusts u by: the agreeing name's at the levels that are
    agreements, None at NULL and DIFFERENT."""
    return name_frequency(result) if result.level in _TF_LEVELS else None


class NamesComparison:
    """Names compared with dialect awareness; levels are NameLevel's."""

    name = "name"
    description = "names, aliases and 小名 on both sides, heard in the speakers' dialects"
    levels: tuple[LevelSpec, ...] = tuple(
        LevelSpec(level.name.lower(), _DESCRIPTIONS[level], level in _TF_LEVELS)
        for level in NameLevel
    )
    strata: tuple[StratumSpec, ...] = ONE_STRATUM

    def compare(self, missing: MissingFacts, found: FoundFacts) -> Outcome:
        """The names package's level, with the agreeing name's frequency."""
        regions = missing.speaker_regions | found.speaker_regions
        result = compare_names(missing.view.names, found.view.names, speaker_regions=regions)
        frequency = name_frequency(result)
        return Outcome(
            int(result.level),
            result.reason,
            value=frequency,
            term_frequency=name_term_frequency(result),
        )
