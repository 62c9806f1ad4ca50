"""Searching reports by a name as heard: levels, reasons and ranking."""

from __future__ import annotations

import pytest

from matching.attribute_table import year_weight
from records import Sex
from usecases.name_search import NameSearcher, ReportEntry, report_regions


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


def test_the_accent_favours_reports_from_its_provinces() -> None:
    searcher = NameSearcher(
        [
            ReportEntry("GD", ("李梅",), Sex.FEMALE, 1970, report_regions("广东省广州市")),
            ReportEntry("SC", ("陈梅",), Sex.FEMALE, 1970, report_regions(None, "西南官话")),
        ]
    )
    assert [h.ref for h in searcher.search("梅", accent="四川口音", k=2)] == ["SC", "GD"]
    assert [h.ref for h in searcher.search("梅", accent="广东口音", k=2)] == ["GD", "SC"]


def test_sex_and_birth_year_reach_past_hundreds_of_equal_names() -> None:
    # 400 women called X梅 born in 1950 were added first; a query with limits of a few
    # hundred would never compare the man born in 1990 without the attribute prior.
    surnames = [chr(c) for c in range(0x4E00, 0x4E00 + 2000)]
    entries = [ReportEntry(f"W{i}", (s + "梅",), Sex.FEMALE, 1950) for i, s in enumerate(surnames)]
    entries = [e for e in entries if e.names[0] != "姬梅"][:400]
    searcher = NameSearcher([*entries, ReportEntry("M", ("姬梅",), Sex.MALE, 1990)])
    hits = searcher.search("梅", sex=Sex.MALE, birth_year=1991, k=1)
    assert hits[0].ref == "M"


@pytest.mark.parametrize(("gap", "expected"), [(0, 3.32), (4, 1.88), (9, 0.08), (30, -4.0)])
def test_the_birth_year_weight_falls_with_the_gap_and_floors(gap: int, expected: float) -> None:
    assert year_weight(gap) == pytest.approx(expected, abs=0.01)


def test_report_regions_read_hometown_dialect_and_place() -> None:
    assert report_regions("四川", "冀鲁官话", "湖南省长沙市火车站") == {
        "四川",
        "河北",
        "山东",
        "天津",
        "湖南",
    }
    assert report_regions(None, "", "大山里") == frozenset()


def test_a_common_xiaoming_says_less_than_a_rare_one() -> None:
    # 美美 is the 小名 on many reports; the one report whose given name is 梅美 comes first.
    common = [ReportEntry(f"C{i}", (s + "美", "美美"), Sex.FEMALE, 1990) for i, s in
              enumerate("赵钱孙李周吴郑王冯陈褚卫")]  # fmt: skip
    searcher = NameSearcher([*common, ReportEntry("R", ("李梅美",), Sex.FEMALE, 1990)])
    assert searcher.search("梅美", k=1)[0].ref == "R"
    assert searcher._index.name_count("美美") == len(common)
    assert searcher._index.name_count("無名氏") == 0


def test_a_xiaoming_that_only_sounds_alike_is_no_rarer_than_the_one_asked() -> None:
    # Many families listed 小明; one listed 小民 (ming and min merge in Sichuan speech). A
    # 小名 that only sounds like the query picks out no fewer people than the query
    # itself, so every exact 小明 still comes before it.
    common = [ReportEntry(f"C{s}{g}", (s + g + "明", "小明"), Sex.MALE, 1980)
              for s in "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
              for g in "建国"]  # fmt: skip
    searcher = NameSearcher([*common, ReportEntry("R", ("何民", "小民"), Sex.MALE, 1980)])
    hits = searcher.search("小明", accent="四川口音", k=len(common) + 1)
    assert hits[-1].ref == "R"
    assert hits[-1].level == "dialect_speaker"


def test_a_lone_surname_finds_its_namesakes_ranked_by_sex_and_birth_year() -> None:
    # A station that wrote only 张 (the given name lost) finds the 张 reports, the
    # written surname before sound-alikes (章), then by sex and birth year; 刘 finds none.
    searcher = NameSearcher(
        [
            ReportEntry("sound", ("章伟",), Sex.MALE, 1958),
            ReportEntry("woman", ("张丽",), Sex.FEMALE, 1958),
            ReportEntry("young", ("张强",), Sex.MALE, 1995),
            ReportEntry("fits", ("张建国",), Sex.MALE, 1958),
            ReportEntry("other", ("刘建国",), Sex.MALE, 1958),
        ]
    )
    plain = searcher.search("张", k=5)
    assert {hit.ref for hit in plain} == {"sound", "woman", "young", "fits"}
    assert plain[-1].ref == "sound"
    assert {hit.level for hit in plain} == {"surname_only"}
    assert "surname" in plain[0].reason
    ranked = searcher.search("张", sex=Sex.MALE, birth_year=1958, k=5)
    assert ranked[0].ref == "fits"
    assert searcher.search("王某", k=5) == []
    assert [hit.ref for hit in searcher.search("张某", k=5)][-1] == "sound"
    # A 小名 asks for its given name: 明 as a surname is not padded in (明伟 for 小明).
    searcher.add(ReportEntry("surname", ("明伟",), Sex.MALE, 1958))
    assert "surname" not in {hit.ref for hit in searcher.search("小明", k=10)}
    assert "surname" in {hit.ref for hit in searcher.search("明", k=10)}


def test_a_xiaoming_ranks_reports_by_how_they_would_give_it() -> None:
    # For 小明: the family listed 小明; the given name ends in 明 and no 小名 is listed;
    # the family listed another 小名; 明 is not the given name's last character.
    searcher = NameSearcher(
        [
            ReportEntry("middle", ("王明华",), Sex.MALE, 1980),
            ReportEntry("other", ("赵建明", "老三"), Sex.MALE, 1980),
            ReportEntry("last", ("孙建明",), Sex.MALE, 1980),
            ReportEntry("listed", ("钱国明", "小明"), Sex.MALE, 1980),
        ]
    )
    assert [hit.ref for hit in searcher.search("小明", k=4)] == [
        "listed", "last", "other", "middle",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "expected", "other"),
    [
        # 肖芳 reads xiao fang; a family that listed 小芳 still comes first.
        ("小芳", ("listed", ("陈芳", "小芳"), Sex.FEMALE), ("sound", ("肖芳",), Sex.FEMALE)),
        # 王家 may be 王家子 with a character lost as much as 王佳 misspelt.
        ("王家", ("lost", ("王家子",), Sex.MALE), ("homophone", ("王佳",), Sex.MALE)),
        # 张宝 may be 张 + 宝 as well as a 小名: a lost character (张宝华) ranks as for 张家.
        ("张宝", ("lost", ("张宝华",), Sex.MALE), ("suffix", ("张仔",), Sex.MALE)),
        # The station heard a character more than the family wrote (张娟明 / 张娟): rarer
        # than a dialect reading (ming for min), but a lost one (张娟 / 张娟明) is not.
        ("张娟明", ("dialect", ("张娟民",), Sex.FEMALE), ("extra", ("张娟",), Sex.FEMALE)),
        ("张娟", ("lost", ("张娟明",), Sex.FEMALE), ("dialect", ("张俊",), Sex.FEMALE)),
    ],
)
def test_of_two_reports_the_likelier_reading_comes_first(
    query: str, expected: tuple[str, tuple[str, ...], Sex], other: tuple[str, tuple[str, ...], Sex]
) -> None:
    searcher = NameSearcher([ReportEntry(*other, 1980), ReportEntry(*expected, 1980)])
    assert searcher.search(query, k=1)[0].ref == expected[0]


def test_a_xiaoming_weighs_a_report_whatever_the_order_of_its_names() -> None:
    # A family that listed 阿明 has not contradicted 小明: same core, another form.
    searcher = NameSearcher(
        [
            ReportEntry("first", ("阿明", "孙建明"), Sex.MALE, 1980),
            ReportEntry("second", ("孙建明", "阿明"), Sex.MALE, 1980),
            ReportEntry("none", ("孙建明",), Sex.MALE, 1980),
            ReportEntry("other", ("孙建明", "老三"), Sex.MALE, 1980),
        ]
    )
    weights = {hit.ref: hit.weight for hit in searcher.search("小明", k=4)}
    assert weights["first"] == pytest.approx(weights["second"], abs=0.2)
    assert weights["second"] == pytest.approx(weights["none"], abs=0.2)
    assert weights["other"] < weights["none"] - 1.5


def test_attribute_weights_count_what_both_sides_know() -> None:
    from matching.attribute_table import AttributeTable

    table = AttributeTable()
    table.set("known", Sex.MALE, 1958, frozenset({"四川省"}))
    table.set("unknown", Sex.UNKNOWN, None, frozenset())
    table.set("elsewhere", Sex.FEMALE, 1990, frozenset({"广东省", "广西壮族自治区"}))
    refs = ["known", "unknown", "elsewhere"]
    asked = {"sex": Sex.MALE, "birth_year": 1958, "regions": frozenset({"四川省"})}
    weights = table.weights(refs, **asked)  # type: ignore[arg-type]
    assert weights.tolist() == pytest.approx([0.9 + year_weight(0) + 2.0, 0.0,
                                              -5.0 + year_weight(32) - 1.0])  # fmt: skip
    assert table.weights(refs).tolist() == [0.0, 0.0, 0.0], "nothing asked, nothing weighed"
    # A province no report names agrees with none; a report's attributes can be replaced.
    assert table.weights(["known"], regions=frozenset({"西藏自治区"})).tolist() == [-1.0]
    table.set("known", Sex.FEMALE, None, frozenset())
    assert table.weights(["known"], **asked).tolist() == [-5.0]  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        table.weights(["nobody"])


def test_a_nickname_that_names_a_girl_puts_daughters_first() -> None:
    """三丫 heard, nothing else known: of two reports listing 小名 of the same rank, the
    daughter's comes first; a son's only after her (the sex is not asked)."""
    searcher = NameSearcher(
        [
            ReportEntry("SON", ("王建国", "三娃"), Sex.MALE, 1970),
            ReportEntry("DAUGHTER", ("王秀兰", "三娃"), Sex.FEMALE, 1970),
        ]
    )
    hits = searcher.search("三丫", k=5)
    assert [h.ref for h in hits] == ["DAUGHTER", "SON"]
    assert hits[0].weight - hits[1].weight == pytest.approx(4.5)
