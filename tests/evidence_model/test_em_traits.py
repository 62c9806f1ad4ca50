"""Marks and conditions read as phrases."""

from __future__ import annotations

import pytest

from matching.evidence_model.traits import (
    Condition,
    Mark,
    conditions_agree,
    mark_share,
    read_conditions,
    read_marks,
)

MARK_READINGS = [
    ("右臂有疤", {Mark("scar", "arm", "right")}),
    ("右手臂有伤疤", {Mark("scar", "arm", "right")}),
    ("右侧面部有痣", {Mark("mole", "face", "right")}),
    ("左手缺一指", {Mark("missing_finger", "hand", "left")}),
    ("头顶秃", {Mark("bald")}),
    ("走路一瘸一拐", {Mark("limp")}),
    ("右臂有疤，左手缺指", {Mark("scar", "arm", "right"), Mark("missing_finger", "hand", "left")}),
    ("身上有疤", {Mark("scar")}),
    ("个子不高", set()),
]


@pytest.mark.parametrize(("text", "marks"), MARK_READINGS)
def test_read_marks(text: str, marks: set[Mark]) -> None:
    assert read_marks([text]) == marks


CONDITION_READINGS = [
    ("阿尔茨海默病", {Condition("dementia", "cognitive")}),
    ("老年痴呆", {Condition("dementia", "cognitive")}),
    ("哑巴", {Condition("deaf_mute", "speech_hearing")}),
    ("聋哑人", {Condition("deaf_mute", "speech_hearing")}),
    ("智力障碍，癫痫", {Condition("intellectual", "intellectual"),
                       Condition("epilepsy", "neurological")}),
    ("身体健康", set()),
]  # fmt: skip


@pytest.mark.parametrize(("text", "conditions"), CONDITION_READINGS)
def test_read_conditions(text: str, conditions: set[Condition]) -> None:
    assert read_conditions([text]) == conditions


def test_rarity_and_agreement() -> None:
    assert mark_share(Mark("missing_finger", "hand", "left")) < mark_share(Mark("scar"))
    assert conditions_agree(Condition("schizophrenia", "mental"), Condition("mental", "mental"))
    assert not conditions_agree(
        Condition("dementia", "cognitive"), Condition("intellectual", "intellectual")
    )
