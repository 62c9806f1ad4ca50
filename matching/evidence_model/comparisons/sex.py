"""Sex: the same, different, or unknown on a side (no evidence)."""

from __future__ import annotations

from matching.evidence_model.facts import FoundFacts, MissingFacts
from matching.evidence_model.spec import ONE_STRATUM, LevelSpec, Outcome, StratumSpec
from records import Sex

_WORDS = {Sex.MALE: "male", Sex.FEMALE: "female"}


class SexComparison:
    """Recorded sexes: a disagreement is strong evidence, since it is rarely misrecorded."""

    name = "sex"
    description = "the sex on the report against the sex the station recorded"
    levels: tuple[LevelSpec, ...] = (
        LevelSpec("null", "sex unknown on one side"),
        LevelSpec("same", "the same sex"),
        LevelSpec("different", "different sexes"),
    )
    strata: tuple[StratumSpec, ...] = ONE_STRATUM

    def compare(self, missing: MissingFacts, found: FoundFacts) -> Outcome:
        """Same or different; unknown is null."""
        left, right = missing.view.sex, found.view.sex
        if Sex.UNKNOWN in (left, right):
            return Outcome(0, "sex unknown on one side")
        if left == right:
            return Outcome(1, f"both {_WORDS[left]}")
        return Outcome(2, lambda: f"the report says {_WORDS[left]}, the station {_WORDS[right]}")
