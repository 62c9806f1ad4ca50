"""Every comparison's levels, table-driven: null is no evidence, tolerances hold."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from matching.evidence_model.comparisons import (
    AgeComparison,
    FaceComparison,
    HealthComparison,
    HeightComparison,
    HometownComparison,
    MarksComparison,
    NamesComparison,
    PlaceComparison,
    SexComparison,
    TimeComparison,
    standard_comparisons,
)
from matching.evidence_model.comparisons.face import face_stratum
from matching.evidence_model.comparisons.height import expected_height, mean_height
from records import Sex


def _level(comparison: Any, facts: Any, **fields: Any) -> tuple[str, str]:
    missing, found = facts(**fields)
    outcome = comparison.compare(missing, found)
    assert outcome.text(), "every outcome has a sentence"
    return comparison.levels[outcome.level].label, comparison.strata[outcome.stratum].label


def test_every_comparison_starts_with_null() -> None:
    for comparison in standard_comparisons():
        assert comparison.levels[0].label == "null", comparison.name
        assert len({level.label for level in comparison.levels}) == len(comparison.levels)
        assert comparison.strata


def test_empty_records_are_null_everywhere(facts: Any) -> None:
    missing, found = facts()
    for comparison in standard_comparisons():
        assert comparison.compare(missing, found).level == 0, comparison.name


SEX_CASES = [
    ("same", Sex.MALE, Sex.MALE, "same"),
    ("different", Sex.MALE, Sex.FEMALE, "different"),
    ("unknown is no evidence", Sex.UNKNOWN, Sex.FEMALE, "null"),
]


@pytest.mark.parametrize(("description", "left", "right", "expected"), SEX_CASES)
def test_sex(facts: Any, description: str, left: Sex, right: Sex, expected: str) -> None:
    level, _ = _level(SexComparison(), facts, m_sex=left, f_sex=right)
    assert level == expected, description


AGE_CASES = [
    # description, birth year, estimate, found date, missing date, level, stratum
    ("inside the range", 1980, (40, 46), date(2024, 5, 1), None, "within", "narrow"),
    ("NamUs: 18-22 estimated for a 16-year-old", 2008, (18, 22), date(2024, 5, 1), None,
     "near", "narrow"),
    ("elderly, 4 years off is near", 1940, (76, 80), date(2024, 5, 1), None, "near", "narrow"),
    ("young adult, 4 years off is off", 2000, (28, 30), date(2024, 5, 1), None, "off", "narrow"),
    ("far outside", 1990, (60, 68), date(2024, 5, 1), None, "far", "narrow"),
    ("grown child, 5 years off after 25 years is near", 1985, (42, 45), date(2024, 5, 1),
     date(1990, 3, 1), "near", "narrow"),
    ("a wide estimate is its own stratum", 1980, (30, 60), date(2024, 5, 1), None, "within",
     "wide"),
    ("one bound only", 1980, (44, None), date(2024, 5, 1), None, "within", "narrow"),
    ("a baby found the year it was born", 2024, (0, 1), date(2024, 5, 1), None, "within",
     "narrow"),
    ("found before the report's birth year: far, however young the estimate", 2025, (0, 2),
     date(2024, 5, 1), None, "far", "narrow"),
    ("no birth year", None, (40, 46), date(2024, 5, 1), None, "null", "wide"),
    ("no estimate", 1980, (None, None), date(2024, 5, 1), None, "null", "wide"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("description", "birth", "estimate", "found_on", "missing_on", "level", "stratum"),
    AGE_CASES,
)
def test_age(
    facts: Any, description: str, birth: int | None, estimate: tuple[int | None, int | None],
    found_on: date, missing_on: date | None, level: str, stratum: str,
) -> None:  # fmt: skip
    got = _level(
        AgeComparison(), facts, m_birth_year=birth, m_missing_date=missing_on,
        f_age_min=estimate[0], f_age_max=estimate[1], f_found_date=found_on,
    )  # fmt: skip
    assert got == (level, stratum), description


TIME_CASES = [
    ("found 3 days before missing: still consistent (NamUs)", date(2024, 5, 4),
     date(2024, 5, 1), "before_slack"),
    ("found 10 days after", date(2024, 5, 1), date(2024, 5, 11), "days"),
    ("found 5 months after", date(2024, 1, 1), date(2024, 6, 1), "months"),
    ("found 3 years after", date(2020, 1, 1), date(2023, 1, 1), "years"),
    ("found 8 years after", date(2010, 1, 1), date(2018, 1, 1), "long"),
    ("child found 20 years later", date(2000, 1, 1), date(2020, 6, 1), "very_long"),
    ("found half a year before: a wrong date, weak evidence", date(2024, 6, 1),
     date(2023, 12, 1), "before"),
    ("no missing date", None, date(2024, 5, 1), "null"),
]  # fmt: skip


@pytest.mark.parametrize(("description", "missing_on", "found_on", "level"), TIME_CASES)
def test_time(
    facts: Any, description: str, missing_on: date | None, found_on: date, level: str
) -> None:
    got, _ = _level(
        TimeComparison(), facts, m_missing_date=missing_on, m_birth_year=1950,
        f_found_date=found_on,
    )  # fmt: skip
    assert got == level, description


@pytest.mark.parametrize(
    ("birth", "missing_on", "stratum"),
    [(2010, date(2016, 1, 1), "child"), (1950, date(2016, 1, 1), "adult"),
     (None, date(2016, 1, 1), "unknown_age")],
)  # fmt: skip
def test_time_strata_by_age_when_lost(
    facts: Any, birth: int | None, missing_on: date, stratum: str
) -> None:
    _, got = _level(
        TimeComparison(), facts, m_birth_year=birth, m_missing_date=missing_on,
        f_found_date=date(2016, 1, 20),
    )  # fmt: skip
    assert got == stratum


HEIGHT_CASES = [
    ("adult, 2 cm apart", 1980, date(2010, 1, 1), 170.0, date(2012, 1, 1), 172.0, "close",
     "adult"),
    ("adult, 12 cm apart", 1980, date(2010, 1, 1), 170.0, date(2012, 1, 1), 158.0, "off",
     "adult"),
    ("adult, 30 cm apart", 1980, date(2010, 1, 1), 175.0, date(2012, 1, 1), 145.0, "far",
     "adult"),
    ("child of 6 grown 20 years: 115 cm then, 170 now", 2000, date(2006, 6, 1), 115.0,
     date(2026, 6, 1), 170.0, "close", "grew"),
    ("child of 6 grown, but found at 120 cm", 2000, date(2006, 6, 1), 115.0,
     date(2026, 6, 1), 120.0, "far", "grew"),
    ("age unknown", None, date(2006, 6, 1), 160.0, date(2026, 6, 1), 163.0, "close",
     "age_unknown"),
    ("no found height", 1980, date(2010, 1, 1), 170.0, date(2012, 1, 1), None, "null", "all"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("description", "birth", "lost", "then", "found_on", "now", "level", "stratum"),
    HEIGHT_CASES,
)
def test_height(
    facts: Any, description: str, birth: int | None, lost: date, then: float,
    found_on: date, now: float | None, level: str, stratum: str,
) -> None:  # fmt: skip
    got_level, got_stratum = _level(
        HeightComparison(), facts, m_birth_year=birth, m_missing_date=lost, m_height_cm=then,
        m_sex=Sex.MALE, f_found_date=found_on, f_height_cm=now,
    )  # fmt: skip
    assert got_level == level, description
    if level != "null":
        assert got_stratum == stratum, description


def test_growth_curve_and_shrinking() -> None:
    assert mean_height(Sex.MALE, 6.0) < mean_height(Sex.MALE, 12.0) < mean_height(Sex.MALE, 30)
    assert mean_height(Sex.UNKNOWN, 10) == pytest.approx(
        (mean_height(Sex.MALE, 10) + mean_height(Sex.FEMALE, 10)) / 2
    )
    expected, sd, stratum = expected_height(160.0, Sex.FEMALE, 50.0, 85.0)
    assert expected < 160.0 and stratum == 0 and sd == pytest.approx(4.5)


PLACE_CASES = [
    ("same city, soon", "四川省南充市家附近", "四川南充火车站", 0, 5, "same_place", "soon"),
    ("Xi'an to Xianyang", "陕西西安", "陕西省咸阳市", 0, 5, "near", "soon"),
    ("Chengdu to Chongqing, later", "四川省成都市", "重庆市", 0, 400, "region", "later"),
    ("Beijing to Shanghai", "北京市朝阳区", "上海市", 0, 400, "far", "later"),
    ("a municipality is a city", "北京市", "北京市朝阳区", 0, 5, "same_place", "soon"),
    ("Harbin to Kunming", "黑龙江省哈尔滨市", "云南省昆明市", 0, 400, "very_far", "later"),
    ("a province only cannot be the same place", "四川", "四川省南充市", 0, 5, "region", "soon"),
    ("vague place is null", "大山里", "四川省南充市", 0, 5, "null", "soon"),
]


@pytest.mark.parametrize(
    ("description", "lost", "found_at", "start", "days", "level", "stratum"), PLACE_CASES
)
def test_place(
    facts: Any, description: str, lost: str, found_at: str, start: int, days: int, level: str,
    stratum: str,
) -> None:  # fmt: skip
    missing_on = date(2024, 1, 1)
    got = _level(
        PlaceComparison(), facts, m_missing_place=lost, m_missing_date=missing_on,
        f_found_place=found_at, f_found_date=date.fromordinal(missing_on.toordinal() + days),
    )  # fmt: skip
    assert got == (level, stratum), description


HOMETOWN_CASES = [
    ("stated city is the report's city", "四川省绵阳市", "西南官话", None, "绵阳", "same_city"),
    ("accent names the province", "四川省绵阳市", None, "四川口音", None, "same_province"),
    ("川渝 counts as precise", "重庆市万州区", None, "川渝口音", None, "same_province"),
    ("西南口音 is the same area", "贵州省遵义市", None, "西南口音", None, "same_area"),
    ("a neighbouring province in the area", "湖北省武汉市", None, "湖南口音", None, "same_area"),
    ("南方口音 is only a broad hint", "广东省广州市", None, "南方口音", None, "broad_overlap"),
    ("north-east against Sichuan", "四川省绵阳市", None, "东北口音", None, "different"),
    ("vague hometown and no accent", "四川省绵阳市", None, None, "大山里", "null"),
    ("report's dialect alone", None, "粤语", "广东口音", None, "same_area"),
    ("nothing on the report", None, None, "四川口音", None, "null"),
]


@pytest.mark.parametrize(
    ("description", "hometown", "dialect", "accent", "stated", "level"), HOMETOWN_CASES
)
def test_hometown(
    facts: Any, description: str, hometown: str | None, dialect: str | None,
    accent: str | None, stated: str | None, level: str,
) -> None:  # fmt: skip
    got, _ = _level(
        HometownComparison(), facts, m_hometown=hometown, m_dialect=dialect, f_accent=accent,
        f_hometown=stated,
    )  # fmt: skip
    assert got == level, description


GREW_UP_AWAY_CASES = [
    ("lost at 5, found 20 years on", 1990, date(1995, 6, 1), date(2015, 6, 1), True),
    ("lost at 11, found 6 years on", 1990, date(2001, 3, 1), date(2007, 6, 1), True),
    ("lost at 5, found 3 years on", 1990, date(1995, 6, 1), date(1998, 6, 1), False),
    ("lost at 13: keeps the home accent", 1990, date(2003, 8, 1), date(2023, 6, 1), False),
    ("lost just past 12 keeps the home accent", 1990, date(2002, 7, 3), date(2022, 6, 1), False),
    ("lost just short of 12", 1990, date(2002, 6, 30), date(2022, 6, 1), True),
    ("found five years on to the day", 1990, date(1995, 6, 1), date(2000, 6, 1), True),
    ("found a day short of five years", 1990, date(1995, 6, 1), date(2000, 5, 30), False),
    ("an adult found years later", 1960, date(2000, 6, 1), date(2020, 6, 1), False),
    ("no birth year", None, date(1995, 6, 1), date(2015, 6, 1), False),
    ("no found date", 1990, date(1995, 6, 1), None, False),
]


@pytest.mark.parametrize(
    ("description", "born", "lost_on", "found_on", "grew_up_away"), GREW_UP_AWAY_CASES
)
def test_a_child_lost_young_and_found_grown_has_its_own_strata(
    facts: Any, description: str, born: int | None, lost_on: date, found_on: date | None,
    grew_up_away: bool,
) -> None:  # fmt: skip
    fields = {
        "m_birth_year": born, "m_missing_date": lost_on, "m_hometown": "四川省绵阳市",
        "m_missing_place": "四川省绵阳市", "f_found_date": found_on, "f_accent": "山东口音",
        "f_found_place": "山东省临沂市",
    }  # fmt: skip
    place = _level(PlaceComparison(), facts, **fields)
    hometown = _level(HometownComparison(), facts, **fields)
    assert place[0] == "very_far" and hometown[0] == "different", description
    assert (place[1] == "grew_up_away") is grew_up_away, description
    assert (hometown[1] == "grew_up_away") is grew_up_away, description
    if not grew_up_away:
        assert hometown[1] == "all" and place[1] == "later", description


def test_an_accent_from_elsewhere_counts_little_against_a_child_who_grew_up_away(
    default_model: Any,
) -> None:
    hometown = default_model.params.comparison("hometown")
    place = default_model.params.comparison("place")
    away, usual = hometown.strata[1].weights(), hometown.strata[0].weights()
    assert -0.5 < away[-1] and usual[-1] < -2.0  # "different"
    assert place.strata[2].weights()[-1] > place.strata[1].weights()[-1]  # very far


MARK_CASES = [
    ("rare mark agrees in other words", ("左手缺指",), ("左手缺一指",), "rare_agree"),
    ("scar on the right arm, reworded", ("右臂有疤",), ("右手臂有伤疤",), "agree"),
    ("a phrase inside longer text", ("身材瘦小，右臂有一道疤",), ("右臂疤痕",), "agree"),
    ("left and right swapped", ("右臂有疤",), ("左臂有疤",), "partial"),
    ("missing finger against disabled hand", ("左手缺指",), ("左手残疾",), "partial"),
    ("different marks", ("额头有疤",), ("嘴角有痣",), "disagree"),
    ("a mark on one side only is no evidence", ("额头有疤",), (), "null"),
    ("six fingers", ("六指",), ("多一根手指",), "rare_agree"),
]


@pytest.mark.parametrize(("description", "left", "right", "level"), MARK_CASES)
def test_marks(
    facts: Any, description: str, left: tuple[str, ...], right: tuple[str, ...], level: str
) -> None:
    got, _ = _level(MarksComparison(), facts, m_features=left, f_features=right)
    assert got == level, description


HEALTH_CASES = [
    ("哑巴 is 聋哑: rare", ("聋哑",), ("哑巴",), "rare_agree"),
    ("老年痴呆 is 阿尔茨海默病", ("阿尔茨海默病",), ("老年痴呆",), "agree"),
    ("a diagnosis against the station's word", ("精神分裂症",), ("精神异常",), "agree"),
    ("intellectual disability noted as mental illness", ("智力障碍",), ("精神异常",), "related"),
    ("dementia against epilepsy", ("阿尔茨海默病",), ("癫痫",), "disagree"),
    ("a station cannot see diabetes", ("糖尿病",), ("聋哑",), "null"),
    ("nothing noted on one side", ("聋哑",), (), "null"),
]


@pytest.mark.parametrize(("description", "left", "right", "level"), HEALTH_CASES)
def test_health(
    facts: Any, description: str, left: tuple[str, ...], right: tuple[str, ...], level: str
) -> None:
    got, _ = _level(HealthComparison(), facts, m_health=left, f_health=right)
    assert got == level, description


NAME_CASES = [
    ("same name", ("刘建华",), ("刘建华",), None, None, "exact"),
    ("Sichuan n/l heard from a Sichuan accent", ("刘建华",), ("牛建华",), None, "四川口音",
     "dialect_speaker"),
    ("the report's hometown counts as the speaker's region", ("刘建华",), ("牛建华",),
     "四川省绵阳市", None, "dialect_speaker"),
    ("n/l without a region", ("刘建华",), ("牛建华",), None, None, "dialect_other"),
    ("homophone", ("李丽",), ("李莉",), None, None, "same_sound"),
    ("surname only", ("王建国",), ("王小明",), None, None, "surname_only"),
    ("no name at the station", ("王建国",), (), None, None, "null"),
    ("different", ("王伟",), ("张军",), None, None, "different"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("description", "left", "right", "hometown", "accent", "level"), NAME_CASES
)
def test_name(
    facts: Any, description: str, left: tuple[str, ...], right: tuple[str, ...],
    hometown: str | None, accent: str | None, level: str,
) -> None:  # fmt: skip
    got, _ = _level(
        NamesComparison(), facts, m_names=left, m_hometown=hometown, f_names=right,
        f_accent=accent,
    )  # fmt: skip
    assert got == level, description


def test_name_reports_how_common_the_agreeing_name_is(facts: Any) -> None:
    common = NamesComparison().compare(*facts(m_names=("王伟",), f_names=("王伟",)))
    rare = NamesComparison().compare(*facts(m_names=("覃振宇",), f_names=("覃振宇",)))
    assert common.term_frequency is not None and rare.term_frequency is not None
    assert rare.term_frequency < common.term_frequency


FACE_STRATA = [
    ("two recent adult photos", 30, 2020, 32, 2022, "adult_recent"),
    ("adult photos 15 years apart", 30, 2005, 45, 2020, "adult_long"),
    ("a child's photo against an adult one", 6, 2000, 26, 2020, "child_to_adult"),
    ("a child found soon", 6, 2020, 7, 2021, "child_recent"),
    ("nothing known", None, None, None, None, "ages_unknown"),
    ("ages known, years not", 40, None, 42, None, "ages_unknown"),
]


@pytest.mark.parametrize(("description", "age_a", "year_a", "age_b", "year_b", "stratum"),
                         FACE_STRATA)  # fmt: skip
def test_face_strata(
    description: str, age_a: float | None, year_a: float | None, age_b: float | None,
    year_b: float | None, stratum: str,
) -> None:  # fmt: skip
    got = FaceComparison().strata[face_stratum(age_a, year_a, age_b, year_b)].label
    assert got == stratum, description


@pytest.mark.parametrize(
    ("distance", "level"),
    [(0.2, "very_close"), (0.39, "close"), (0.5, "middling"), (0.59, "near_threshold"),
     (0.61, "beyond_threshold"), (0.9, "very_far")],
)  # fmt: skip
def test_face_levels_follow_the_closest_pair(
    facts: Any, face: Any, unit: Any, distance: float, level: str
) -> None:
    report_faces = (face(unit(0), year=2020), face(unit(5), year=2018))
    found_faces = (face(unit(0) + unit(1, distance), year=2022), face(unit(9), year=2022))
    got = _level(
        FaceComparison(), facts, m_faces=report_faces, m_birth_year=1980,
        m_missing_date=date(2021, 1, 1), f_faces=found_faces, f_age_min=40, f_age_max=44,
        f_found_date=date(2022, 5, 1),
    )  # fmt: skip
    assert got == (level, "adult_recent")


def test_face_of_a_child_against_the_grown_person(facts: Any, face: Any, unit: Any) -> None:
    got = _level(
        FaceComparison(), facts, m_faces=(face(unit(0), year=2002),), m_birth_year=1996,
        f_faces=(face(unit(0) + unit(1, 0.45)),), f_age_min=26, f_age_max=30,
        f_found_date=date(2024, 3, 1),
    )  # fmt: skip
    assert got == ("fairly_close", "child_to_adult")


def test_no_face_on_one_side_is_null(facts: Any, face: Any, unit: Any) -> None:
    got, _ = _level(FaceComparison(), facts, m_faces=(face(unit(0)),))
    assert got == "null"
