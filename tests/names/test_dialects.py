"""Dialect rules as data: what they fold, and where."""

from __future__ import annotations

import pytest

from matching.names import NEAR_RULES, RULES, rules_for_regions
from matching.names.dialects import RuleKind, region_groups, regions_of_rules, rule_by_id
from matching.names.folds import class_of, rule_pairs, sound_classes
from matching.names.regions import PROVINCE_NAMES


def test_every_rule_is_described_and_folds_something() -> None:
    ids = [rule.id for rule in RULES + NEAR_RULES]
    assert len(ids) == len(set(ids))
    for rule in RULES + NEAR_RULES:
        assert rule.description and rule.description_zh and rule.label
        assert rule_pairs(rule), rule.id
    for rule in RULES:
        assert rule.kind is RuleKind.DIALECT
        assert rule.regions and rule.region_set <= PROVINCE_NAMES, rule.id
        assert len(rule.regions) == len(rule.region_set), rule.id
    for rule in NEAR_RULES:
        assert rule.kind is RuleKind.NEAR and not rule.regions


@pytest.mark.parametrize(
    ("rule_id", "a", "b"),
    [
        ("n_l", "niu", "liu"), ("n_l", "nv", "lv"), ("f_hu", "fu", "hu"),
        ("f_hu", "fang", "huang"), ("f_hu", "fei", "hui"), ("f_hu", "feng", "hong"),
        ("f_hu", "fou", "hou"), ("r_y", "rui", "yu"), ("r_y", "ruo", "yue"), ("r_l", "rui", "lei"),
        ("retroflex", "zhang", "zang"),
        ("retroflex", "chen", "cen"), ("retroflex", "shi", "si"), ("en_eng", "chen", "cheng"),
        ("en_eng", "lin", "ling"), ("an_ang", "pan", "pang"), ("an_ang", "jian", "jiang"),
        ("r_y", "ren", "yin"), ("r_y", "rou", "you"), ("r_l", "re", "le"),
        ("r_l", "rong", "long"), ("h_w", "huang", "wang"), ("h_w", "hu", "wu"),
        ("he_hu", "he", "hu"), ("g_k", "gui", "kui"), ("d_t", "du", "tu"),
        ("b_p", "bai", "pai"), ("j_q_x", "jiang", "qiang"), ("i_v", "li", "lv"),
    ],
)  # fmt: skip
def test_rule_folds(rule_id: str, a: str, b: str) -> None:
    classes = sound_classes(frozenset((rule_id,)))
    assert class_of(classes, a) == class_of(classes, b)


def test_rules_only_fold_what_they_say() -> None:
    classes = sound_classes(frozenset(("n_l",)))
    assert class_of(classes, "niu") != class_of(classes, "miu")


def test_where_rules_apply() -> None:
    assert {"n_l", "f_hu", "retroflex", "en_eng", "r_l"} <= rules_for_regions(frozenset(("四川",)))
    assert "h_w" in rules_for_regions(frozenset(("上海",)))
    assert "h_w" in rules_for_regions(frozenset(("广东",)))
    assert rules_for_regions(frozenset(("黑龙江",))) >= {"r_y", "retroflex"}
    assert "n_l" not in rules_for_regions(frozenset(("北京",)))
    assert rules_for_regions(frozenset()) == frozenset()


def test_region_groups_cover_every_province() -> None:
    groups = region_groups()
    for province in PROVINCE_NAMES:
        rules = rules_for_regions(frozenset((province,)))
        assert any(rules <= group for group in groups), province


def test_regions_of_rules() -> None:
    assert "四川" in regions_of_rules(["n_l", "r_l"])
    assert "上海" not in regions_of_rules(["n_l", "r_l"])
    assert set(regions_of_rules(["g_k"])) == PROVINCE_NAMES  # near-sounds apply everywhere
    assert regions_of_rules(["n_l"])[0] == "四川"  # most typical first
    assert rule_by_id("n_l").label == "n/l"
