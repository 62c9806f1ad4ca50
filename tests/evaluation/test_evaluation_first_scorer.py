"""The first scorer's comparisons and weights, table-driven."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from evaluation.first_attributes import AgeLevel, SexLevel, compare_age, compare_sex
from evaluation.first_faces import min_face_distance
from evaluation.first_scorer import face_evidence, score_pair
from evaluation.simple_names import SimpleNameLevel, compare_simple
from matching.evidence import likelihood_sentence
from matching.views import FaceView, FoundView, MissingView
from records import Sex


@pytest.mark.parametrize(
    ("left", "right", "level", "why"),
    [
        (["刘建华"], ["刘建华"], SimpleNameLevel.EXACT, "same characters"),
        (["劉建華"], ["刘建華"], SimpleNameLevel.SAME_PINYIN, "traditional 劉 reads like 刘"),
        (["张丽"], ["张莉"], SimpleNameLevel.SAME_PINYIN, "homophone given name"),
        (["Liu Jianhua"], ["刘建华"], SimpleNameLevel.SAME_PINYIN, "typed pinyin"),
        (["刘建华"], ["牛建华"], SimpleNameLevel.SIMILAR, "one syllable differs"),
        (["建华"], ["刘建华"], SimpleNameLevel.GIVEN_NAME, "given name only"),
        (["陈国栋"], ["李国栋"], SimpleNameLevel.GIVEN_NAME, "other surname, same given"),
        (["王伟"], ["王芳"], SimpleNameLevel.SURNAME_ONLY, "surname only"),
        (["付贵"], ["胡奎"], SimpleNameLevel.DIFFERENT, "no dialect knowledge yet"),
        ([], ["刘建华"], SimpleNameLevel.NULL, "no name is no evidence"),
        (["陈国栋", "二娃"], ["二娃"], SimpleNameLevel.EXACT, "aliases take part"),
    ],
)
def test_simple_name_levels(
    left: list[str], right: list[str], level: SimpleNameLevel, why: str
) -> None:
    assert compare_simple(left, right).level is level, why
    assert compare_simple(right, left).level is level, "symmetric"


@pytest.mark.parametrize(
    ("birth", "low", "high", "found", "level"),
    [
        (1962, 58, 66, date(2024, 5, 1), AgeLevel.WITHIN),
        (1962, 63, 70, date(2024, 5, 1), AgeLevel.NEAR),
        (1962, 40, 50, date(2024, 5, 1), AgeLevel.FAR),
        (1962, 66, 70, date(2024, 5, 1), AgeLevel.OFF),
        (None, 58, 66, date(2024, 5, 1), AgeLevel.NULL),
        (1962, None, None, date(2024, 5, 1), AgeLevel.NULL),
        (1962, 62, None, date(2024, 5, 1), AgeLevel.WITHIN),
    ],
)
def test_age_levels(
    birth: int | None, low: int | None, high: int | None, found: date, level: AgeLevel
) -> None:
    assert compare_age(birth, low, high, found).level is level


def test_sex_levels() -> None:
    assert compare_sex(Sex.MALE, Sex.MALE) is SexLevel.SAME
    assert compare_sex(Sex.MALE, Sex.FEMALE) is SexLevel.DIFFERENT
    assert compare_sex(Sex.UNKNOWN, Sex.FEMALE) is SexLevel.NULL


@pytest.mark.parametrize(
    ("distance", "level"),
    [(None, "null"), (0.3, "very_close"), (0.45, "close"), (0.55, "near"), (0.65, "far"),
     (0.9, "very_far")],
)  # fmt: skip
def test_face_levels(distance: float | None, level: str) -> None:
    assert face_evidence(distance).level == level


def test_min_face_distance() -> None:
    a = np.zeros((2, 128), np.float32)
    b = np.ones((1, 128), np.float32)
    b[0, :] = 0.0
    b[0, 0] = 0.5
    assert min_face_distance(a, b) == pytest.approx(0.5)
    assert min_face_distance(a, np.zeros((0, 128), np.float32)) is None


def test_a_true_pair_outscores_a_stranger() -> None:
    face = np.full(128, 0.05, np.float32)
    report = MissingView(id=1, ref="M1", names=("刘建华",), sex=Sex.MALE, birth_year=1962,
                         faces=(FaceView(face_id=1, embedding=face),))  # fmt: skip
    found = FoundView(id=1, ref="F1", names=("牛建华",), sex=Sex.MALE, age_min=58, age_max=66,
                      found_date=date(2024, 5, 1),
                      faces=(FaceView(face_id=2, embedding=face + 0.02),))  # fmt: skip
    stranger = FoundView(id=2, ref="F2", names=("王芳",), sex=Sex.FEMALE, age_min=20, age_max=25,
                         found_date=date(2024, 5, 1))  # fmt: skip
    good, bad = score_pair(report, found), score_pair(report, stranger)
    assert good.total_weight > bad.total_weight
    assert {s.signal for s in good.signals} == {"face", "name", "sex", "age"}
    assert good.total_weight == pytest.approx(good.prior_weight + good.evidence_weight)
    assert 0.0 < bad.probability < good.probability < 1.0
    payload = good.to_json()
    assert payload["signals"][0]["signal"] == "face" and "summary" in payload


@pytest.mark.parametrize(
    ("weight", "text"),
    [(0.0, "neither"), (5.32, "about 40 times more likely the same person"),
     (-3.0, "about 8 times more likely different people")],
)  # fmt: skip
def test_likelihood_sentences(weight: float, text: str) -> None:
    assert text in likelihood_sentence(weight)
