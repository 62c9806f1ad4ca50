"""Age: the report's birth year against the station's estimated age when found.

Estimates are often off by years: NamUs's own showcase had 18-22 for a 16-year-old.
So the comparison measures how far the age implied by the birth year falls outside the
estimated range, against a tolerance that widens for the elderly (age is harder to
judge on a worn face) and for long separations (a birth year remembered for a child
lost decades ago, an adult's looks after years of hardship). Nothing is cut off: even
"far" is only evidence.
"""

from __future__ import annotations

from matching.evidence_model.facts import FoundFacts, MissingFacts
from matching.evidence_model.spec import LevelSpec, Outcome, StratumSpec

BASE_TOLERANCE = 2.0
"""Years an estimate may miss by for a young adult found soon after going missing."""
ELDERLY_FROM = 50.0
ELDERLY_SLOPE = 0.08
"""Extra years of tolerance a year of age over 50 (80 years old: 2.4 more)."""
GAP_SLOPE = 0.1
GAP_CAP = 30.0
"""Extra tolerance a year missing (up to 30 years: 3 more)."""
WITHIN_SLACK = 0.5
"""Half a year: birth years are years, ages are whole numbers."""
OFF_FACTOR = 2.5
"""Up to this many tolerances outside the range is "off"; beyond is "far"."""
NARROW_RANGE = 8
"""An estimate this wide or narrower is a confident one: agreeing with it says more."""


def age_tolerance(age: float, years_missing: float) -> float:
    """Years an estimate may reasonably be off for this age and time missing."""
    return (
        BASE_TOLERANCE
        + ELDERLY_SLOPE * max(0.0, age - ELDERLY_FROM)
        + GAP_SLOPE * min(max(0.0, years_missing), GAP_CAP)
    )


def years_outside(low: int, high: int, age: int) -> int:
    """How many years ``age`` lies outside the estimate ``low`` to ``high`` (0 inside)."""
    return max(0, low - age, age - high)


OLDEST_IMPLIED = 130
"""No implied age beyond this is considered (nobody is older)."""


def not_far_ages(low: int, high: int) -> tuple[int, int]:
    """The implied ages that :class:`AgeComparison` would not call far against an
    estimate of ``low`` to ``high``, however long the person was missing.

    Tolerance grows with the implied age (an old face is harder to judge) and with the
    years missing (at most :data:`GAP_CAP`), so the interval is not symmetric about the
    estimate: above it, it reaches further.
    """

    def not_far(age: int) -> bool:
        return years_outside(low, high, age) <= OFF_FACTOR * age_tolerance(float(age), GAP_CAP)

    youngest, oldest = low, high
    while youngest > 0 and not_far(youngest - 1):
        youngest -= 1
    while oldest < OLDEST_IMPLIED and not_far(oldest + 1):
        oldest += 1
    return youngest, oldest


class AgeComparison:
    """Birth year against the estimated age range, with tolerance for estimates."""

    name = "age"
    description = "the age the report's birth year gives at the found date, against the estimate"
    levels: tuple[LevelSpec, ...] = (
        LevelSpec("null", "no birth year, no age estimate or no found date"),
        LevelSpec("within", "inside the estimated range"),
        LevelSpec("near", "outside the range by less than the tolerance"),
        LevelSpec("off", "outside by up to 2.5 tolerances"),
        LevelSpec("far", "further outside"),
    )
    strata: tuple[StratumSpec, ...] = (
        StratumSpec("narrow", f"an estimated range of {NARROW_RANGE} years or less"),
        StratumSpec("wide", f"an estimated range wider than {NARROW_RANGE} years"),
    )

    def compare(self, missing: MissingFacts, found: FoundFacts) -> Outcome:
        """The level of the implied age against the estimated range."""
        view, other = missing.view, found.view
        low = other.age_min if other.age_min is not None else other.age_max
        high = other.age_max if other.age_max is not None else other.age_min
        if view.birth_year is None or low is None or high is None or other.found_date is None:
            return Outcome(0, "no birth year or no age estimate", 1)
        implied = other.found_date.year - view.birth_year
        years_missing = 0.0
        if missing.missing_day is not None and found.found_day is not None:
            years_missing = (found.found_day - missing.missing_day) / 365.25
        outside = float(years_outside(low, high, implied))
        tolerance = age_tolerance(float(implied), years_missing)
        birth_year = view.birth_year

        def said() -> str:
            estimate = f"{low}-{high}" if low != high else str(low)
            if implied < 0:
                return f"born {birth_year}, after the person was found ({birth_year + implied})"
            text = f"born {birth_year}, so about {implied} when found; estimated {estimate}"
            if outside > WITHIN_SLACK:
                text += f" ({outside:.0f} years outside; tolerance {tolerance:.0f})"
            return text

        if implied < 0:
            level = 4  # no estimate is that wrong: the report's person was not yet born
        elif outside <= WITHIN_SLACK:
            level = 1
        elif outside <= tolerance:
            level = 2
        elif outside <= OFF_FACTOR * tolerance:
            level = 3
        else:
            level = 4
        return Outcome(level, said, 0 if high - low <= NARROW_RANGE else 1, outside)
