"""Hometown: the family's hometown and dialect against the accent heard and what the
person said of home.

A station notes an accent ("四川口音", "西南口音", "南方口音") and whatever the person
says of home ("绵阳", "四川", "大山里"). Each text is read into provinces
(``regions_from_text``) and sorted by how precise it is (see
:class:`~matching.evidence_model.facts.HomeFacts`): a stated city that is the report's
city is strong, a precise province agreeing is good, an accent only placing the person
in the same dialect area (:mod:`~matching.evidence_model.dialect_areas`) is weaker, a
broad hint ("南方口音") overlapping is weak. A disagreement is only moderate evidence:
accents are misjudged. A child lost young and found grown up
(:func:`~..facts.grew_up_away`) speaks like the place they grew up, so for them the
levels have their own m and u: an accent from elsewhere says almost nothing.
"""

from __future__ import annotations

from matching.evidence_model.facts import (
    GREW_UP_AWAY,
    FoundFacts,
    HomeFacts,
    MissingFacts,
    grew_up_away,
)
from matching.evidence_model.spec import LevelSpec, Outcome, StratumSpec


def _names(provinces: frozenset[str], limit: int = 3) -> str:
    ordered = sorted(provinces)
    return "/".join(ordered[:limit]) + ("..." if len(ordered) > limit else "")


def _where(home: HomeFacts) -> frozenset[str]:
    return home.narrow or home.area or home.vague


class HometownComparison:
    """Where the report says the person is from, against accent and stated hometown."""

    name = "hometown"
    description = (
        "the report's hometown and dialect against the accent heard and the hometown stated"
    )
    levels: tuple[LevelSpec, ...] = (
        LevelSpec("null", "nothing on one side says where the person is from"),
        LevelSpec("same_city", "the stated hometown names the report's city"),
        LevelSpec("same_province", "a precise accent or hometown names the report's province"),
        LevelSpec("same_area", "accent or hometown in the same dialect area"),
        LevelSpec("broad_overlap", "only a broad hint (南方口音) overlaps"),
        LevelSpec("different", "accent and hometown point elsewhere"),
    )
    strata: tuple[StratumSpec, ...] = (
        # "all" is the label model files have known since this comparison had one stratum.
        StratumSpec("all", "everyone but children lost young and found grown up"),
        GREW_UP_AWAY,
    )

    def compare(self, missing: MissingFacts, found: FoundFacts) -> Outcome:
        """The strongest agreement between the two sides' places of origin."""
        home, heard = missing.home, found.home
        stratum = 1 if grew_up_away(missing, found) else 0
        if not home.known or not heard.known:
            return Outcome(0, "nothing on one side says where the person is from", stratum)
        if home.city_code is not None and home.city_code == heard.city_code:
            return Outcome(
                1, lambda: f"the stated hometown is the report's city, {home.city_name}", stratum
            )  # fmt: skip
        shared = home.narrow & heard.narrow
        if shared:
            return Outcome(
                2, lambda: f"accent or stated hometown points to {_names(shared)}, the "
                "report's province", stratum,
            )  # fmt: skip
        areas = home.areas & heard.areas
        if areas:
            return Outcome(
                3, lambda: f"accent or stated hometown ({_names(_where(heard))}) is in the "
                f"report's dialect area ({'/'.join(sorted(areas))})", stratum,
            )  # fmt: skip
        if home.provinces & heard.provinces:
            return Outcome(
                4, "only a broad hint of accent or hometown overlaps the report's", stratum
            )  # fmt: skip
        return Outcome(
            5, lambda: f"accent or stated hometown points to {_names(_where(heard))}, the "
            f"report to {_names(_where(home))}", stratum,
        )  # fmt: skip
