"""The population tables: surname shares, provinces and dialects, given names, categories."""

from __future__ import annotations

import pytest

from evaluation import census
from evaluation.categories import CATEGORIES, Category, category_mix, expected_scenario_mix
from evaluation.chars import sound_index, surname_syllables
from evaluation.corruption import Scenario
from evaluation.written_traits import FEATURES, HEALTH


def _share(surname: str) -> float:
    return dict(census.SURNAME_SHARES)[surname]


def test_surname_shares_follow_the_2020_figures() -> None:
    shares = census.SURNAME_SHARES
    assert sum(p for _, p in shares) == pytest.approx(1.0)
    assert _share("王") == pytest.approx(0.071) and _share("李") == pytest.approx(0.070)
    assert _share("张") == pytest.approx(0.068)
    assert _share("刘") == pytest.approx(0.054)
    assert _share("陈") == pytest.approx(0.045)
    assert sum(p for _, p in shares[:100]) == pytest.approx(0.85)
    assert len([s for s, _ in shares if len(s) == 1]) >= 300


def test_surnames_are_unique_and_ranked() -> None:
    names = [s for s, _ in census.SURNAME_SHARES]
    assert len(names) == len(set(names))
    singles = [p for s, p in census.SURNAME_SHARES if len(s) == 1]
    assert singles == sorted(singles, reverse=True)


def test_compound_surnames_are_present_and_rare() -> None:
    for surname in ("欧阳", "司马", "诸葛", "上官", "司徒", "皇甫", "令狐"):
        assert 0 < _share(surname) < 0.001
    assert _share("欧阳") > _share("诸葛")
    # A rare single surname is still far rarer than 王.
    assert _share("覃") < _share("王") / 20


def test_provinces_match_the_2020_census() -> None:
    assert len(census.PROVINCES) == 31
    total = sum(p.population_millions for p in census.PROVINCES)
    assert total == pytest.approx(1409.8, abs=1.0)  # mainland residents, 2020
    biggest = max(census.PROVINCES, key=lambda p: p.population_millions)
    assert biggest.name == "广东省"
    assert all(len(p.cities) >= 2 for p in census.PROVINCES)


@pytest.mark.parametrize(
    ("province", "dialects"),
    [
        ("四川省", {census.SOUTHWEST}),
        ("重庆市", {census.SOUTHWEST}),
        ("贵州省", {census.SOUTHWEST}),
        ("云南省", {census.SOUTHWEST}),
        ("上海市", {census.WU}),
        ("浙江省", {census.WU}),
        ("江苏省", {census.WU, census.JIANGHUAI, census.ZHONGYUAN}),
        ("广东省", {census.YUE, census.MIN, census.HAKKA}),
        ("广西壮族自治区", {census.YUE, census.SOUTHWEST}),
        ("福建省", {census.MIN, census.HAKKA}),
        ("湖南省", {census.XIANG, census.SOUTHWEST, census.GAN}),
        ("江西省", {census.GAN, census.HAKKA}),
        ("黑龙江省", {census.NORTHEAST}),
        ("吉林省", {census.NORTHEAST}),
    ],
)
def test_dialect_follows_the_province(province: str, dialects: set[str]) -> None:
    assert {c.dialect for c in census.PROVINCES_BY_NAME[province].cities} == dialects


def test_south_jiangsu_is_wu() -> None:
    cities = {c.name: c.dialect for c in census.PROVINCES_BY_NAME["江苏省"].cities}
    assert cities["苏州市"] == census.WU and cities["南京市"] == census.JIANGHUAI


def test_given_name_characters_follow_the_cohorts() -> None:
    chars = census.GIVEN_NAME_CHARS
    assert {"建", "国", "军", "华"} <= set(chars[("M", "1960s")])
    assert {"秀", "英", "兰", "芳"} <= set(chars[("F", "1930-1959")])
    assert {"浩", "宇", "轩", "子"} <= set(chars[("M", "2010s")])
    assert {"欣", "怡", "梓", "涵"} <= set(chars[("F", "2010s")])
    for sex in "MF":
        for cohort in census.COHORTS:
            assert len(set(chars[(sex, cohort)])) == len(chars[(sex, cohort)]) >= 20


@pytest.mark.parametrize(
    ("year", "cohort"), [(1935, "1930-1959"), (1960, "1960s"), (1989, "1980s"), (2019, "2010s")]
)
def test_cohort_of(year: int, cohort: str) -> None:
    assert census.cohort_of(year) == cohort


def test_rank_weights() -> None:
    weights = census.rank_weights(5)
    assert sum(weights) == pytest.approx(1.0)
    assert list(weights) == sorted(weights, reverse=True)


def test_category_mix_is_documented_and_defensible() -> None:
    mix = category_mix()
    assert sum(mix.values()) == pytest.approx(1.0)
    assert set(mix) == {str(c) for c in Category}
    # About a third elderly, 7% minors (DOMAIN.md).
    assert mix["elderly_dementia"] == pytest.approx(0.30)
    assert mix["child"] == pytest.approx(0.07)
    # Mental disorder (with dementia) about 45%.
    dementia = CATEGORIES[Category.ELDERLY_DEMENTIA].health[0]
    assert dementia[0] == "阿尔茨海默病"
    assert mix["mental_illness"] + mix["elderly_dementia"] * dementia[1] == pytest.approx(
        0.45, abs=0.02
    )


def test_expected_scenario_mix() -> None:
    mix = expected_scenario_mix()
    assert set(mix) == {str(s) for s in Scenario}
    assert sum(mix.values()) == pytest.approx(1.0)
    assert mix["exact"] == max(mix.values())
    for spec in CATEGORIES.values():
        assert sum(spec.scenarios.values()) == pytest.approx(1.0)
        assert all(h in HEALTH for h, _ in spec.health)


def test_traits_tables_are_consistent() -> None:
    for table in (FEATURES, HEALTH):
        for name, (p, variants) in table.items():
            assert 0 < p <= 1 and variants and name


@pytest.mark.parametrize(
    ("surname", "syllables"),
    [
        ("单", ("shan",)),
        ("曾", ("zeng",)),
        ("王", ("wang",)),
        ("吕", ("lv",)),
        ("欧阳", ("ou", "yang")),
    ],
)
def test_surname_readings(surname: str, syllables: tuple[str, ...]) -> None:
    assert surname_syllables(surname) == syllables


def test_sound_index_finds_same_sounding_characters() -> None:
    index = sound_index()
    assert "牛" in index.sounding("niu", as_surname=True)
    assert {"伟", "玮", "炜"} <= set(index.sounding("wei", as_surname=False))
    assert index.sounding("wang", as_surname=True)[0] == "王"  # most common first
    assert index.syllable("单", as_surname=True) == "shan"
    assert index.syllable("单") == "dan"
    assert index.is_syllable("zhang") and not index.is_syllable("zzz")
