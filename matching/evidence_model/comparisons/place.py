"""Place: how far from where the person was last seen they were found.

Distances are great-circle kilometres between the places the gazetteer resolves
(:mod:`matching.places`). A place known only to its province cannot be "the same place"
or "near": it counts at most as the same region. How far people travel depends on how
long they were gone, so a pair found within a month has its own m and u, and so does a
child lost young and found grown up (:func:`~..facts.grew_up_away`): trafficked children
are mostly taken to other provinces.
"""

from __future__ import annotations

from matching.evidence_model.facts import GREW_UP_AWAY, FoundFacts, MissingFacts, grew_up_away
from matching.evidence_model.spec import LevelSpec, Outcome, StratumSpec
from matching.places import PlaceLevel, distance_km

SAME_PLACE_KM = 15.0
NEAR_KM = 100.0
REGION_KM = 400.0
FAR_KM = 1200.0
SOON_DAYS = 31


class PlaceComparison:
    """Distance from the last-seen place to the found place, in bands."""

    name = "place"
    description = "the distance from where the person was last seen to where they were found"
    levels: tuple[LevelSpec, ...] = (
        LevelSpec("null", "a place is unknown or names no place in the gazetteer"),
        LevelSpec("same_place", "the same city, or within 15 km"),
        LevelSpec("near", "within 100 km"),
        LevelSpec("region", "within 400 km, or the same province when only that is known"),
        LevelSpec("far", "within 1,200 km"),
        LevelSpec("very_far", "more than 1,200 km apart"),
    )
    strata: tuple[StratumSpec, ...] = (
        StratumSpec("soon", "found within a month of going missing"),
        StratumSpec("later", "found later, or the dates are unknown (but not grown up away)"),
        GREW_UP_AWAY,
    )

    def compare(self, missing: MissingFacts, found: FoundFacts) -> Outcome:
        """The distance band, in the stratum of how soon the person was found."""
        soon = (
            missing.missing_day is not None
            and found.found_day is not None
            and found.found_day - missing.missing_day <= SOON_DAYS
        )
        stratum = 2 if grew_up_away(missing, found) else 0 if soon else 1
        a, b = missing.place, found.place
        if a is None or b is None:
            return Outcome(0, "a place is unknown", stratum)
        km = distance_km(a, b)
        coarse = a.level is PlaceLevel.PROVINCE or b.level is PlaceLevel.PROVINCE

        def said() -> str:
            where = f"last seen in {a.full_name}, found in {b.full_name}"
            if level == 1:
                return f"{where}: the same place"
            if coarse and level == 3:
                return f"{where}: the same province"
            return f"{where}, about {km:,.0f} km apart"

        if not coarse and (a.city_code == b.city_code or km <= SAME_PLACE_KM):
            level = 1
        elif coarse:
            level = 3 if a.province == b.province else 4 if km <= FAR_KM else 5
        else:
            level = 2 if km <= NEAR_KM else 3 if km <= REGION_KM else 4 if km <= FAR_KM else 5
        return Outcome(level, said, stratum, km)
