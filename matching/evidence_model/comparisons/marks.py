"""Distinguishing marks: scars, moles, missing fingers... matched as phrases.

Marks are read into canonical traits (:mod:`matching.evidence_model.traits`), so 右臂有疤
and 右手臂有伤疤 agree. An agreeing rare mark (a missing finger on the left hand, a cleft
lip) is strong evidence; a common one (a scar somewhere) less so. A mark on one side
that the other does not mention is no evidence at all: stations miss marks, families
forget them. When both sides list marks and none agree, that is weak evidence against.
"""

from __future__ import annotations

from matching.evidence_model.facts import FoundFacts, MissingFacts
from matching.evidence_model.spec import ONE_STRATUM, LevelSpec, Outcome, StratumSpec
from matching.evidence_model.traits import (
    RARE_MARK_SHARE,
    mark_share,
    marks_agree,
    marks_partly_agree,
)


class MarksComparison:
    """Visible marks named on both sides, compared by meaning."""

    name = "marks"
    description = "distinguishing marks on the report against those the station noted"
    levels: tuple[LevelSpec, ...] = (
        LevelSpec("null", "no marks noted on one side"),
        LevelSpec("rare_agree", "a rare mark agrees (under 1% of people)"),
        LevelSpec("agree", "a mark agrees, kind and place"),
        LevelSpec("partial", "the same kind of mark, place unsaid or other side"),
        LevelSpec("disagree", "both note marks and none agree"),
    )
    strata: tuple[StratumSpec, ...] = ONE_STRATUM

    def compare(self, missing: MissingFacts, found: FoundFacts) -> Outcome:
        """The best agreement between the two sides' marks."""
        left, right = missing.marks, found.marks
        if not left or not right:
            return Outcome(0, "no marks noted on one side")
        agreeing = [a for a in left for b in right if marks_agree(a, b)]
        if agreeing:
            rarest = min(agreeing, key=mark_share)
            share = mark_share(rarest)
            level = 1 if share < RARE_MARK_SHARE else 2
            return Outcome(level, lambda: f"both note: {rarest.describe()}", value=share)
        partial = [(a, b) for a in left for b in right if marks_partly_agree(a, b)]
        if partial:
            a, b = min(partial)
            return Outcome(
                3, lambda: f"the report notes {a.describe()}, the station {b.describe()}"
            )

        def said() -> str:
            noted = ", ".join(m.describe() for m in sorted(left))
            seen = ", ".join(m.describe() for m in sorted(right))
            return f"the report notes {noted}; the station {seen}"

        return Outcome(4, said)
