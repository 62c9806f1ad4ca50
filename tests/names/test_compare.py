"""compare_names beyond the golden table: its fields, reasons, and argument handling."""

from __future__ import annotations

import pytest

from matching.names import NameComparison, NameLevel, compare_names


def test_reason_names_the_evidence_and_both_names() -> None:
    result = compare_names(["牛建华"], ["刘建华"], speaker_regions=["四川"])
    assert result == NameComparison(
        NameLevel.DIALECT_SPEAKER,
        "names sound alike in Sichuan speech (n/l): 牛建华 / 刘建华",
        "牛建华",
        "刘建华",
        "n_l",
        result.surname_share,
        result.given_rarity,
    )


def test_rule_ids_of_combined_rules() -> None:
    result = compare_names(["付贵"], ["胡奎"], speaker_regions=["重庆"])
    assert result.level is NameLevel.NEAR_SOUND
    assert result.rule_id == "f_hu+g_k"
    assert "f/hu" in result.reason and "g/k" in result.reason


def test_dialect_other_says_it_is_not_the_speakers_region() -> None:
    result = compare_names(["黄建华"], ["王建华"], speaker_regions=["四川"])
    assert result.level is NameLevel.DIALECT_OTHER
    assert "not the speaker's region" in result.reason
    assert result.rule_id == "h_w"


def test_left_and_right_are_the_names_that_matched() -> None:
    result = compare_names(["王小军", "阿明"], ["刘红", "张晓明"])
    assert result.level is NameLevel.NICKNAME_OR_PARTIAL
    assert (result.left, result.right) == ("阿明", "张晓明")


def test_common_surname_weighs_less_than_rare_one() -> None:
    common = compare_names(["王建华"], ["王小军"])
    rare = compare_names(["覃建华"], ["覃小军"])
    assert common.level is rare.level is NameLevel.SURNAME_ONLY
    assert common.surname_share is not None and rare.surname_share is not None
    assert common.surname_share > 10 * rare.surname_share
    assert common.given_rarity is None


def test_a_lone_character_heard_like_a_rarer_surname_weighs_as_the_commoner() -> None:
    # 张 alone against 章伟 (both zhang): the match is no rarer than 张 itself, and the
    # reason does not call the two the same character.
    written = compare_names(["张"], ["张伟"])
    heard = compare_names(["张"], ["章伟"])
    assert written.level is heard.level is NameLevel.SURNAME_ONLY
    assert heard.surname_share == written.surname_share
    assert "the same as the surname" in written.reason
    assert "reads as the surname" in heard.reason
    assert "heard like the surname" in compare_names(["张"], ["詹伟"]).reason  # zhan
    # The same against a report that knows only the surname (章某), and a core taken for
    # a surname is read as one: 王 is not also yù, so 于伟 is no namesake.
    assert compare_names(["张"], ["章某"]).surname_share == written.surname_share
    assert compare_names(["王"], ["于伟"]).level is NameLevel.DIFFERENT


def test_rare_given_name_is_worth_more_bits() -> None:
    common = compare_names(["王伟"], ["王伟"])
    rare = compare_names(["王龘"], ["王龘"])
    assert common.given_rarity is not None and rare.given_rarity is not None
    assert rare.given_rarity > common.given_rarity


def test_shares_do_not_depend_on_the_side() -> None:
    forward = compare_names(["王建华"], ["汪建华"])
    backward = compare_names(["汪建华"], ["王建华"])
    assert forward.surname_share == backward.surname_share
    assert forward.given_rarity == backward.given_rarity


@pytest.mark.parametrize(
    ("left", "right"),
    [([], ["刘建华"]), (["刘建华"], []), ([""], ["刘建华"]), ([None], ["刘建华"]), ([], [])],
)
def test_missing_names_give_null(left: list[str | None], right: list[str | None]) -> None:
    result = compare_names(left, right)
    assert result.level is NameLevel.NULL
    assert result.left is None and result.right is None


def test_no_evidence_is_null_not_different() -> None:
    result = compare_names(["老三", "狗蛋"], ["王建华"])
    assert result.level is NameLevel.NULL
    assert "say nothing" in result.reason


def test_a_bare_string_is_refused() -> None:
    with pytest.raises(TypeError, match="single string"):
        compare_names("刘建华", ["刘建华"])


def test_unknown_region_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown region"):
        compare_names(["刘建华"], ["牛建华"], speaker_regions=["火星"])


def test_regions_may_be_given_as_areas_or_accent_text() -> None:
    for regions in (["四川"], ["四川省"], ["川音"], ["西南"], ["Sichuan"]):
        result = compare_names(["牛建华"], ["刘建华"], speaker_regions=regions)
        assert result.level is NameLevel.DIALECT_SPEAKER, regions


def test_best_level_wins_over_all_pairs() -> None:
    result = compare_names(["李小军", "牛建华"], ["王五", "刘建华"], speaker_regions=["湖南"])
    assert result.level is NameLevel.DIALECT_SPEAKER
    assert (result.left, result.right) == ("牛建华", "刘建华")
