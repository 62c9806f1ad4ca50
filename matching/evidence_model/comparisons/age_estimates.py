"""Age of two stays: a station's estimate against another station's estimate.

The report x found comparison (:mod:`.age`) takes the report's birth year as known and
asks how far the age it implies at the found date falls outside the station's range. Two
found persons have no birth year, only two estimates made at two dates ("30-35" in 2015,
"38-45" in 2023). A birth year derived from the first estimate is itself a range, and
judging it as a precise year would call a pair "off" that two honest estimates allow.

So this comparison turns each estimate into the birth years it allows (found year less
the oldest age, to found year less the youngest) and measures the years between the two
ranges: 0 when they overlap. The levels and strata are :class:`~.age.AgeComparison`'s,
with the same names, so the same m and u weigh them:

- within: the birth-year ranges overlap;
- near / off / far: the ranges are apart by up to one tolerance, 2.5 tolerances, more;
  the tolerance is :func:`~.age.age_tolerance` at the later stay's age and the years
  between the stays, times :data:`TWO_ESTIMATES` (two independent estimates may each
  be off, and their errors add in quadrature);
- the stratum is "narrow" only when the two ranges together span at most
  :data:`~.age.NARROW_RANGE` years: the chance that two random people's ranges overlap
  grows with both widths, exactly as a birth year falls inside a wider range more often.

The comparison reads the earlier stay from the report side of the pair, which must be an
:class:`EstimatedAgeView` (``matching.found_pairs`` makes one); a plain report is weighed
by :class:`~.age.AgeComparison` unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Final

from matching.evidence_model.comparisons.age import (
    NARROW_RANGE,
    OFF_FACTOR,
    WITHIN_SLACK,
    AgeComparison,
    age_tolerance,
)
from matching.evidence_model.facts import FoundFacts, MissingFacts
from matching.evidence_model.spec import LevelSpec, Outcome, StratumSpec
from matching.views import MissingView

TWO_ESTIMATES: Final = math.sqrt(2.0)
"""How much wider the tolerance is when both ages are estimates rather than one."""


@dataclass(frozen=True, kw_only=True)
class EstimatedAgeView(MissingView):
    """A report-like view whose age is a station's estimate, not a birth year.

    ``birth_year`` holds the middle of the birth years the estimate allows (for the
    comparisons that need one year: face ages, height growth, the time comparison's age
    stratum); ``age_min`` and ``age_max`` are the estimate itself, made on
    ``missing_date`` (the earlier stay's found date).
    """

    age_min: int | None = None
    age_max: int | None = None


def estimate_range(age_min: int | None, age_max: int | None) -> tuple[int, int] | None:
    """An estimate as (youngest, oldest); one end alone is taken as the age."""
    low = age_min if age_min is not None else age_max
    high = age_max if age_max is not None else age_min
    if low is None or high is None:
        return None
    return (low, high) if low <= high else (high, low)


def birth_years(ages: tuple[int, int], on: date) -> tuple[int, int]:
    """The birth years an estimate made on ``on`` allows, earliest first."""
    return on.year - ages[1], on.year - ages[0]


def years_apart(a: tuple[int, int], b: tuple[int, int]) -> int:
    """Years between two ranges of years (0 when they overlap)."""
    return max(0, a[0] - b[1], b[0] - a[1])


class EstimatedAgeComparison:
    """Two estimated ages as birth-year ranges: overlapping, near, off or far apart."""

    name = AgeComparison.name
    description = (
        "the birth years two stations' age estimates allow, against each other "
        "(a report's birth year against an estimate otherwise)"
    )
    levels: tuple[LevelSpec, ...] = (
        LevelSpec("null", "an age estimate or a found date is unknown"),
        LevelSpec("within", "the birth years the two estimates allow overlap"),
        LevelSpec("near", "apart by less than the tolerance for two estimates"),
        LevelSpec("off", "apart by up to 2.5 tolerances"),
        LevelSpec("far", "further apart"),
    )
    strata: tuple[StratumSpec, ...] = (
        StratumSpec("narrow", f"the two estimates together span {NARROW_RANGE} years or less"),
        StratumSpec("wide", f"the two estimates together span more than {NARROW_RANGE} years"),
    )

    def __init__(self) -> None:
        self._report = AgeComparison()

    def compare(self, missing: MissingFacts, found: FoundFacts) -> Outcome:
        """The years between the two estimates' birth years, against the tolerance."""
        earlier = missing.view
        if not isinstance(earlier, EstimatedAgeView):
            return self._report.compare(missing, found)
        later = found.view
        ages_a = estimate_range(earlier.age_min, earlier.age_max)
        ages_b = estimate_range(later.age_min, later.age_max)
        on_a, on_b = earlier.missing_date, later.found_date
        if ages_a is None or ages_b is None or on_a is None or on_b is None:
            return Outcome(0, "no age estimate or no found date on one side", 1)
        born_a, born_b = birth_years(ages_a, on_a), birth_years(ages_b, on_b)
        apart = float(years_apart(born_a, born_b))
        between = max(0.0, (on_b.toordinal() - on_a.toordinal()) / 365.25)
        age_later = on_b.year - (born_a[0] + born_a[1]) / 2
        tolerance = TWO_ESTIMATES * age_tolerance(max(0.0, age_later), between)
        span = (ages_a[1] - ages_a[0]) + (ages_b[1] - ages_b[0])

        def said() -> str:
            def one(ages: tuple[int, int], on: date, born: tuple[int, int]) -> str:
                estimate = f"{ages[0]}-{ages[1]}" if ages[0] != ages[1] else str(ages[0])
                years = f"{born[0]}-{born[1]}" if born[0] != born[1] else str(born[0])
                return f"estimated {estimate} in {on.year} (born {years})"

            text = f"{one(ages_a, on_a, born_a)}; {one(ages_b, on_b, born_b)}"
            if apart > WITHIN_SLACK:
                return (
                    f"{text}: the birth years are {apart:.0f} years apart "
                    f"(tolerance for two estimates {tolerance:.0f})"
                )
            return f"{text}: the birth years overlap"

        if apart <= WITHIN_SLACK:
            level = 1
        elif apart <= tolerance:
            level = 2
        elif apart <= OFF_FACTOR * tolerance:
            level = 3
        else:
            level = 4
        return Outcome(level, said, 0 if span <= NARROW_RANGE else 1, apart)
