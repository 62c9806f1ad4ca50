"""Surname readings, compound surnames and splitting a name."""

from __future__ import annotations

import pytest

from matching.names import NameSplit, split_name, surname_reading
from matching.names.readings import (
    COMPOUND_SURNAMES,
    SURNAME_READINGS,
    char_readings,
    given_reading,
    is_compound_surname,
)
from matching.names.syllables import SYLLABLES


@pytest.mark.parametrize(
    ("surname", "reading"),
    [
        ("单", "shan"), ("曾", "zeng"), ("解", "xie"), ("仇", "qiu"), ("查", "zha"),
        ("朴", "piao"), ("区", "ou"), ("覃", "qin"), ("盖", "ge"), ("乐", "yue"),
        ("缪", "miao"), ("翟", "zhai"), ("秘", "bi"), ("种", "chong"), ("繁", "po"),
        ("宿", "su"), ("王", "wang"), ("刘", "liu"), ("石", "shi"), ("黑", "he"),
    ],
)  # fmt: skip
def test_surname_reading_comes_first(surname: str, reading: str) -> None:
    (char,) = surname_reading(surname)
    assert char.strong == {reading}


def test_everyday_readings_are_kept_only_as_weaker_alternatives() -> None:
    (shan,) = surname_reading("单")
    assert shan.weak == {"dan", "chan"}
    (wang,) = surname_reading("王")
    assert wang.weak == frozenset()  # pypinyin's archaic "yu" is no alternative


@pytest.mark.parametrize(
    ("surname", "readings"),
    [
        ("尉迟", ("yu", "chi")), ("万俟", ("mo", "qi")), ("单于", ("chan", "yu")),
        ("长孙", ("zhang", "sun")), ("欧阳", ("ou", "yang")), ("澹台", ("tan", "tai")),
        ("令狐", ("ling", "hu")), ("钟离", ("zhong", "li")),
    ],
)  # fmt: skip
def test_compound_surname_readings(surname: str, readings: tuple[str, str]) -> None:
    assert tuple(next(iter(c.strong)) for c in surname_reading(surname)) == readings


@pytest.mark.parametrize(
    "surname",
    [
        "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "宇文", "司徒", "夏侯",
        "公孙", "轩辕", "端木", "独孤", "南宫", "西门", "百里", "呼延", "尉迟", "万俟", "单于",
        "长孙", "澹台", "公冶", "宗政", "濮阳", "太史", "申屠", "钟离",
    ],
)  # fmt: skip
def test_compound_surnames_are_known(surname: str) -> None:
    assert is_compound_surname(surname)
    assert split_name(surname + "明")[0] == NameSplit(surname, "明")


def test_split_name() -> None:
    assert split_name("刘建华") == (NameSplit("刘", "建华"),)
    assert split_name("欧阳修") == (NameSplit("欧阳", "修"), NameSplit("欧", "阳修"))
    # 宗政华 may be 宗政 + 华 or 宗 + 政华: both are kept, compound first
    assert split_name("宗政华")[1] == NameSplit("宗", "政华")
    assert split_name("王") == (NameSplit("王", ""),)
    assert split_name("") == ()


def test_given_names_keep_every_reading() -> None:
    chao, yang = given_reading("朝阳")
    assert {"chao", "zhao"} <= chao.strong
    assert yang.strong == {"yang"}


def test_tables_are_consistent_with_pypinyin_and_the_syllable_table() -> None:
    for surname, readings in SURNAME_READINGS.items():
        assert readings <= SYLLABLES, surname
        # the index keys rely on a surname sharing a reading with the same character
        # read as a given name
        everything = surname_reading(surname)[0].all
        assert everything & char_readings(surname), surname
    for compound, pair in COMPOUND_SURNAMES.items():
        for char, reading in zip(compound, pair, strict=True):
            assert reading in char_readings(char), compound
