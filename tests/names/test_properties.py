"""Hypothesis properties of name comparison and normalising: symmetry, identity,
idempotence."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from matching.names import NameLevel, compare_names, fold_name, is_missing_name, normalise_name
from matching.names.regions import PROVINCES

SURNAMES = list("王李张刘陈黄胡付牛单曾覃翟乐区查朴解仇何吴贺房福林宁任尹荣龙") + [
    "欧阳", "尉迟", "万俟", "单于", "长孙", "诸葛", "司马", "宗政",
]  # fmt: skip
GIVEN = list("建华明敏红宏伟玮丽莉兴星江贵奎小晓军英秀朝长乐单文翁生声能伦")
PREFIXES = ["", "", "", "阿", "小", "老"]
SUFFIXES = ["", "", "", "仔", "娃", "儿", "某", "氏"]
SPECIAL = ["老三", "二娃", "幺妹", "狗蛋", "招娣", "无名氏", "不详", "", "王某", "买买提·吐尔逊"]
LATIN = ["Liu Jianhua", "jianhua liu", "LIUJIANHUA", "Lee Ming", "John Smith", "Wong", "Ming"]
REGION_NAMES = [p.name for p in PROVINCES] + ["东北", "川音"]


@st.composite
def chinese_names(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(SPECIAL + LATIN))
    surname = draw(st.sampled_from(["", *SURNAMES]))
    given = "".join(draw(st.lists(st.sampled_from(GIVEN), min_size=0, max_size=2)))
    name = draw(st.sampled_from(PREFIXES)) + surname + given + draw(st.sampled_from(SUFFIXES))
    if draw(st.booleans()):
        return name
    # the same name typed in a different way
    variant = draw(st.sampled_from(["trad", "space", "wide", "dot"]))
    if variant == "trad":
        return name.replace("刘", "劉").replace("华", "華").replace("陈", "陳")
    if variant == "space":
        return " ".join(name)
    if variant == "wide":
        return name + "\u3000"
    return "·".join(name)


names = st.lists(chinese_names(), min_size=0, max_size=3)
regions = st.lists(st.sampled_from(REGION_NAMES), max_size=2)


@settings(max_examples=300, deadline=None)
@given(left=names, right=names, speaker=regions)
def test_comparison_is_symmetric(left: list[str], right: list[str], speaker: list[str]) -> None:
    forward = compare_names(left, right, speaker_regions=speaker)
    backward = compare_names(right, left, speaker_regions=speaker)
    assert forward.level is backward.level, (forward.reason, backward.reason)


@settings(max_examples=200, deadline=None)
@given(name=chinese_names(), speaker=regions)
def test_a_name_is_exact_with_itself(name: str, speaker: list[str]) -> None:
    result = compare_names([name], [name], speaker_regions=speaker)
    expected = NameLevel.NULL if is_missing_name(name) else NameLevel.EXACT
    assert result.level is expected


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=12) | chinese_names())
def test_folding_is_idempotent(text: str) -> None:
    key = fold_name(text)
    assert fold_name(key) == key
    assert normalise_name(key).key == key
    assert normalise_name(text).original == text


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=12))
def test_comparing_arbitrary_text_never_fails(text: str) -> None:
    result = compare_names([text], ["刘建华", text[::-1]])
    assert result.level in set(NameLevel)
