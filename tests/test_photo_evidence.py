"""Weighing a photo search's hits with the evidence model (no face model needed: the
embeddings are made at known distances)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from numpy.typing import NDArray

from matching.evidence_model import EvidenceModel
from matching.evidence_model.model import NOT_ASKED
from matching.photo_evidence import (
    PHOTO_COMPARISONS,
    PhotoQuery,
    query_found_view,
    query_missing_view,
    weigh_photo_hits,
)
from matching.views import FaceView, FoundView, MissingView
from records import InvalidRecordError, Sex, Side

TODAY = date(2026, 11, 1)
QUERY = np.zeros(128, dtype=np.float32)
QUERY[0] = 1.0


def _at(distance: float, axis: int = 1) -> NDArray[np.float32]:
    """An embedding ``distance`` from the query."""
    embedding = QUERY.copy()
    embedding[axis] = distance
    return embedding


def _report(
    ref: int, distance: float, *, birth_year: int | None = 1960, photo_year: int | None = 2020,
    photo_age: int | None = None, sex: Sex = Sex.MALE,
) -> MissingView:  # fmt: skip
    face = FaceView(face_id=ref, embedding=_at(distance, 1 + ref % 100),
                    taken_year=photo_year, age_at_photo=photo_age)  # fmt: skip
    return MissingView(id=ref, ref=f"M{ref}", names=("刘建华",), sex=sex, birth_year=birth_year,
                       missing_date=date(2021, 3, 1), missing_place="四川省南充市",
                       hometown="四川南充", faces=(face,))  # fmt: skip


def _found(ref: int, distance: float, *, ages: tuple[int, int] = (60, 70)) -> FoundView:
    face = FaceView(face_id=ref, embedding=_at(distance, 1 + ref % 100), taken_year=2024)
    return FoundView(id=ref, ref=f"F{ref}", names=("牛建华",), sex=Sex.MALE, age_min=ages[0],
                     age_max=ages[1], found_date=date(2024, 5, 1), found_place="重庆",
                     faces=(face,))  # fmt: skip


@pytest.fixture(scope="module")
def model() -> EvidenceModel:
    return EvidenceModel.default()


def test_each_term_is_the_models_own_and_only_face_sex_and_age_are_weighed(
    model: EvidenceModel,
) -> None:
    # The default model is one per process: another test may have cached a report 1.
    model.clear_cache()
    query = PhotoQuery(sex=Sex.MALE, age_min=60, age_max=70)
    report = _report(1, 0.40)
    [score] = weigh_photo_hits(model, Side.MISSING, QUERY, query, [report], today=TODAY)
    # The same pair scored the ordinary way gives the same face, sex and age terms; the
    # query, which is no stored record, is not kept in the model's cache of facts.
    cached = len(model.facts)
    plain = model.score(report, query_found_view(QUERY, query, today=TODAY))
    assert len(model.facts) == cached + 1  # the report only
    for signal in score.signals:
        if signal.signal in PHOTO_COMPARISONS:
            assert signal.weight == pytest.approx(plain.signal(signal.signal).weight)
            assert signal.level != "null"
        else:
            assert (signal.level, signal.weight, signal.detail) == ("null", 0.0, NOT_ASKED)
            assert signal.stratum is None  # type: ignore[attr-defined]
    face = score.signal("face")
    assert face.level == "close" and face.value == pytest.approx(0.40, abs=1e-6)
    assert score.signal("age").level == "within"  # born 1960: 66 now, estimated 60-70
    # Alone, the hit keeps its chance: sharing with nobody takes nothing.
    assert score.probability == pytest.approx(score.probability_alone)
    assert score.competition is not None


def test_the_age_given_reorders_hits_the_face_cannot_tell_apart(model: EvidenceModel) -> None:
    fits, too_young = _report(1, 0.45, birth_year=1960), _report(2, 0.45, birth_year=1995)
    query = PhotoQuery(age_min=60, age_max=70)
    scores = weigh_photo_hits(model, Side.MISSING, QUERY, query, [too_young, fits], today=TODAY)
    assert scores[1].signal("age").level == "within"
    assert scores[0].signal("age").level == "far"
    assert scores[1].probability > 10 * scores[0].probability
    # Without an age the two are equal: no age is no evidence, not a disagreement.
    blind = weigh_photo_hits(model, Side.MISSING, QUERY, PhotoQuery(), [too_young, fits],
                             today=TODAY)  # fmt: skip
    assert blind[0].signal("age").level == blind[1].signal("age").level == "null"
    assert blind[0].probability == pytest.approx(blind[1].probability)


def test_a_childhood_photo_says_less_than_a_recent_adult_one_at_the_same_distance(
    model: EvidenceModel,
) -> None:
    adult = _report(1, 0.38, photo_year=2020)
    child = _report(2, 0.38, birth_year=1990, photo_year=1996, photo_age=6)
    query = PhotoQuery(age_min=30, age_max=40)
    scores = weigh_photo_hits(model, Side.MISSING, QUERY, query, [adult, child], today=TODAY)
    faces = [score.signal("face") for score in scores]
    assert [f.stratum for f in faces] == ["adult_recent", "child_to_adult"]  # type: ignore[attr-defined]
    assert faces[0].level == faces[1].level == "close"
    assert faces[0].weight > faces[1].weight + 1.0


def test_hits_share_the_one_chance_the_photo_is_theirs(model: EvidenceModel) -> None:
    reports = [_report(n, 0.30 + 0.02 * n) for n in range(1, 9)]
    query = PhotoQuery(sex=Sex.MALE, age_min=60, age_max=70)
    scores = weigh_photo_hits(model, Side.MISSING, QUERY, query, reports, today=TODAY)
    assert sum(s.probability for s in scores) < 1.0
    assert all(s.probability < s.probability_alone for s in scores)
    # The order of the evidence is kept, and the closest face is the best hit here.
    finals = [s.final_weight for s in scores]
    assert finals == sorted(finals, reverse=True)
    assert scores[0].competition is not None and scores[0].competition.other_reports >= 1


def test_searching_found_persons_with_a_familys_photo(model: EvidenceModel) -> None:
    # A photo of a 30-year-old taken in 1990: born 1960, so 64 when found in 2024, and
    # the 34 years since the photo widen the tolerance as they would for a report.
    query = PhotoQuery(sex=Sex.MALE, age_min=30, age_max=30, photo_year=1990)
    view = query_missing_view(QUERY, query, today=TODAY)
    assert view.birth_year == 1960 and view.faces[0].taken_year == 1990
    assert view.missing_date == date(1990, 7, 1)
    persons = [_found(n, 0.40, ages=a) for n, a in ((1, (60, 66)), (2, (20, 25)), (3, (56, 60)))]
    scores = weigh_photo_hits(model, Side.FOUND, QUERY, query, persons, today=TODAY)
    assert [s.signal("age").level for s in scores] == ["within", "far", "near"]
    assert scores[0].signal("face").stratum == "adult_long"  # type: ignore[attr-defined]
    assert scores[0].probability > scores[2].probability > scores[1].probability
    # The family's birth year is taken as it is; a wide estimate gives none.
    known = PhotoQuery(birth_year=1958, photo_year=1990)
    assert query_missing_view(QUERY, known, today=TODAY).birth_year == 1958
    assert known.age_in_photo(Side.FOUND, TODAY) == 32
    vague = PhotoQuery(age_min=20, age_max=35, photo_year=1990)
    assert query_missing_view(QUERY, vague, today=TODAY).birth_year is None
    assert query_missing_view(QUERY, PhotoQuery(), today=TODAY).missing_date is None
    with pytest.raises(TypeError):
        weigh_photo_hits(model, Side.FOUND, QUERY, query, [_report(3, 0.4)], today=TODAY)


def test_the_photo_of_a_person_in_care_is_taken_this_year_unless_said(
    model: EvidenceModel,
) -> None:
    now = query_found_view(QUERY, PhotoQuery(age_min=8, age_max=10), today=TODAY)
    assert now.found_date == TODAY and now.faces[0].taken_year == 2026
    assert now.faces[0].age_at_photo == 9
    older = query_found_view(QUERY, PhotoQuery(photo_year=2019), today=TODAY)
    assert older.found_date == date(2019, 7, 1) and older.faces[0].age_at_photo is None
    assert PhotoQuery().year_taken(Side.MISSING, TODAY) == 2026
    assert PhotoQuery().year_taken(Side.FOUND, TODAY) is None
    # One bound alone is the age.
    alone = query_found_view(QUERY, PhotoQuery(age_max=9), today=TODAY)
    assert (alone.age_min, alone.age_max) == (9, 9)


@pytest.mark.parametrize(
    ("side", "query", "field"),
    [
        (Side.MISSING, PhotoQuery(age_min=40, age_max=30), "age_min"),
        (Side.MISSING, PhotoQuery(age_max=121), "age_max"),
        (Side.MISSING, PhotoQuery(age_min=-1), "age_min"),
        (Side.MISSING, PhotoQuery(age_min=20, age_max=90), "age_max"),  # fits nearly all
        (Side.MISSING, PhotoQuery(photo_year=2027), "photo_year"),
        (Side.MISSING, PhotoQuery(photo_year=1899), "photo_year"),
        (Side.MISSING, PhotoQuery(birth_year=1960), "birth_year"),  # care: an estimate
        (Side.FOUND, PhotoQuery(birth_year=2027), "birth_year"),
        (Side.FOUND, PhotoQuery(birth_year=1990, photo_year=1985), "photo_year"),
        (Side.FOUND, PhotoQuery(birth_year=1990, photo_year=2000, age_min=20), "birth_year"),
    ],
)
def test_a_query_that_describes_nobody_is_refused(
    model: EvidenceModel, side: Side, query: PhotoQuery, field: str
) -> None:
    with pytest.raises(InvalidRecordError) as error:
        weigh_photo_hits(model, side, QUERY, query, [], today=TODAY)
    assert error.value.field == field


def test_a_query_at_the_edges_is_taken(model: EvidenceModel) -> None:
    for side, query in [
        (Side.MISSING, PhotoQuery(age_min=50, age_max=70, photo_year=2026)),
        (Side.FOUND, PhotoQuery(birth_year=1990, photo_year=2000, age_min=9, age_max=11)),
        (Side.FOUND, PhotoQuery(birth_year=2026)),
    ]:
        query.check(side, TODAY)


def test_no_hits_no_scores_and_only_known_comparisons_can_be_asked(model: EvidenceModel) -> None:
    assert weigh_photo_hits(model, Side.MISSING, QUERY, PhotoQuery(), [], today=TODAY) == []
    report = _report(1, 0.4)
    found = query_found_view(QUERY, PhotoQuery(), today=TODAY)
    from matching.evidence_model.facts import found_facts, missing_facts

    with pytest.raises(ValueError, match="no such comparison: voice"):
        model.score_facts(missing_facts(report), found_facts(found), asked={"face", "voice"})


def test_what_an_audit_may_record_is_which_fields_were_given_not_their_values() -> None:
    assert PhotoQuery().asked() == []
    assert PhotoQuery(sex=Sex.FEMALE, age_max=9).asked() == ["sex", "age_max"]
    assert PhotoQuery(birth_year=1960).asked() == ["birth_year"]
