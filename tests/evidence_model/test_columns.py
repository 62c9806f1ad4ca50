"""The columnar scorer gives the per-pair scorer's outcomes and weights, pair for pair.

Every check runs the live per-pair scorer (``EvidenceModel.outcomes`` and
``total_weight``) on the same pairs, so a change to a comparison that the columns do not
follow fails here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from evaluation.population import generate_population
from evaluation.population_faces import with_faces
from evaluation.population_views import views_from_rows
from matching.evidence_model import EvidenceModel
from matching.evidence_model.columns import BlockOutcomes, ColumnarScorer
from matching.views import FaceView, FoundView, MissingView
from records import Sex
from tests.evidence_model.conftest import along

Views = tuple[list[MissingView], list[FoundView]]


def _per_pair(
    model: EvidenceModel,
    missing: Sequence[MissingView],
    found: Sequence[FoundView],
    i: NDArray[np.int64],
    j: NDArray[np.int64],
) -> tuple[BlockOutcomes, NDArray[np.float64]]:
    """The per-pair scorer's outcomes and total weights of pairs (i[k], j[k])."""
    levels, strata, tf, weights = [], [], [], []
    for a, b in zip(i.tolist(), j.tolist(), strict=True):
        outcomes = model.outcomes(missing[a], found[b])
        levels.append([o.level for o in outcomes])
        strata.append([o.stratum for o in outcomes])
        tf.append([math.nan if o.term_frequency is None else o.term_frequency for o in outcomes])
        weights.append(model.total_weight(missing[a], found[b]))
    c = len(model.comparisons)
    block = BlockOutcomes(
        np.asarray(levels, dtype=np.int16).reshape(-1, c),
        np.asarray(strata, dtype=np.int16).reshape(-1, c),
        np.asarray(tf, dtype=np.float64).reshape(-1, c),
    )
    return block, np.asarray(weights, dtype=np.float64)


def _columnar(
    model: EvidenceModel,
    missing: Sequence[MissingView],
    found: Sequence[FoundView],
    i: NDArray[np.int64],
    j: NDArray[np.int64],
) -> tuple[BlockOutcomes, NDArray[np.float64]]:
    scorer = ColumnarScorer(model)
    columns = scorer.missing_columns(missing), scorer.found_columns(found)
    return scorer.outcomes(*columns, i, j), scorer.total_weights(*columns, i, j)


def _assert_same(
    model: EvidenceModel,
    missing: Sequence[MissingView],
    found: Sequence[FoundView],
    i: NDArray[np.int64],
    j: NDArray[np.int64],
    columnar: tuple[BlockOutcomes, NDArray[np.float64]] | None = None,
) -> None:
    """Columnar and per-pair agree on every pair and comparison (a message names the
    first few pairs that do not)."""
    got, weights = columnar or _columnar(model, missing, found, i, j)
    want, want_weights = _per_pair(model, missing, found, i, j)
    names = [c.name for c in model.comparisons]
    for part in ("levels", "strata"):
        wrong = np.argwhere(getattr(got, part) != getattr(want, part))
        assert not len(wrong), [
            (missing[i[k]].ref, found[j[k]].ref, names[c], int(getattr(got, part)[k, c]),
             int(getattr(want, part)[k, c]))
            for k, c in wrong[:5]
        ]  # fmt: skip
    np.testing.assert_array_equal(got.term_frequency, want.term_frequency)  # NaN == NaN here
    np.testing.assert_allclose(weights, want_weights, rtol=0, atol=1e-9)


Population = tuple[list[MissingView], list[FoundView], list[tuple[int, int]]]
Scored = tuple[NDArray[np.int64], NDArray[np.int64], tuple[BlockOutcomes, NDArray[np.float64]]]


@pytest.fixture(scope="module")
def population() -> Population:
    """A generated population with synthetic faces, and its true pairs as row indices."""
    pop = generate_population(
        seed=19, n_missing=400, n_found=100, n_true_pairs=80, today=date(2026, 11, 1)
    )
    missing, found = with_faces(*views_from_rows(pop.missing, pop.found), pop.truth, seed=19)
    row_m = {v.ref: r for r, v in enumerate(missing)}
    row_f = {v.ref: r for r, v in enumerate(found)}
    truth = [(row_m[p.missing_ref], row_f[p.found_ref]) for p in pop.truth]
    return missing, found, truth


@pytest.fixture(scope="module")
def scored(population: Population) -> Scored:
    """Every pair of the first 150 reports, then every true pair (most reports lie
    beyond), scored by the columns."""
    missing, found, truth = population
    i, j = np.divmod(np.arange(150 * len(found), dtype=np.int64), len(found))
    true_i, true_j = np.asarray(truth, dtype=np.int64).T
    i, j = np.concatenate([i, true_i]), np.concatenate([j, true_j])
    return i, j, _columnar(EvidenceModel.default(), missing, found, i, j)


def test_a_population_scores_as_pair_by_pair(
    default_model: EvidenceModel, population: Population, scored: Scored
) -> None:
    missing, found, _ = population
    i, j, columnar = scored
    _assert_same(default_model, missing, found, i, j, columnar)


def test_the_population_reaches_the_edges_it_should(
    default_model: EvidenceModel, population: Population, scored: Scored
) -> None:
    """The population test is only as good as what it covers: faces in several strata,
    children grown up away, dates in both orders."""
    missing, found, _ = population
    block = scored[2][0]
    names = [c.name for c in default_model.comparisons]
    face, time, place = names.index("face"), names.index("time"), names.index("place")
    assert len(set(block.strata[block.levels[:, face] > 0, face].tolist())) >= 4
    assert len(set(block.levels[:, face].tolist())) >= 6
    assert {2, 7} <= set(block.levels[:, time].tolist())  # found before the missing date
    assert 2 in set(block.strata[:, place].tolist())  # grew up away
    assert any(len(v.faces) > 1 for v in missing) and any(len(v.faces) > 1 for v in found)


def _face(vector: NDArray[np.float32], *, year: int | None = None, age: int | None = None,
          face_id: int = 0, poor: bool = False) -> FaceView:  # fmt: skip
    return FaceView(face_id=face_id, embedding=vector, taken_year=year, age_at_photo=age,
                    poor=poor)  # fmt: skip


def _mixed(direction: int, length: float) -> NDArray[np.float32]:
    """A vector off the axes, so distances are sums of many unequal squares."""
    vector: NDArray[np.float32] = np.linspace(0.0, 0.05, 128, dtype=np.float32)
    return vector + along(direction, length).astype(np.float32)


CHILD_FACE = _face(along(0, 0.0), year=2001, age=6)
SAME_FACE_ADULT = _face(along(0, 0.0), year=2020, age=30)
EDGE_FACE = _face(along(0, 0.36), year=2020)  # float32(0.36) sits just above the edge 0.36

# (description, report fields, found-person fields). Every report is scored against every
# found person, so each case also meets the others' opposite sides.
CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("everything unknown", {}, {}),
    (
        "a rich report against a bare found person",
        {
            "names": ("覃建华", "阿华"),
            "sex": Sex.MALE,
            "birth_year": 1960,
            "missing_date": date(2024, 3, 1),
            "missing_place": "四川省南充市",
            "hometown": "四川省南充市",
            "dialect": "西南官话",
            "height_cm": 168.0,
            "features": ("左手缺指", "右臂有疤"),
            "health": ("阿尔茨海默病",),
        },
        {
            "names": ("覃建华",),
            "sex": Sex.MALE,
            "age_min": 60,
            "age_max": 66,
            "found_date": date(2024, 3, 9),
            "found_place": "四川南充火车站",
            "accent": "四川口音",
            "height_cm": 167.0,
            "features": ("左手缺一指",),
            "health": ("老年痴呆",),
        },
    ),
    (
        "a child grown up away, with childhood photos and photos of unknown year",
        {
            "names": ("李小明",),
            "sex": Sex.MALE,
            "birth_year": 1995,
            "missing_date": date(2001, 6, 1),
            "missing_place": "贵州省毕节市",
            "hometown": "贵州毕节",
            "height_cm": 115.0,
            "faces": (CHILD_FACE, _face(_mixed(3, 0.2), age=5)),
        },
        {
            "names": ("李明",),
            "sex": Sex.MALE,
            "age_min": 25,
            "age_max": 32,
            "found_date": date(2023, 5, 2),
            "found_place": "广东省东莞市",
            "accent": "广东口音",
            "height_cm": 172.0,
            "faces": (_face(_mixed(3, 0.55)), SAME_FACE_ADULT, _face(_mixed(5, 0.1), age=28)),
        },
    ),
    (
        "places known only to their province; found before the missing date",
        {
            "sex": Sex.FEMALE,
            "birth_year": 1950,
            "missing_date": date(2022, 1, 20),
            "missing_place": "四川",
            "hometown": "四川",
            "health": ("聋哑",),
            "height_cm": 150.0,
        },
        {
            "sex": Sex.UNKNOWN,
            "age_min": 70,
            "found_date": date(2022, 1, 5),
            "found_place": "四川省",
            "hometown": "四川",
            "health": ("聋哑", "精神异常"),
            "height_cm": 147.0,
        },
    ),
    (
        "found long before the missing date; only the upper age bound; unknown sex",
        {
            "sex": Sex.UNKNOWN,
            "birth_year": 1980,
            "missing_date": date(2015, 8, 1),
            "missing_place": "北京市朝阳区",
            "features": ("左脸有痣",),
            "height_cm": 160.0,
        },
        {
            "sex": Sex.FEMALE,
            "age_max": 40,
            "found_date": date(2012, 2, 2),
            "found_place": "河北省保定市",
            "features": ("脸上有痣", "右手有疤"),
            "height_cm": 161.0,
        },
    ),
    (
        "several faces a side, tied at the same distance with different ages",
        {"faces": (SAME_FACE_ADULT, CHILD_FACE, _face(_mixed(7, 0.3), year=2010))},
        {
            "faces": (
                _face(along(0, 0.0), year=2002, age=7),
                EDGE_FACE,
                _face(_mixed(7, 0.31), age=40),
            )
        },
    ),
    (
        "born after the found date; an elderly person who has shrunk",
        {"sex": Sex.MALE, "birth_year": 2030, "missing_date": date(2019, 1, 1), "height_cm": 170.0},
        {
            "sex": Sex.MALE,
            "age_min": 75,
            "age_max": 85,
            "found_date": date(2024, 1, 1),
            "height_cm": 160.0,
        },
    ),
    (
        "a young child found within a month, nearby",
        {
            "sex": Sex.FEMALE,
            "birth_year": 2020,
            "missing_date": date(2024, 6, 1),
            "missing_place": "湖南省长沙市岳麓区",
            "height_cm": 100.0,
            "dialect": "湘语",
        },
        {
            "sex": Sex.FEMALE,
            "age_min": 3,
            "age_max": 5,
            "found_date": date(2024, 6, 20),
            "found_place": "湖南省长沙市天心区",
            "height_cm": 103.0,
            "accent": "湖南口音",
        },
    ),
]


def test_hand_made_edge_cases_score_as_pair_by_pair(
    default_model: EvidenceModel,
    make_missing: Callable[..., MissingView],
    make_found: Callable[..., FoundView],
) -> None:
    missing = [make_missing(**m) for _, m, _ in CASES]
    found = [make_found(**f) for _, _, f in CASES]
    i, j = np.divmod(np.arange(len(missing) * len(found), dtype=np.int64), len(found))
    _assert_same(default_model, missing, found, i, j)


def test_shuffled_and_repeated_rows_weigh_as_pair_by_pair(
    default_model: EvidenceModel, population: Population
) -> None:
    missing, found, _ = population
    rng = np.random.default_rng(19)
    i = rng.integers(0, len(missing), 3_000)
    j = rng.integers(0, len(found), 3_000)
    i[:500], j[:500] = i[0], j[0]  # one pair many times
    scorer = ColumnarScorer(default_model)
    columns = scorer.missing_columns(missing), scorer.found_columns(found)
    weights = scorer.total_weights(*columns, i, j)
    want = [default_model.total_weight(missing[a], found[b]) for a, b in zip(i, j, strict=True)]
    np.testing.assert_allclose(weights, want, rtol=0, atol=1e-9)
    order = rng.permutation(len(i))
    np.testing.assert_array_equal(scorer.total_weights(*columns, i[order], j[order]),
                                  weights[order])  # fmt: skip
    block, shuffled = (scorer.outcomes(*columns, i, j),
                       scorer.outcomes(*columns, i[order], j[order]))  # fmt: skip
    for part in ("levels", "strata", "term_frequency"):
        np.testing.assert_array_equal(getattr(block, part)[order], getattr(shuffled, part))


GAPS = (-31, -30, -29, -1, 0, 1, 30, 31, 32, 365, 366, 1825, 1826, 1827, 5475, 5476)
"""Days from going missing to being found, on each side of every edge (time's levels, a
month for the place's "soon", five years and a quarter for growing up away)."""


def test_gaps_on_each_side_of_every_edge_score_as_pair_by_pair(
    default_model: EvidenceModel,
    make_missing: Callable[..., MissingView],
    make_found: Callable[..., FoundView],
) -> None:
    lost = date(2010, 3, 1)
    missing = [
        make_missing(birth_year=2004, missing_date=lost, missing_place="四川省成都市",
                     hometown="四川", height_cm=110.0),
        make_missing(birth_year=1980, missing_date=lost, missing_place="四川", dialect="四川话",
                     height_cm=170.0),
    ]  # fmt: skip
    found = [
        make_found(age_min=low, age_max=low + 2, found_date=lost + timedelta(days=gap),
                   found_place="四川省成都市", accent="广东口音", height_cm=160.0)
        for gap in GAPS
        for low in (4, 26, 28, 35)  # around the implied ages: on, near and past a tolerance
    ]  # fmt: skip
    i, j = np.divmod(np.arange(len(missing) * len(found), dtype=np.int64), len(found))
    _assert_same(default_model, missing, found, i, j)


def test_pairs_handed_back_to_the_comparisons_score_the_same(
    default_model: EvidenceModel, population: Population, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pairs near an edge are asked of the comparison itself; asking it about every pair
    that went through a haversine, a hypot or a face distance gives the same outcomes."""
    monkeypatch.setattr("matching.evidence_model.columns.simple.KM_GUARD", 1e9)
    monkeypatch.setattr("matching.evidence_model.columns.simple.Z_GUARD", 1e9)
    monkeypatch.setattr("matching.evidence_model.columns.face_pairs.FACE_GUARD", 1e9)
    missing, found, truth = population
    i, j = np.asarray(truth[:40], dtype=np.int64).T
    i, j = np.concatenate([i, np.arange(40)]), np.concatenate([j, np.arange(40) % len(found)])
    _assert_same(default_model, missing, found, i, j)


@pytest.mark.parametrize("dense", [0, 10**9], ids=["differences", "products"])
def test_both_ways_of_measuring_faces_score_the_same(
    default_model: EvidenceModel,
    population: Population,
    make_missing: Callable[..., MissingView],
    make_found: Callable[..., FoundView],
    monkeypatch: pytest.MonkeyPatch,
    dense: int,
) -> None:
    """Face distances come from float32 differences or from a matrix product, by how dense
    the block is; either way the outcomes are the per-pair scorer's."""
    monkeypatch.setattr("matching.evidence_model.columns.face_pairs.DENSE_A_FACE_PAIR", dense)
    missing, found, truth = population
    with_faces = [r for r, v in enumerate(missing) if v.faces][:30]
    i, j = np.divmod(np.arange(len(with_faces) * len(found), dtype=np.int64), len(found))
    true_i, true_j = np.asarray(truth, dtype=np.int64).T
    i = np.concatenate([np.asarray(with_faces, dtype=np.int64)[i], true_i])
    _assert_same(default_model, missing, found, i, np.concatenate([j, true_j]))
    cases_m = [make_missing(**m) for _, m, _ in CASES]
    cases_f = [make_found(**f) for _, _, f in CASES]
    i, j = np.divmod(np.arange(len(CASES) ** 2, dtype=np.int64), len(CASES))
    _assert_same(default_model, cases_m, cases_f, i, j)


_DAYS = st.one_of(st.none(), st.dates(min_value=date(1990, 1, 1), max_value=date(2026, 10, 1)))
_PLACES = st.sampled_from([None, "四川", "四川省成都市", "四川省绵阳市", "重庆市", "北京市",
                           "广东省东莞市", "贵州省毕节市", "新疆乌鲁木齐", "大山里"])  # fmt: skip
_HEIGHTS = st.one_of(st.none(), st.floats(60, 200).map(lambda h: round(h * 2) / 2))
_SEXES = st.sampled_from(list(Sex))


@st.composite
def _pairs(draw: st.DrawFn) -> tuple[MissingView, FoundView]:
    low = draw(st.one_of(st.none(), st.integers(0, 95)))
    high = draw(st.one_of(st.none(), st.integers(low or 0, 100)))
    ages = st.one_of(st.none(), st.integers(0, 90))
    years = st.one_of(st.none(), st.integers(1980, 2026))

    def faces() -> tuple[FaceView, ...]:
        n = draw(st.integers(0, 2))
        return tuple(
            _face(along(draw(st.integers(0, 2)), draw(st.sampled_from([0.0, 0.36, 0.5, 0.9]))),
                  year=draw(years), age=draw(ages), poor=draw(st.booleans()))
            for _ in range(n)
        )  # fmt: skip

    missing = MissingView(
        id=1, ref="M", sex=draw(_SEXES), birth_year=draw(st.one_of(st.none(),
        st.integers(1930, 2026))), missing_date=draw(_DAYS), missing_place=draw(_PLACES),
        height_cm=draw(_HEIGHTS), faces=faces(),
    )  # fmt: skip
    found = FoundView(
        id=1, ref="F", sex=draw(_SEXES), age_min=low, age_max=high, found_date=draw(_DAYS),
        found_place=draw(_PLACES), height_cm=draw(_HEIGHTS), faces=faces(),
    )  # fmt: skip
    return missing, found


@settings(max_examples=200, deadline=None)
@given(pair=_pairs())
def test_any_pair_of_numbers_dates_places_and_faces_scores_as_pair_by_pair(
    pair: tuple[MissingView, FoundView],
) -> None:
    missing, found = pair
    one = np.zeros(1, dtype=np.int64)
    # Every example's records have id 1: the model's cache of facts takes each new view.
    _assert_same(EvidenceModel.default(), [missing], [found], one, one)


def test_a_model_with_a_comparison_the_columns_do_not_know_is_refused(
    default_model: EvidenceModel,
) -> None:
    class Unknown:
        name = "unknown"

    comparisons: Any = (*default_model.comparisons, Unknown())
    model: Any = type("Model", (), {"comparisons": comparisons, "tables": ()})()
    with pytest.raises(ValueError, match="unknown"):
        ColumnarScorer(model)


def test_rows_outside_the_columns_are_refused(
    default_model: EvidenceModel,
    make_missing: Callable[..., MissingView],
    make_found: Callable[..., FoundView],
) -> None:
    scorer = ColumnarScorer(default_model)
    missing = scorer.missing_columns([make_missing()])
    found = scorer.found_columns([make_found(), make_found()])
    rows = np.zeros(1, dtype=np.int64)
    with pytest.raises(ValueError, match="0..1"):
        scorer.outcomes(missing, found, rows, rows + 2)
    with pytest.raises(ValueError, match="0..0"):
        scorer.outcomes(missing, found, rows - 1, rows)
    with pytest.raises(ValueError, match="1 report rows but 2 found rows"):
        scorer.outcomes(missing, found, rows, np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError, match="integer"):
        scorer.outcomes(missing, found, rows.astype(np.float64), rows)
    empty = np.zeros(0, dtype=np.int64)
    assert scorer.outcomes(missing, found, empty, empty).levels.shape == (0, 10)
