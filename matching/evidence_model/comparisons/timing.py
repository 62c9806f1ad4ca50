"""Time: the found date against the date the person went missing.

Records are filed late and dates misremembered, so a found date a few days before the
reported missing date is still consistent (NamUs's showcase: found three days before
the last contact); only a found date well before it counts against a pair, and never as
a hard cut. How long people stay missing depends on who they are: an elderly person
with dementia is usually found within days, a child may be found decades later. So the
levels carry separate m and u for a child when lost, an adult, and an unknown age.
"""

from __future__ import annotations

from matching.evidence_model.facts import FoundFacts, MissingFacts
from matching.evidence_model.spec import LevelSpec, Outcome, StratumSpec

SLACK_DAYS = 30
"""Days a found date may precede the missing date and still be read as filing delay."""
CHILD_UNDER = 14.0

GAP_BOUNDS = ((30, 1), (365, 3), (5 * 365, 4), (15 * 365, 5))
"""(upper bound in days, level) of the gaps after going missing."""


def _span(days: int) -> str:
    if abs(days) < 60:
        return f"{abs(days)} days"
    if abs(days) < 730:
        return f"{abs(days) / 30.44:.0f} months"
    return f"{abs(days) / 365.25:.0f} years"


class TimeComparison:
    """Days from going missing to being found, with slack for late or wrong dates."""

    name = "time"
    description = "the found date against the missing date"
    levels: tuple[LevelSpec, ...] = (
        LevelSpec("null", "a date is unknown"),
        LevelSpec("days", "found within 30 days of going missing"),
        LevelSpec("before_slack", "found up to 30 days before the reported missing date"),
        LevelSpec("months", "found 1-12 months later"),
        LevelSpec("years", "found 1-5 years later"),
        LevelSpec("long", "found 5-15 years later"),
        LevelSpec("very_long", "found more than 15 years later"),
        LevelSpec("before", "found more than 30 days before the reported missing date"),
    )
    strata: tuple[StratumSpec, ...] = (
        StratumSpec("child", "a child (under 14) when lost"),
        StratumSpec("adult", "14 or older when lost"),
        StratumSpec("unknown_age", "age when lost unknown"),
    )

    def compare(self, missing: MissingFacts, found: FoundFacts) -> Outcome:
        """The level of the gap between the dates, in the stratum of the age when lost."""
        age = missing.age_when_missing
        stratum = 2 if age is None else 0 if age < CHILD_UNDER else 1
        if missing.missing_day is None or found.found_day is None:
            return Outcome(0, "a date is unknown", stratum)
        days = found.found_day - missing.missing_day
        value = float(days)
        if days < -SLACK_DAYS:
            return Outcome(
                7, lambda: f"found {_span(days)} before the reported missing date", stratum, value
            )
        if days < 0:
            return Outcome(
                2,
                lambda: (
                    f"found {-days} days before the reported missing date: records are "
                    "often filed late, so still consistent"
                ),
                stratum,
                value,
            )
        level = next((level for bound, level in GAP_BOUNDS if days <= bound), 6)
        return Outcome(level, lambda: f"found {_span(days)} after going missing", stratum, value)
