"""Sound rules and the name-recording scenarios, case by case and as properties."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation import census
from evaluation.chars import sound_index
from evaluation.corruption import (
    RecordedName,
    Scenario,
    TrueName,
    make_nickname,
    record_name,
    to_pinyin,
)
from evaluation.mishearings import DIALECT_RULES, SoundRule, variant_weight, variants


@pytest.mark.parametrize(
    ("rule", "syllable", "expected"),
    [
        (SoundRule.N_L, "liu", ("niu",)),
        (SoundRule.N_L, "nv", ("lv",)),
        (SoundRule.N_L, "wang", ()),
        (SoundRule.F_HU, "fu", ("hu",)),
        (SoundRule.F_HU, "huang", ("fang",)),
        (SoundRule.F_HU, "feng", ("hong",)),
        (SoundRule.RETROFLEX, "zhang", ("zang",)),
        (SoundRule.RETROFLEX, "shi", ("si",)),
        (SoundRule.RETROFLEX, "zang", ()),
        (SoundRule.RETROFLEX_BOTH, "zang", ("zhang",)),
        (SoundRule.NASAL, "chen", ("cheng",)),
        (SoundRule.NASAL, "ling", ("lin",)),
        (SoundRule.NASAL, "wang", ("wan",)),
        (SoundRule.R_Y, "ren", ("yin",)),
        (SoundRule.R_Y, "rou", ("you",)),
        (SoundRule.R_L, "re", ("le",)),
        (SoundRule.R_L, "rao", ("lao",)),
        (SoundRule.H_W, "huang", ("wang",)),
        (SoundRule.H_W, "wu", ("hu",)),
        (SoundRule.ASPIRATION, "gui", ("kui",)),
        (SoundRule.ASPIRATION, "zhang", ("chang",)),
        (SoundRule.ASPIRATION, "zi", ("ci",)),
    ],
)
def test_sound_rule_variants(rule: SoundRule, syllable: str, expected: tuple[str, ...]) -> None:
    assert variants(rule, syllable) == expected


def test_an_ang_is_weaker_than_en_eng() -> None:
    assert variant_weight(SoundRule.NASAL, "wang", "wan") < 1.0
    assert variant_weight(SoundRule.NASAL, "chen", "cheng") == 1.0
    assert variant_weight(SoundRule.N_L, "lan", "nan") == 1.0


def test_every_dialect_group_has_rules_listed() -> None:
    assert set(DIALECT_RULES) == set(census.DIALECT_GROUPS)
    assert SoundRule.N_L in DIALECT_RULES[census.SOUTHWEST]
    assert SoundRule.R_Y in DIALECT_RULES[census.NORTHEAST]
    assert SoundRule.H_W in DIALECT_RULES[census.WU]


def _record(
    name: TrueName,
    scenario: Scenario,
    seed: int,
    *,
    speaker: str = census.JILU,
    listener: str = census.JILU,
) -> RecordedName:
    return record_name(
        name,
        scenario,
        sex="M",
        birth_year=1970,
        speaker_dialect=speaker,
        listener_dialect=listener,
        rng=random.Random(seed),
    )


def _outputs(name: TrueName, scenario: Scenario, **kwargs: str) -> set[str | None]:
    return {_record(name, scenario, seed, **kwargs).name for seed in range(300)}


LIU = TrueName("刘", "建国", "阿国")


def test_dialect_sichuan_n_l() -> None:
    out = _outputs(LIU, Scenario.DIALECT, speaker=census.SOUTHWEST, listener=census.JILU)
    assert "牛建国" in out
    assert "刘建国" not in out


def test_dialect_fu_gui_becomes_hu_something() -> None:
    fu_gui = TrueName("付", "贵", "阿贵")
    out = _outputs(fu_gui, Scenario.DIALECT, speaker=census.SOUTHWEST, listener=census.MIN)
    assert any(n is not None and n.startswith("胡") for n in out)
    assert any(n is not None and n.endswith(("奎", "魁")) for n in out)


def test_dialect_shanghai_huang_is_wang() -> None:
    huang = TrueName("黄", "秀英", "阿英")
    assert "王秀英" in _outputs(huang, Scenario.DIALECT, speaker=census.WU, listener=census.WU)


def test_dialect_detail_names_the_rule() -> None:
    got = _record(LIU, Scenario.DIALECT, 1, speaker=census.SOUTHWEST)
    assert got.scenario is Scenario.DIALECT
    assert got.detail is not None
    for part in got.detail.split("+"):
        source, rule = part.split(":")
        assert source in {"speaker", "listener", "slip"} and SoundRule(rule)


def test_homophone_keeps_the_sound() -> None:
    index = sound_index()
    name = TrueName("王", "伟", "阿伟")
    for seed in range(50):
        got = _record(name, Scenario.HOMOPHONE, seed)
        assert got.scenario is Scenario.HOMOPHONE and got.name != "王伟"
        assert got.name is not None and len(got.name) == 2
        assert index.syllable(got.name[0], as_surname=True) == "wang"
        assert index.syllable(got.name[1]) == "wei"


def test_traditional() -> None:
    assert _record(TrueName("张", "建国", "阿国"), Scenario.TRADITIONAL, 0).name == "張建國"
    # No traditional form: recorded as exact, and labelled so.
    got = _record(TrueName("王", "一", "一一"), Scenario.TRADITIONAL, 0)
    assert (got.name, got.scenario, got.detail) == ("王一", Scenario.EXACT, "no_traditional_form")


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        (0, "Shan Zhiqiang"),
        (1, "SHAN ZHIQIANG"),
        (2, "shan zhi qiang"),
        (3, "Zhiqiang Shan"),
        (4, "shanzhiqiang"),
    ],
)
def test_pinyin_styles_read_the_surname_as_a_surname(style: int, expected: str) -> None:
    assert to_pinyin(TrueName("单", "志强", "强强"), style) == expected


def test_pinyin_compound_surname() -> None:
    assert to_pinyin(TrueName("欧阳", "修", "阿修"), 0) == "Ouyang Xiu"


def test_char_lost() -> None:
    for seed in range(20):
        got = _record(TrueName("王", "建国", "阿国"), Scenario.CHAR_LOST, seed)
        assert got.name in {"王国", "王建"}
        short = _record(TrueName("王", "伟", "阿伟"), Scenario.CHAR_LOST, seed)
        assert short.name in {"王", "伟"} and short.detail == "one_char_kept"


def test_given_only_and_exact() -> None:
    assert _record(LIU, Scenario.GIVEN_ONLY, 0).name == "建国"
    assert _record(LIU, Scenario.EXACT, 0) == RecordedName("刘建国", (), Scenario.EXACT)


def test_no_name_is_none_or_a_placeholder() -> None:
    out = _outputs(LIU, Scenario.NO_NAME)
    assert None in out
    assert out <= {None, "无名氏", "无名男"}


def test_nickname_is_mostly_the_family_one() -> None:
    got = [_record(LIU, Scenario.NICKNAME, seed) for seed in range(200)]
    family = sum(1 for g in got if g.name == "阿国")
    assert 0.7 < family / len(got) < 0.9
    assert all(g.scenario is Scenario.NICKNAME and g.name for g in got)


def test_assigned_is_a_different_name() -> None:
    for seed in range(100):
        got = _record(LIU, Scenario.ASSIGNED, seed)
        assert got.name and got.name != "刘建国"
        assert got.detail in {"station_surname", "made_up"}
        assert got.aliases in ((), ("阿国",))


@pytest.mark.parametrize(
    ("dialect", "sex", "year", "expected_any"),
    [
        (census.YUE, "M", 1970, {"阿华"}),
        (census.SOUTHWEST, "F", 1990, {"幺妹", "华娃"}),
        (census.JILU, "F", 2012, {"妞妞", "华华", "小华"}),
    ],
)
def test_nicknames_fit_the_region(
    dialect: str, sex: str, year: int, expected_any: set[str]
) -> None:
    seen = {
        make_nickname("建华", sex=sex, birth_year=year, dialect=dialect, rng=random.Random(s))
        for s in range(300)
    }
    assert seen & expected_any


names = st.builds(
    TrueName,
    st.sampled_from([s for s, _ in census.SURNAME_SHARES]),
    st.text(
        alphabet=st.sampled_from(census.GIVEN_NAME_CHARS[("M", "1980s")]), min_size=1, max_size=2
    ),
    st.sampled_from(["阿华", "小宝", "老三"]),
)


@settings(max_examples=150, deadline=None)
@given(
    names,
    st.sampled_from(list(Scenario)),
    st.sampled_from(census.DIALECT_GROUPS),
    st.sampled_from(census.DIALECT_GROUPS),
    st.integers(0, 2**32),
)
def test_record_name_properties(
    name: TrueName, scenario: Scenario, speaker: str, listener: str, seed: int
) -> None:
    got = _record(name, scenario, seed, speaker=speaker, listener=listener)
    assert got.scenario in (scenario, Scenario.EXACT)
    if got.scenario is Scenario.EXACT:
        assert got.name == name.full
    elif got.scenario in (Scenario.DIALECT, Scenario.HOMOPHONE, Scenario.TRADITIONAL):
        assert got.name is not None and got.name != name.full
        assert len(got.name) == len(name.full)
    if got.name is not None:
        assert 0 < len(got.name) <= 64
