"""Height: the report's height when lost against the height the station measured.

Children grow: a report made when a child of six was lost says 115 cm, and the same
person found at 30 is 170 cm. So a child's reported height is carried forward along a
growth curve (the child keeps their place among children of their age and sex) before
it is compared, with more uncertainty the more growing was left to do. Elderly people
shrink by about a centimetre a decade after sixty. The difference is measured in
standard deviations, so one set of levels serves all ages; separate strata keep
adults and grown children apart because chance agreement differs between them.

Growth curve: mean height by age and sex, 0-18 years, rounded from the national
growth reference for Chinese children (九省市儿童体格发育调查, 2005, and WHO growth
standards for the first years); adults are taken at 171 cm (men) and 159 cm (women).
"""

from __future__ import annotations

import math

from matching.evidence_model.facts import FoundFacts, MissingFacts
from matching.evidence_model.spec import LevelSpec, Outcome, StratumSpec
from records import Sex

GROWTH_MALE = (
    50, 76, 88, 97, 104, 111, 117, 124, 130, 135, 141, 146, 152, 160, 165, 168, 170, 171, 171,
)  # fmt: skip
GROWTH_FEMALE = (
    49, 75, 87, 96, 103, 110, 116, 122, 128, 134, 140, 146, 152, 156, 158, 159, 159, 159, 159,
)  # fmt: skip
ADULT_SD_CM = 4.5
"""Disagreement between a family's and a station's heights for an adult: reports are
often rounded to 5 cm, shoes and posture differ."""
GROWTH_SD_CM = 12.0
"""Extra spread a unit of growth fraction left to do (a child of five: about 8 cm)."""
UNKNOWN_AGE_SD_CM = 7.0
SHRINK_CM_A_YEAR = 0.1
SHRINK_FROM = 60.0


def mean_height(sex: Sex, age: float) -> float:
    """Mean height (cm) at an age, by sex (the average of both for unknown sex)."""
    if sex is Sex.UNKNOWN:
        return (mean_height(Sex.MALE, age) + mean_height(Sex.FEMALE, age)) / 2
    curve = GROWTH_MALE if sex is Sex.MALE else GROWTH_FEMALE
    if age >= len(curve) - 1:
        return float(curve[-1])
    if age <= 0:
        return float(curve[0])
    low = int(age)
    frac = age - low
    return curve[low] + frac * (curve[low + 1] - curve[low])


def expected_height(
    reported: float, sex: Sex, age_lost: float | None, age_found: float | None
) -> tuple[float, float, int]:
    """(expected height when found, its standard deviation, stratum) for a report height."""
    if age_lost is None or age_found is None:
        return reported, UNKNOWN_AGE_SD_CM, 2
    sd = ADULT_SD_CM
    expected = reported
    stratum = 0
    if age_lost < 18 and age_found > age_lost:
        then = mean_height(sex, age_lost)
        later = mean_height(sex, age_found)
        expected = reported * later / then
        left_to_grow = 1.0 - then / later
        sd = math.hypot(ADULT_SD_CM, GROWTH_SD_CM * left_to_grow)
        stratum = 1
    if age_found > SHRINK_FROM:
        expected -= SHRINK_CM_A_YEAR * (age_found - max(SHRINK_FROM, age_lost))
    return expected, sd, stratum


class HeightComparison:
    """Height carried forward for growth and age, compared in standard deviations."""

    name = "height"
    description = (
        "the report's height when lost, grown or shrunk to the found date, against the found height"  # noqa: E501
    )
    levels: tuple[LevelSpec, ...] = (
        LevelSpec("null", "a height is unknown"),
        LevelSpec("close", "within one standard deviation"),
        LevelSpec("near", "within two"),
        LevelSpec("off", "within three and a half"),
        LevelSpec("far", "further apart"),
    )
    strata: tuple[StratumSpec, ...] = (
        StratumSpec("adult", "an adult when lost"),
        StratumSpec("grew", "a child when lost: the height is carried along a growth curve"),
        StratumSpec("age_unknown", "age when lost or found unknown"),
    )

    def compare(self, missing: MissingFacts, found: FoundFacts) -> Outcome:
        """The level of the standardised difference."""
        reported, measured = missing.view.height_cm, found.view.height_cm
        if reported is None or measured is None:
            return Outcome(0, "a height is unknown")
        age_found = None
        if missing.view.birth_year is not None and found.view.found_date is not None:
            age_found = found.view.found_date.year - missing.view.birth_year + 0.5
        elif found.age_estimate is not None:
            age_found = found.age_estimate
        sex = missing.view.sex if missing.view.sex is not Sex.UNKNOWN else found.view.sex
        expected, sd, stratum = expected_height(reported, sex, missing.age_when_missing, age_found)
        z = abs(measured - expected) / sd
        age_lost = missing.age_when_missing

        def said() -> str:
            if stratum == 1:
                return (
                    f"{reported:.0f} cm when lost as a child of {age_lost:.0f}, about "
                    f"{expected:.0f} cm grown; measured {measured:.0f} cm"
                )
            return f"reported {reported:.0f} cm, measured {measured:.0f} cm"

        level = 1 if z <= 1 else 2 if z <= 2 else 3 if z <= 3.5 else 4
        return Outcome(level, said, stratum, measured - expected)
