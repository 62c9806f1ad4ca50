"""Searching reports by a name as heard: levels, reasons and ranking."""

from __future__ import annotations

import pytest

from matching.name_search import NameSearcher, ReportEntry
from records import Sex


@pytest.fixture
def searcher() -> NameSearcher:
    return NameSearcher(
        [
            ReportEntry("M1", ("刘建华",), Sex.MALE, 1962),
            ReportEntry("M2", ("刘建华",), Sex.MALE, 1990),
            ReportEntry("M3", ("刘建华",), Sex.FEMALE, 1962),
            ReportEntry("M4", ("付贵",), Sex.MALE, 1986),
            ReportEntry("M5", ("黄秀英",), Sex.FEMALE, 1948),
            ReportEntry("M6", ("李明", "阿明"), Sex.MALE, 2008),
            ReportEntry("M7", ("单志强",), Sex.MALE, 1975),
            ReportEntry("M8", ("王伟",), Sex.MALE, 1980),
        ]
    )


@pytest.mark.parametrize(
    ("query", "accent", "expected", "level"),
    [
        ("牛建华", "四川口音", "M1", "dialect_speaker"),
        ("Liu Jianhua", None, "M1", "same_sound"),
        ("jianhua liu", None, "M1", "same_sound"),
        ("劉建華", None, "M1", "exact"),
        ("王秀英", "上海话", "M5", "dialect_speaker"),
        ("阿明", None, "M6", "exact"),
        ("Shan Zhiqiang", None, "M7", "same_sound"),
        ("胡奎", None, "M4", "near_sound"),
    ],
)
def test_the_report_behind_a_misheard_name_comes_first(
    searcher: NameSearcher, query: str, accent: str | None, expected: str, level: str
) -> None:
    hits = searcher.search(query, accent=accent, k=3)
    assert hits[0].ref == expected, hits
    assert hits[0].level == level
    assert hits[0].reason


def test_sex_and_birth_year_order_namesakes(searcher: NameSearcher) -> None:
    refs = [h.ref for h in searcher.search("刘建华", sex=Sex.MALE, birth_year=1990, k=3)]
    assert refs == ["M2", "M1", "M3"]
    refs = [h.ref for h in searcher.search("刘建华", sex=Sex.FEMALE, birth_year=1963, k=3)]
    assert refs[0] == "M3"


def test_unrelated_names_are_not_returned(searcher: NameSearcher) -> None:
    assert all(hit.ref != "M8" for hit in searcher.search("刘建华", k=10))


def test_an_empty_name_is_refused(searcher: NameSearcher) -> None:
    with pytest.raises(ValueError, match="required"):
        searcher.search("  ")


def test_re_adding_a_report_replaces_its_names(searcher: NameSearcher) -> None:
    searcher.add(ReportEntry("M8", ("王建华",), Sex.MALE, 1980))
    assert len(searcher) == 8
    assert [h.ref for h in searcher.search("王伟", k=5)] == []
