"""The comparisons of per-record numbers over a block of pairs: sex, age, time, height
and place.

Each function repeats its comparison's arithmetic (``comparisons/*.py``) step for step
on arrays, in the same order, so the same IEEE operations give the same numbers; the
levels are the comparison's own, written as ``np.select`` over the same tests in the
same order (the first that holds wins). Unknown values are NaN or :data:`~.sides.NO_DAY`
and are masked before they could matter. Height takes a square root of a sum of squares
and place a few sines, which numpy may round differently from ``math``; the pairs whose
result went through such a step and lies within a rounding error of a level's edge are
handed back to the comparison.

A place's level depends on the two places only, so it is worked out once per distinct
pair of places in the block (:func:`~.interning.pair_classes`); its stratum depends on
the dates, so per pair.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from matching.evidence_model.columns.interning import pair_classes
from matching.evidence_model.columns.outcome_arrays import (
    OutcomeArrays,
    near_edges,
    no_frequency,
    recompare,
)
from matching.evidence_model.columns.pair_block import PairBlock
from matching.evidence_model.columns.sides import SEX_CODES
from matching.evidence_model.comparisons.age import (
    BASE_TOLERANCE,
    ELDERLY_FROM,
    ELDERLY_SLOPE,
    GAP_CAP,
    GAP_SLOPE,
    NARROW_RANGE,
    OFF_FACTOR,
    WITHIN_SLACK,
)
from matching.evidence_model.comparisons.height import (
    ADULT_SD_CM,
    GROWTH_FEMALE,
    GROWTH_MALE,
    GROWTH_SD_CM,
    SHRINK_CM_A_YEAR,
    SHRINK_FROM,
    UNKNOWN_AGE_SD_CM,
)
from matching.evidence_model.comparisons.place import (
    FAR_KM,
    NEAR_KM,
    REGION_KM,
    SAME_PLACE_KM,
    SOON_DAYS,
)
from matching.evidence_model.comparisons.timing import CHILD_UNDER, GAP_BOUNDS, SLACK_DAYS
from matching.evidence_model.spec import Comparison
from matching.places import EARTH_RADIUS_KM
from records import Sex

_UNKNOWN_SEX = SEX_CODES[Sex.UNKNOWN]
_MALE = SEX_CODES[Sex.MALE]
_FEMALE = SEX_CODES[Sex.FEMALE]

KM_GUARD = 1e-6
"""Kilometres within which a distance may sit from a band's edge and still be recomputed
by the comparison: numpy's and ``math``'s haversines differ by about 1e-12 km."""
Z_GUARD = 1e-9
"""Relative distance of a standardised height difference from a level's edge within
which it is recomputed (``math.hypot`` and ``np.hypot`` differ by an ulp at most)."""


def _levels(
    conditions: list[NDArray[np.bool_]], levels: list[int], default: int
) -> NDArray[np.int16]:
    """The level of the first condition that holds, ``default`` if none."""
    return np.select(conditions, levels, default).astype(np.int16)


def sex_outcomes(block: PairBlock) -> OutcomeArrays:
    """:class:`~..comparisons.sex.SexComparison` of every pair."""
    left, right = block.missing.sex[block.i], block.found.sex[block.j]
    unknown = (left == _UNKNOWN_SEX) | (right == _UNKNOWN_SEX)
    levels = _levels([unknown, left == right], [0, 1], 2)
    return OutcomeArrays(levels, block.zeros(), no_frequency(len(block)))


def age_outcomes(block: PairBlock) -> OutcomeArrays:
    """:class:`~..comparisons.age.AgeComparison` of every pair."""
    birth_year = block.missing.birth_year[block.i]
    found = block.found
    low, high = found.age_low[block.j], found.age_high[block.j]
    found_year = found.found_year[block.j]
    known = ~(np.isnan(birth_year) | np.isnan(low) | np.isnan(found_year))
    implied = found_year - birth_year
    years_missing = np.where(block.dates_known, block.days / 365.25, 0.0)
    outside = np.maximum(0.0, np.maximum(low - implied, implied - high))
    tolerance = (
        BASE_TOLERANCE
        + ELDERLY_SLOPE * np.maximum(0.0, implied - ELDERLY_FROM)
        + GAP_SLOPE * np.minimum(np.maximum(0.0, years_missing), GAP_CAP)
    )
    levels = _levels(
        [~known, implied < 0, outside <= WITHIN_SLACK, outside <= tolerance,
         outside <= OFF_FACTOR * tolerance],
        [0, 4, 1, 2, 3],
        4,
    )  # fmt: skip
    strata = np.where(known & (high - low <= NARROW_RANGE), 0, 1).astype(np.int16)
    return OutcomeArrays(levels, strata, no_frequency(len(block)))


def time_outcomes(block: PairBlock) -> OutcomeArrays:
    """:class:`~..comparisons.timing.TimeComparison` of every pair."""
    age = block.age_when_missing
    strata = np.where(np.isnan(age), 2, np.where(age < CHILD_UNDER, 0, 1)).astype(np.int16)
    days = block.days
    bounds = np.asarray([bound for bound, _ in GAP_BOUNDS], dtype=np.int64)
    # The level of the first bound the gap does not exceed; past the last, "very long" (6).
    after = np.asarray([level for _, level in GAP_BOUNDS] + [6], dtype=np.int16)
    later = after[np.searchsorted(bounds, days, side="left")]
    earlier = _levels([days < -SLACK_DAYS], [7], 2)
    levels = np.where(block.dates_known, np.where(days < 0, earlier, later), 0)
    return OutcomeArrays(levels.astype(np.int16), strata, no_frequency(len(block)))


def _curve(curve: tuple[int, ...], age: NDArray[np.float64]) -> NDArray[np.float64]:
    """:func:`~..comparisons.height.mean_height` along one sex's curve."""
    heights = np.asarray(curve, dtype=np.float64)
    last = len(curve) - 1
    at = np.where((age > 0) & (age < last), age, 0.0)
    low = at.astype(np.int64)  # int() of a positive age
    frac = at - low
    between = heights[low] + frac * (heights[low + 1] - heights[low])
    return np.where(age >= last, heights[-1], np.where(age <= 0, heights[0], between))


def _mean_heights(sex: NDArray[np.int8], age: NDArray[np.float64]) -> NDArray[np.float64]:
    male, female = _curve(GROWTH_MALE, age), _curve(GROWTH_FEMALE, age)
    return np.where(sex == _MALE, male, np.where(sex == _FEMALE, female, (male + female) / 2))


def height_outcomes(comparison: Comparison, block: PairBlock) -> OutcomeArrays:
    """:class:`~..comparisons.height.HeightComparison` of every pair."""
    missing, found = block.missing, block.found
    outcomes = OutcomeArrays(block.zeros(), block.zeros(), no_frequency(len(block)))
    rows = np.flatnonzero(~(np.isnan(missing.height[block.i]) | np.isnan(found.height[block.j])))
    m, f = block.i[rows], block.j[rows]  # only the pairs with both heights go further
    reported, measured = missing.height[m], found.height[f]
    birth_year, found_year = missing.birth_year[m], found.found_year[f]
    age_found = np.where(
        np.isnan(birth_year) | np.isnan(found_year), found.age_estimate[f],
        found_year - birth_year + 0.5,
    )  # fmt: skip
    age_lost = missing.age_when_missing[m]
    ages = ~(np.isnan(age_lost) | np.isnan(age_found))
    expected = reported.copy()
    sd = np.where(ages, ADULT_SD_CM, UNKNOWN_AGE_SD_CM)
    # Carried along the growth curve: children lost and found older.
    grew = ages & (age_lost < 18) & (age_found > age_lost)
    g = np.flatnonzero(grew)
    sex = np.where(missing.sex[m[g]] != _UNKNOWN_SEX, missing.sex[m[g]], found.sex[f[g]])
    then, later = _mean_heights(sex, age_lost[g]), _mean_heights(sex, age_found[g])
    expected[g] = reported[g] * later / then
    sd[g] = np.hypot(ADULT_SD_CM, GROWTH_SD_CM * (1.0 - then / later))
    # Shrunk with old age.
    s = np.flatnonzero(ages & (age_found > SHRINK_FROM))
    expected[s] = expected[s] - SHRINK_CM_A_YEAR * (
        age_found[s] - np.maximum(SHRINK_FROM, age_lost[s])
    )
    z = np.abs(measured - expected) / sd
    outcomes.levels[rows] = _levels([z <= 1, z <= 2, z <= 3.5], [1, 2, 3], 4)
    outcomes.strata[rows] = np.where(ages, np.where(grew, 1, 0), 2)
    # Only the growth curve's hypot may round otherwise than math's (the rest is + - * /,
    # and hypot(x, 0) is x in both): only its pairs near an edge are asked again.
    edges = np.asarray([1.0, 2.0, 3.5])
    hypot = g[then != later]
    recompare(
        comparison, block, rows[hypot[near_edges(z[hypot], edges, Z_GUARD * edges)]], outcomes
    )
    return outcomes


def _haversine_km(
    lat1: NDArray[np.float64], lon1: NDArray[np.float64],
    lat2: NDArray[np.float64], lon2: NDArray[np.float64],
) -> NDArray[np.float64]:  # fmt: skip
    """:func:`~matching.places.haversine_km`, step for step."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    km: NDArray[np.float64] = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return km


def place_outcomes(comparison: Comparison, block: PairBlock) -> OutcomeArrays:
    """:class:`~..comparisons.place.PlaceComparison` of every pair."""
    a, b = block.missing.place, block.found.place
    soon = block.dates_known & (block.days <= SOON_DAYS)
    strata = np.where(block.grew_up_away, 2, np.where(soon, 0, 1)).astype(np.int16)
    left, right, inverse = pair_classes(
        a.classes.codes[block.i], b.classes.codes[block.j], len(b.classes)
    )
    # Distinct pairs of places from here on; each is given to the pairs holding it.
    levels = np.zeros(len(left), dtype=np.int16)
    rows = np.flatnonzero(a.known[left] & b.known[right])
    m, f = left[rows], right[rows]
    km = _haversine_km(a.latitude[m], a.longitude[m], b.latitude[f], b.longitude[f])
    coarse = a.coarse[m] | b.coarse[f]
    same_city = a.city.codes[m] == a.city.aligned(b.city)[b.city.codes[f]]
    same_province = a.province.codes[m] == a.province.aligned(b.province)[b.province.codes[f]]
    levels[rows] = _levels(
        [coarse & same_province, coarse & (km <= FAR_KM), coarse,
         same_city | (km <= SAME_PLACE_KM), km <= NEAR_KM, km <= REGION_KM, km <= FAR_KM],
        [3, 4, 5, 1, 2, 3, 4],
        5,
    )  # fmt: skip
    edges = np.asarray([SAME_PLACE_KM, NEAR_KM, REGION_KM, FAR_KM])
    for row in rows[near_edges(km, edges, np.full(len(edges), KM_GUARD))].tolist():
        # The level hangs on the places only: any pair holding these two will do.
        first_a, first_b = int(a.classes.first[left[row]]), int(b.classes.first[right[row]])
        levels[row] = comparison.compare(
            block.missing.facts[first_a], block.found.facts[first_b]
        ).level
    return OutcomeArrays(levels[inverse], strata, no_frequency(len(block)))
