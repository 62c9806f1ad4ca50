"""Comparisons of sex and age between a report and a found person.

Missing values are no evidence, never a disagreement; ages are estimates, so an age
just outside the estimated range is still consistent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from records import Sex


class SexLevel(StrEnum):
    """How the recorded sexes compare."""

    NULL = "null"
    SAME = "same"
    DIFFERENT = "different"


def compare_sex(left: Sex, right: Sex) -> SexLevel:
    """Same or different; unknown on either side is no evidence."""
    if Sex.UNKNOWN in (left, right):
        return SexLevel.NULL
    return SexLevel.SAME if left is right else SexLevel.DIFFERENT


class AgeLevel(StrEnum):
    """How far the report's age at the found date is from the station's estimate."""

    NULL = "null"
    WITHIN = "within"
    NEAR = "near"
    OFF = "off"
    FAR = "far"


@dataclass(frozen=True)
class AgeComparison:
    """The level, the age implied by the report, and the years outside the estimate."""

    level: AgeLevel
    implied_age: int | None
    gap_years: int | None


def compare_age(
    birth_year: int | None,
    age_min: int | None,
    age_max: int | None,
    found_date: date | None,
    *,
    today: date | None = None,
) -> AgeComparison:
    """The report's age at the found date against the found person's estimated range."""
    if birth_year is None or (age_min is None and age_max is None):
        return AgeComparison(AgeLevel.NULL, None, None)
    when = found_date or today or date.today()
    implied = when.year - birth_year
    low = age_min if age_min is not None else age_max
    high = age_max if age_max is not None else age_min
    assert low is not None and high is not None
    gap = max(0, low - implied, implied - high)
    if gap == 0:
        level = AgeLevel.WITHIN
    elif gap <= 3:
        level = AgeLevel.NEAR
    elif gap <= 8:
        level = AgeLevel.OFF
    else:
        level = AgeLevel.FAR
    return AgeComparison(level, implied, gap)
