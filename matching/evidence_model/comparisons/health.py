"""Health: conditions on the report against what the station observed.

Families name diagnoses (阿尔茨海默病, 精神分裂症), stations what they see (老年痴呆,
精神异常, 反应迟钝), so conditions are read into concepts and families
(:mod:`matching.evidence_model.traits`). Agreeing on a condition few people in care have
(聋哑, 癫痫) says much; on dementia, mental illness or intellectual disability, which
most people in care have, it says little. Conditions a station cannot see (diabetes,
high blood pressure) are ignored when judging disagreement.
"""

from __future__ import annotations

from matching.evidence_model.facts import FoundFacts, MissingFacts
from matching.evidence_model.spec import ONE_STRATUM, LevelSpec, Outcome, StratumSpec
from matching.evidence_model.traits import (
    CONDITION_WORDS,
    RARE_CONCEPTS,
    Condition,
    conditions_agree,
    conditions_related,
    observable,
)


def _words(conditions: frozenset[Condition]) -> str:
    return ", ".join(sorted(CONDITION_WORDS.get(c.concept, c.concept) for c in conditions))


class HealthComparison:
    """Health conditions compared by meaning."""

    name = "health"
    description = "health conditions on the report against those the station noted"
    levels: tuple[LevelSpec, ...] = (
        LevelSpec("null", "no condition noted on one side"),
        LevelSpec("rare_agree", "a rare condition agrees (deaf and mute, epilepsy...)"),
        LevelSpec("agree", "a condition agrees"),
        LevelSpec("related", "related conditions (mental illness and intellectual disability)"),
        LevelSpec("disagree", "both note conditions a station could see, and none relate"),
    )
    strata: tuple[StratumSpec, ...] = ONE_STRATUM

    def compare(self, missing: MissingFacts, found: FoundFacts) -> Outcome:
        """The best agreement between the two sides' conditions."""
        left, right = missing.conditions, found.conditions
        if not left or not right:
            return Outcome(0, "no condition noted on one side")
        agreeing = [a for a in left for b in right if conditions_agree(a, b)]
        if agreeing:
            rare = [a for a in agreeing if a.concept in RARE_CONCEPTS]
            first = min(rare or agreeing)
            return Outcome(1 if rare else 2, lambda: f"both note {_words(frozenset({first}))}")
        related = [(a, b) for a in left for b in right if conditions_related(a, b)]
        if related:
            a, b = min(related)
            return Outcome(
                3, lambda: f"the report notes {_words(frozenset({a}))}, the station "
                f"{_words(frozenset({b}))}",
            )  # fmt: skip
        seen_left, seen_right = observable(left), observable(right)
        if not seen_left or not seen_right:
            return Outcome(0, "only conditions a station could not see are noted")
        return Outcome(
            4, lambda: f"the report notes {_words(seen_left)}; the station {_words(seen_right)}"
        )
