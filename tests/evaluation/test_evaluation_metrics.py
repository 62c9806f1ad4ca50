"""Metrics against hand-computed cases, and properties that must hold for any input."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evaluation.metrics import (
    CalibrationBin,
    PrecisionRecallCurve,
    RecallAtK,
    calibration_table,
    expected_calibration_error,
    first_true_rank,
    group_keys,
    precision_recall_curve,
    recall_at_k,
    recall_at_k_by,
    recall_at_threshold_by,
    workload_at_recall,
)

# ---------------------------------------------------------------------------------------
# recall@k
# ---------------------------------------------------------------------------------------

RANKINGS = {"a": ["x", "y", "z"], "b": ["p", "q"], "c": [], "e": ["t", "u", "v", "w"]}
TRUTH = {"a": {"y"}, "b": {"r"}, "c": {"s"}, "d": set(), "e": {"w", "u"}}


def test_recall_at_k_hand_computed() -> None:
    # a: first true at rank 2; b: true never ranked; c: empty ranking; d: no true answer
    # (left out); e: two true answers, the first at rank 2. Answerable: a, b, c, e; hits
    # at k=1: none; at k=2 and k=3: a and e.
    assert recall_at_k(RANKINGS, TRUTH, ks=(1, 2, 3)) == {1: 0.0, 2: 0.5, 3: 0.5}


def test_recall_at_k_counts_queries_missing_from_rankings_as_misses() -> None:
    assert recall_at_k({}, {"a": {"x"}}, ks=(1,)) == {1: 0.0}
    assert recall_at_k({"a": ["x"]}, {"a": {"x"}, "b": {"y"}}, ks=(1,)) == {1: 0.5}


def test_recall_at_k_default_ks() -> None:
    ranking = [f"c{i}" for i in range(60)]
    result = recall_at_k({"q": ranking}, {"q": {"c49"}})
    assert result == {1: 0.0, 5: 0.0, 10: 0.0, 50: 1.0}


def test_recall_at_k_empty_is_nan() -> None:
    result = recall_at_k({"a": ["x"]}, {"a": set()}, ks=(1, 5))
    assert set(result) == {1, 5}
    assert all(math.isnan(v) for v in result.values())
    report = RecallAtK.from_rankings({}, {}, ks=(1,))
    assert report.n_queries == 0 and math.isnan(report.recall[1])


@pytest.mark.parametrize("ks", [(), (0,), (-1, 5), (1.5,), (True,)])
def test_recall_at_k_rejects_bad_ks(ks: tuple[object, ...]) -> None:
    with pytest.raises(ValueError, match="k"):
        recall_at_k({"a": ["x"]}, {"a": {"x"}}, ks=ks)  # type: ignore[arg-type]


def test_recall_at_k_report_keeps_query_count() -> None:
    report = RecallAtK.from_rankings(RANKINGS, TRUTH, ks=(2,))
    assert report == RecallAtK(n_queries=4, recall={2: 0.5})


def test_first_true_rank() -> None:
    assert first_true_rank(["a", "b", "c"], {"c", "b"}) == 2
    assert first_true_rank(["a"], {"z"}) is None
    assert first_true_rank([], {"z"}) is None


# ---------------------------------------------------------------------------------------
# precision / recall over a threshold, and reviewer workload
# ---------------------------------------------------------------------------------------

# Five scored pairs, a tie at 0.8, and four true pairs in all: one was never scored.
SCORES = [0.5, 0.8, 0.9, 0.1, 0.8]
LABELS = [False, True, True, True, False]
N_POS = 4


def test_precision_recall_curve_hand_computed_with_ties() -> None:
    curve = precision_recall_curve(SCORES, LABELS, N_POS)
    got = [(p.threshold, p.n_selected, p.n_true, p.precision, p.recall) for p in curve.points]
    assert got == [
        (0.9, 1, 1, 1.0, 0.25),
        (0.8, 3, 2, 2 / 3, 0.5),  # both 0.8 pairs are selected together
        (0.5, 4, 2, 0.5, 0.5),
        (0.1, 5, 3, 0.6, 0.75),  # the unscored true pair keeps recall below 1
    ]
    assert curve.n_positives_total == N_POS


def test_precision_recall_at_threshold() -> None:
    curve = PrecisionRecallCurve.from_scores(SCORES, LABELS, N_POS)
    assert curve.at_threshold(0.95) is None
    point = curve.at_threshold(0.85)
    assert point is not None and point.threshold == 0.9
    point = curve.at_threshold(0.8)
    assert point is not None and (point.n_selected, point.n_true) == (3, 2)
    point = curve.at_threshold(0.0)
    assert point is not None and point.n_selected == 5


def test_precision_recall_point_f1() -> None:
    point = precision_recall_curve(SCORES, LABELS, N_POS).points[1]
    assert point.f1 == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    nothing = precision_recall_curve([0.3], [False], 1).points[0]
    assert nothing.f1 == 0.0


def test_precision_recall_curve_empty_and_no_positives() -> None:
    assert precision_recall_curve([], [], 0).points == ()
    assert precision_recall_curve([], [], 3).points == ()
    (point,) = precision_recall_curve([0.2], [False], 0).points
    assert point.precision == 0.0 and math.isnan(point.recall) and math.isnan(point.f1)


@pytest.mark.parametrize(
    ("scores", "labels", "n_pos", "message"),
    [
        ([0.1, 0.2], [True], 1, "labels"),
        ([math.nan], [True], 1, "NaN"),
        ([0.1, 0.2], [True, True], 1, "n_positives_total"),
    ],
)
def test_precision_recall_curve_rejects_bad_input(
    scores: list[float], labels: list[bool], n_pos: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        precision_recall_curve(scores, labels, n_pos)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (0.25, 1.0),  # the top pair alone
        (0.3, 1.5),  # needs 2 of 4: read to the 0.8 tie, 3 candidates for 2 pairs
        (0.5, 1.5),
        (0.75, 5 / 3),  # everything: 5 candidates for 3 pairs
        (1.0, None),  # one true pair was never scored
    ],
)
def test_workload_at_recall(target: float, expected: float | None) -> None:
    assert workload_at_recall(SCORES, LABELS, N_POS, target) == expected


def test_workload_float_targets_do_not_overshoot() -> None:
    # 0.7 * 10 is 7.000000000000001 in floating point: seven pairs must be enough.
    scores = [1.0 - i / 100 for i in range(10)]
    labels = [True] * 7 + [False] * 3
    assert workload_at_recall(scores, labels, 10, 0.7) == 1.0


def test_workload_unreachable_and_empty() -> None:
    assert workload_at_recall([], [], 0, 0.5) is None
    assert workload_at_recall([], [], 5, 0.5) is None
    assert workload_at_recall([0.9, 0.1], [False, False], 2, 0.5) is None


@pytest.mark.parametrize("target", [0.0, -0.1, 1.01, math.nan])
def test_workload_rejects_bad_target(target: float) -> None:
    with pytest.raises(ValueError, match="target_recall"):
        workload_at_recall(SCORES, LABELS, N_POS, target)


# ---------------------------------------------------------------------------------------
# calibration
# ---------------------------------------------------------------------------------------


def test_calibration_quantile_hand_computed() -> None:
    probs = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    labels = [False, False, True, False, False, True, True, False, True, True]
    low, high = calibration_table(probs, labels, bins=2)
    assert (low.lo, low.hi, low.count) == (0.1, 0.5, 5)
    assert low.mean_predicted == pytest.approx(0.3)
    assert low.observed_share == pytest.approx(0.2)
    assert (high.lo, high.hi, high.count) == (0.6, 1.0, 5)
    assert high.mean_predicted == pytest.approx(0.8)
    assert high.observed_share == pytest.approx(0.8)


def test_calibration_quantile_keeps_ties_together() -> None:
    probs = [0.9, 0.2, 0.2, 0.9, 0.2, 0.2]
    labels = [True, False, True, True, False, False]
    table = calibration_table(probs, labels, bins=2)
    assert [(b.lo, b.hi, b.count) for b in table] == [(0.2, 0.2, 4), (0.9, 0.9, 2)]
    assert table[0].observed_share == 0.25 and table[1].observed_share == 1.0
    # All equal: one bin, whatever was asked.
    (only,) = calibration_table([0.5] * 7, [True] * 7, bins=10)
    assert only.count == 7


def test_calibration_deciles() -> None:
    probs = [i / 100 for i in range(100)]
    labels = [i % 2 == 0 for i in range(100)]
    table = calibration_table(probs, labels)
    assert len(table) == 10
    assert [b.count for b in table] == [10] * 10
    assert table[0].lo == 0.0 and table[0].hi == 0.09
    assert all(b.observed_share == 0.5 for b in table)


def test_calibration_uniform_hand_computed() -> None:
    probs = [0.0, 0.1, 0.25, 0.5, 0.99, 1.0]
    labels = [False, False, True, False, True, True]
    table = calibration_table(probs, labels, bins=4, strategy="uniform")
    got = [(b.lo, b.hi, round(b.mean_predicted, 9), b.observed_share, b.count) for b in table]
    assert got == [
        (0.0, 0.25, 0.05, 0.0, 2),
        (0.25, 0.5, 0.25, 1.0, 1),
        (0.5, 0.75, 0.5, 0.0, 1),
        (0.75, 1.0, 0.995, 1.0, 2),
    ]
    assert table[1] == CalibrationBin(
        lo=0.25, hi=0.5, mean_predicted=0.25, observed_share=1.0, count=1
    )
    assert expected_calibration_error(table) == pytest.approx(1.36 / 6)


def test_calibration_uniform_leaves_out_empty_bins() -> None:
    table = calibration_table([0.05, 0.95], [False, True], bins=10, strategy="uniform")
    assert [(b.lo, b.hi) for b in table] == [(0.0, 0.1), (pytest.approx(0.9), 1.0)]


def test_calibration_empty() -> None:
    assert calibration_table([], []) == []
    assert calibration_table([], [], strategy="uniform") == []
    assert math.isnan(expected_calibration_error([]))


@pytest.mark.parametrize(
    ("probs", "labels", "kwargs", "message"),
    [
        ([0.5], [True, False], {}, "labels"),
        ([1.5], [True], {}, r"\[0, 1\]"),
        ([math.nan], [True], {}, r"\[0, 1\]"),
        ([0.5], [True], {"bins": 0}, "bins"),
        ([0.5], [True], {"strategy": "deciles"}, "strategy"),
    ],
)
def test_calibration_rejects_bad_input(
    probs: list[float], labels: list[bool], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        calibration_table(probs, labels, **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# breakdowns
# ---------------------------------------------------------------------------------------


def test_recall_at_k_by_scenario() -> None:
    groups = {"a": "dialect", "b": "exact", "c": "dialect", "e": "exact"}
    result = recall_at_k_by(RANKINGS, TRUTH, groups, ks=(2,))
    assert list(result) == ["dialect", "exact"]
    assert result["dialect"] == RecallAtK(2, {2: 0.5})  # a found at 2, c never
    assert result["exact"] == RecallAtK(2, {2: 0.5})  # e found at 2, b never


def test_recall_at_threshold_by_counts_unscored_pairs_as_missed() -> None:
    scores = {("f1", "m1"): 0.9, ("f2", "m2"): 0.4, ("f9", "m3"): 0.99}
    groups = {("f1", "m1"): "exact", ("f2", "m2"): "dialect", ("f3", "m3"): "dialect"}
    assert recall_at_threshold_by(scores, groups, 0.5) == {"dialect": 0.0, "exact": 1.0}
    assert recall_at_threshold_by(scores, groups, 0.3) == {"dialect": 0.5, "exact": 1.0}


def test_group_keys() -> None:
    assert group_keys({"a": "x", "b": "y", "c": "x"}) == {"x": {"a", "c"}, "y": {"b"}}
    assert group_keys({}) == {}


# ---------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------

scores_and_labels = st.lists(
    st.tuples(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]), st.booleans()),
    max_size=40,
)


@given(scores_and_labels, st.integers(min_value=0, max_value=5))
def test_curve_properties(pairs: list[tuple[float, bool]], unscored: int) -> None:
    scores = [s for s, _ in pairs]
    labels = [label for _, label in pairs]
    n_pos = sum(labels) + unscored
    curve = precision_recall_curve(scores, labels, n_pos)
    thresholds = [p.threshold for p in curve.points]
    assert thresholds == sorted(set(scores), reverse=True)
    selected = [p.n_selected for p in curve.points]
    assert selected == sorted(selected) and (not selected or selected[-1] == len(scores))
    trues = [p.n_true for p in curve.points]
    assert trues == sorted(trues)
    for point in curve.points:
        assert 0.0 <= point.precision <= 1.0
        if n_pos:
            assert point.recall == point.n_true / n_pos
    if n_pos:
        workload = workload_at_recall(scores, labels, n_pos, 1.0)
        assert (workload is None) == (unscored > 0)
        if workload is not None:
            assert workload >= 1.0


@given(
    st.lists(st.tuples(st.floats(min_value=0, max_value=1), st.booleans()), max_size=60),
    st.integers(min_value=1, max_value=12),
    st.sampled_from(["quantile", "uniform"]),
)
def test_calibration_properties(pairs: list[tuple[float, bool]], bins: int, strategy: str) -> None:
    probs = [p for p, _ in pairs]
    labels = [label for _, label in pairs]
    table = calibration_table(probs, labels, bins, strategy=strategy)  # type: ignore[arg-type]
    assert sum(b.count for b in table) == len(probs)
    assert len(table) <= bins
    for b in table:
        assert b.lo <= b.mean_predicted + 1e-12 and b.mean_predicted <= b.hi + 1e-12
        assert 0.0 <= b.observed_share <= 1.0
    for before, after in zip(table, table[1:], strict=False):
        if strategy == "quantile":
            assert before.hi < after.lo
        else:
            assert before.hi <= after.lo


@given(
    st.dictionaries(
        st.integers(0, 20),
        st.lists(st.integers(0, 30), max_size=15, unique=True),
        max_size=10,
    ),
    st.dictionaries(st.integers(0, 20), st.sets(st.integers(0, 30), max_size=3), max_size=10),
)
def test_recall_at_k_is_monotone_in_k(
    rankings: dict[int, list[int]], truth: dict[int, set[int]]
) -> None:
    result = recall_at_k(rankings, truth, ks=(1, 2, 5, 10, 50))
    values = list(result.values())
    if any(truth.values()):
        assert values == sorted(values)
        assert all(0.0 <= v <= 1.0 for v in values)
    else:
        assert all(math.isnan(v) for v in values)
