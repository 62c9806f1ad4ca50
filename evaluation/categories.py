"""Who goes missing, and how each kind of case unfolds: the generator's documented mix.

The mix of categories follows what is published about people reunited through the national
channel (DOMAIN.md): about 45% had a mental disorder, 33% an intellectual disability, a third
were elderly, 7% minors; lost elderly people average 76 years, 72% with memory impairment.

======================= ===== ==============================================================
category                share why
======================= ===== ==============================================================
elderly_dementia        0.30  "a third elderly"; mostly found within days, in the same city
mental_illness          0.22  with dementia (a mental disorder too) gives about 45%
intellectual_disability 0.25  with the disabled among children and workers, about 31%
child                   0.07  "7% minors": lost recently, found within days, still a minor
child_grown             0.07  lost as a child (1978-2012), found years later, far away
migrant_worker          0.09  lost while working in another province; often ill or injured
======================= ===== ==============================================================

Each category has its own scenario mix for how the station records the name: an elderly
person with dementia often gives a name in a strong accent or none at all, a child lost at
four remembers only a 小名 and was given another name, a migrant worker states a full name
that may be typed as pinyin. ``expected_scenario_mix`` combines the two tables into the
mix expected over all true pairs:

============ ======
scenario     share
============ ======
exact        0.24
no_name      0.18
dialect      0.14
homophone    0.12
nickname     0.10
char_lost    0.06
assigned     0.06
given_only   0.05
pinyin       0.025
traditional  0.02
============ ======

(rounded; ``expected_scenario_mix()`` gives the exact figures). A ``traditional`` draw on a
name with no traditional form (王一) is recorded as ``exact``, so the realised traditional
share is slightly lower and the exact share slightly higher than the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

from evaluation.corruption import Scenario


class Category(StrEnum):
    """Kinds of missing person, each with its own ages, timelines and places."""

    ELDERLY_DEMENTIA = "elderly_dementia"
    MENTAL_ILLNESS = "mental_illness"
    INTELLECTUAL_DISABILITY = "intellectual_disability"
    CHILD = "child"
    CHILD_GROWN = "child_grown"
    MIGRANT_WORKER = "migrant_worker"


@dataclass(frozen=True, slots=True)
class AgeSpec:
    """Age when lost: normal(mean, sd) clipped to ``[low, high]``."""

    mean: float
    sd: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class DelaySpec:
    """Days from going missing to being found: log-normal(median, sigma), at most ``max_days``.

    For ``child_grown`` the dates are drawn differently (see ``population``); the spec is
    not used there.
    """

    median_days: float
    sigma: float
    max_days: float


@dataclass(frozen=True, slots=True)
class PlaceSpec:
    """Where the person is found relative to where they went missing."""

    same_city: float
    same_province: float

    @property
    def other_province(self) -> float:
        """The rest: another province."""
        return 1.0 - self.same_city - self.same_province


@dataclass(frozen=True, slots=True)
class EstimateSpec:
    """How a station's age estimate errs: bias and spread (years), half-width choices."""

    bias: float
    sd: float
    half_widths: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CategorySpec:
    """Everything the generator needs to know about one category."""

    category: Category
    share: float
    male_share: float
    age: AgeSpec
    delay: DelaySpec
    place: PlaceSpec
    health: tuple[tuple[str, float], ...]
    estimate: EstimateSpec
    report_photo_share: float
    found_photo_share: float
    accent_recorded_share: float
    hometown_stated_share: float
    scenarios: Mapping[Scenario, float]
    health_exclusive: bool = False
    """When true, exactly one ``health`` entry is drawn (by weight) instead of each alone."""


def _mix(**shares: float) -> Mapping[Scenario, float]:
    mix = {Scenario(k): v for k, v in shares.items()}
    total = sum(mix.values())
    if abs(total - 1.0) > 1e-9:
        raise ValueError(f"scenario shares sum to {total}, not 1")
    return MappingProxyType(mix)


_S = Category
CATEGORIES: Final[Mapping[Category, CategorySpec]] = MappingProxyType(
    {
        _S.ELDERLY_DEMENTIA: CategorySpec(
            category=_S.ELDERLY_DEMENTIA,
            share=0.30,
            male_share=0.52,
            age=AgeSpec(mean=76, sd=7, low=60, high=97),
            delay=DelaySpec(median_days=3, sigma=1.6, max_days=3 * 365),
            place=PlaceSpec(same_city=0.65, same_province=0.20),
            health=(
                ("阿尔茨海默病", 0.72),
                ("高血压", 0.30),
                ("糖尿病", 0.15),
                ("行动不便", 0.20),
                ("听力下降", 0.25),
            ),
            estimate=EstimateSpec(bias=1.0, sd=5.0, half_widths=(3, 5, 5, 10)),
            report_photo_share=0.90,
            found_photo_share=0.95,
            accent_recorded_share=0.65,
            hometown_stated_share=0.35,
            scenarios=_mix(
                exact=0.28,
                dialect=0.18,
                homophone=0.12,
                nickname=0.06,
                given_only=0.04,
                no_name=0.17,
                traditional=0.02,
                pinyin=0.01,
                char_lost=0.08,
                assigned=0.04,
            ),  # fmt: skip
        ),
        _S.MENTAL_ILLNESS: CategorySpec(
            category=_S.MENTAL_ILLNESS,
            share=0.22,
            male_share=0.60,
            age=AgeSpec(mean=38, sd=11, low=18, high=65),
            delay=DelaySpec(median_days=120, sigma=1.6, max_days=15 * 365),
            place=PlaceSpec(same_city=0.20, same_province=0.30),
            health=(
                ("精神分裂症", 0.50),
                ("抑郁症", 0.15),
                ("双相情感障碍", 0.10),
                ("精神障碍", 0.25),
            ),
            estimate=EstimateSpec(bias=3.0, sd=5.0, half_widths=(3, 5, 5, 10)),
            report_photo_share=0.85,
            found_photo_share=0.95,
            accent_recorded_share=0.60,
            hometown_stated_share=0.30,
            scenarios=_mix(
                exact=0.22,
                dialect=0.12,
                homophone=0.12,
                nickname=0.06,
                given_only=0.05,
                no_name=0.22,
                traditional=0.03,
                pinyin=0.04,
                char_lost=0.06,
                assigned=0.08,
            ),  # fmt: skip
            health_exclusive=True,
        ),
        _S.INTELLECTUAL_DISABILITY: CategorySpec(
            category=_S.INTELLECTUAL_DISABILITY,
            share=0.25,
            male_share=0.62,
            age=AgeSpec(mean=30, sd=11, low=12, high=60),
            delay=DelaySpec(median_days=365, sigma=1.5, max_days=20 * 365),
            place=PlaceSpec(same_city=0.20, same_province=0.30),
            health=(("智力障碍", 1.0), ("说话不清", 0.40), ("聋哑", 0.12), ("癫痫", 0.08)),
            estimate=EstimateSpec(bias=1.0, sd=4.0, half_widths=(3, 5, 5, 10)),
            report_photo_share=0.85,
            found_photo_share=0.95,
            accent_recorded_share=0.50,
            hometown_stated_share=0.20,
            scenarios=_mix(
                exact=0.18,
                dialect=0.14,
                homophone=0.14,
                nickname=0.16,
                given_only=0.08,
                no_name=0.20,
                traditional=0.02,
                pinyin=0.01,
                char_lost=0.05,
                assigned=0.02,
            ),  # fmt: skip
        ),
        _S.CHILD: CategorySpec(
            category=_S.CHILD,
            share=0.07,
            male_share=0.55,
            age=AgeSpec(mean=11, sd=3.5, low=3, high=16),
            delay=DelaySpec(median_days=3, sigma=1.3, max_days=365),
            place=PlaceSpec(same_city=0.60, same_province=0.25),
            health=(("智力障碍", 0.15), ("自闭症", 0.05)),
            estimate=EstimateSpec(bias=0.0, sd=1.5, half_widths=(1, 2, 2, 3)),
            report_photo_share=0.95,
            found_photo_share=0.95,
            accent_recorded_share=0.55,
            hometown_stated_share=0.50,
            scenarios=_mix(
                exact=0.40,
                dialect=0.08,
                homophone=0.12,
                nickname=0.16,
                given_only=0.06,
                no_name=0.08,
                traditional=0.01,
                pinyin=0.03,
                char_lost=0.04,
                assigned=0.02,
            ),  # fmt: skip
        ),
        _S.CHILD_GROWN: CategorySpec(
            category=_S.CHILD_GROWN,
            share=0.07,
            male_share=0.60,
            age=AgeSpec(mean=5, sd=2.5, low=1, high=12),
            delay=DelaySpec(median_days=0, sigma=0, max_days=0),
            place=PlaceSpec(same_city=0.05, same_province=0.15),
            health=(("智力障碍", 0.15),),
            estimate=EstimateSpec(bias=1.0, sd=4.0, half_widths=(3, 5, 5, 10)),
            report_photo_share=0.80,
            found_photo_share=0.95,
            accent_recorded_share=0.60,
            hometown_stated_share=0.55,
            scenarios=_mix(
                exact=0.06,
                dialect=0.06,
                homophone=0.08,
                nickname=0.25,
                given_only=0.05,
                no_name=0.15,
                traditional=0.01,
                pinyin=0.02,
                char_lost=0.05,
                assigned=0.27,
            ),  # fmt: skip
        ),
        _S.MIGRANT_WORKER: CategorySpec(
            category=_S.MIGRANT_WORKER,
            share=0.09,
            male_share=0.80,
            age=AgeSpec(mean=42, sd=10, low=18, high=62),
            delay=DelaySpec(median_days=300, sigma=1.4, max_days=15 * 365),
            place=PlaceSpec(same_city=0.30, same_province=0.30),
            health=(("精神障碍", 0.25), ("智力障碍", 0.20), ("说话不清", 0.10)),
            estimate=EstimateSpec(bias=3.0, sd=5.0, half_widths=(3, 5, 5, 10)),
            report_photo_share=0.75,
            found_photo_share=0.95,
            accent_recorded_share=0.70,
            hometown_stated_share=0.45,
            scenarios=_mix(
                exact=0.30,
                dialect=0.16,
                homophone=0.14,
                nickname=0.04,
                given_only=0.04,
                no_name=0.12,
                traditional=0.02,
                pinyin=0.08,
                char_lost=0.06,
                assigned=0.04,
            ),  # fmt: skip
        ),
    }
)
"""The documented mix: each category's share and how its cases unfold."""

if abs(sum(spec.share for spec in CATEGORIES.values()) - 1.0) > 1e-9:
    raise ValueError("category shares must sum to 1")


def category_mix() -> dict[str, float]:
    """The documented share of each category, for reports."""
    return {str(c): spec.share for c, spec in CATEGORIES.items()}


def expected_scenario_mix() -> dict[str, float]:
    """The share of each scenario expected over all true pairs (categories combined)."""
    out = {str(s): 0.0 for s in Scenario}
    for spec in CATEGORIES.values():
        for scenario, share in spec.scenarios.items():
            out[str(scenario)] += spec.share * share
    return out


def documented_mix() -> dict[str, dict[str, Any]]:
    """The whole documented mix as plain data: category shares, the expected scenario
    shares, and each category's own scenario shares."""
    return {
        "category": category_mix(),
        "scenario": expected_scenario_mix(),
        "scenario_by_category": {
            str(c): {str(s): share for s, share in spec.scenarios.items()}
            for c, spec in CATEGORIES.items()
        },
    }
