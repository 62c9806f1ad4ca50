"""Normalising names: folded keys, Latin words read as pinyin, placeholders."""

from __future__ import annotations

import pytest

from matching.names import (
    NameLevel,
    Script,
    compare_names,
    fold_name,
    is_missing_name,
    normalise_name,
    segment_pinyin,
)
from matching.names.syllables import pinyin_readings


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("刘建华", "刘建华"),
        ("劉建華", "刘建华"),
        ("刘 建华", "刘建华"),
        ("鍾麗華", "钟丽华"),
        ("锺丽华", "钟丽华"),
        ("乾隆", "乾隆"),  # OpenCC keeps 乾: it is not 干 in names
        ("买买提·吐尔逊", "买买提吐尔逊"),
        ("阿依古丽•买买提", "阿依古丽买买提"),
        ("阿依古丽・买买提", "阿依古丽买买提"),
        ("Liu Jianhua", "liujianhua"),
        ("LIU, Jian-hua", "liujianhua"),
        ("ＬＩＵ　Ｊｉａｎｈｕａ", "liujianhua"),
        ("Lǚ Xiǎomíng", "lvxiaoming"),
        ("lu: xin", "lvxin"),
        ("Xi'an", "xian"),
        ("  ", ""),
    ],
)
def test_fold_name(text: str, key: str) -> None:
    assert fold_name(text) == key


def test_the_original_is_kept() -> None:
    name = normalise_name("鍾麗華")
    assert name.original == "鍾麗華"
    assert name.key == "钟丽华"
    assert name.script is Script.HAN


def test_dotted_minority_names_keep_their_parts() -> None:
    name = normalise_name("买买提·吐尔逊")
    assert name.dotted
    assert [w.text for w in name.words] == ["买买提", "吐尔逊"]
    assert not normalise_name("买买提 吐尔逊").dotted


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Liu Jianhua", [("liu",), ("jian", "hua")]),
        ("jianhua liu", [("jian", "hua"), ("liu",)]),
        ("LIUJIANHUA", [("liu", "jian", "hua")]),
        ("LiuJianhua", [("liu",), ("jian", "hua")]),
        ("Liu Jian-hua", [("liu",), ("jian", "hua")]),
        ("Liu Jian-Hua", [("liu",), ("jian", "hua")]),
        ("Ouyang Xiu", [("ou", "yang"), ("xiu",)]),
        ("Lv Xiaoming", [("lv",), ("xiao", "ming")]),
        ("Lue Xin", [("lve",), ("xin",)]),
        ("Xi'an Wang", [("xi", "an"), ("wang",)]),
    ],
)
def test_latin_words_are_read_as_pinyin(text: str, words: list[tuple[str, ...]]) -> None:
    name = normalise_name(text)
    assert name.script is Script.PINYIN
    assert [w.syllables for w in name.words] == words


@pytest.mark.parametrize("text", ["John Smith", "Lee Ming", "Peter"])
def test_latin_names_that_are_not_pinyin_get_phonetic_codes(text: str) -> None:
    name = normalise_name(text)
    assert name.script is Script.LATIN
    assert all(w.phonetic for w in name.words)


def test_scripts() -> None:
    assert normalise_name("").script is Script.EMPTY
    assert normalise_name("王Jianhua").script is Script.MIXED
    assert normalise_name("Иван").script is Script.OTHER


@pytest.mark.parametrize(
    ("text", "syllables"),
    [
        ("liujianhua", ("liu", "jian", "hua")),
        ("jianhualiu", ("jian", "hua", "liu")),
        ("xian", ("xian",)),
        ("xi'an", ("xi", "an")),
        ("zhangang", ("zhan", "gang")),
        ("ouyangxiu", ("ou", "yang", "xiu")),
        ("zhuangzhuang", ("zhuang", "zhuang")),
        ("lvxiaoming", ("lv", "xiao", "ming")),
        ("luexin", ("lve", "xin")),
        ("jinan", ("ji", "nan")),
        ("er", ("er",)),
        ("smith", None),
        ("lee", None),
        ("", None),
    ],
)
def test_segment_pinyin(text: str, syllables: tuple[str, ...] | None) -> None:
    assert segment_pinyin(text) == syllables


@pytest.mark.parametrize(
    ("text", "readings"),
    [
        # The apostrophe left out: the boundary may sit before the vowel (罗欣安, 珍爱).
        ("xinan", (("xi", "nan"), ("xin", "an"))),
        ("zhenai", (("zhe", "nai"), ("zhen", "ai"))),
        ("zhangang", (("zhan", "gang"), ("zhang", "ang"))),
        ("wangaihua", (("wan", "gai", "hua"), ("wang", "ai", "hua"))),
        # Not a split into more syllables: jian as ji'an would match strangers.
        ("liujianhua", (("liu", "jian", "hua"),)),
        ("xian", (("xian",),)),
        ("xi'an", (("xi", "an"),)),
        ("smith", ()),
    ],
)
def test_pinyin_readings_offer_the_splits_an_apostrophe_would_settle(
    text: str, readings: tuple[tuple[str, ...], ...]
) -> None:
    assert pinyin_readings(text) == readings
    if readings:
        assert readings[0] == segment_pinyin(text)


@pytest.mark.parametrize(
    ("typed", "written"),
    [("Luo Xinan", "罗欣安"), ("chenzhenai", "陈珍爱"), ("Yinge Wang", "王英娥")],
)
def test_pinyin_typed_without_its_apostrophe_sounds_the_same(typed: str, written: str) -> None:
    assert compare_names([typed], [written]).level is NameLevel.SAME_SOUND


@pytest.mark.parametrize(
    "text",
    [None, "", "  ", "无名氏", "无名氏3号", "无名男", "不详", "未知", "姓名不详", "N/A", "unknown"],
)
def test_placeholders_are_missing_names(text: str | None) -> None:
    assert is_missing_name(text)


@pytest.mark.parametrize("text", ["王伟", "娜", "Na Li", "阿明", "老三"])
def test_names_are_not_missing(text: str) -> None:
    assert not is_missing_name(text)
