"""Counting the names benchmark's ties."""

from __future__ import annotations

import pytest

from evaluation.name_ties import classify, run


@pytest.mark.parametrize(
    ("weights", "outcome", "expected", "ceiling"),
    [
        ({"t": 5.0, "a": 4.0}, "hit", 1.0, True),
        # Nine above, the truth and three more level: one place for four.
        ({"t": 5.0, **{f"a{n}": 6.0 for n in range(9)}, **{f"b{n}": 5.0 for n in range(3)}},
         "tie", 0.25, True),
        ({"t": 5.0, **{f"a{n}": 6.0 for n in range(10)}}, "outranked", 0.0, False),
        ({"a": 6.0}, "absent", 0.0, False),
    ],
)  # fmt: skip
def test_classify(weights: dict[str, float], outcome: str, expected: float, ceiling: bool) -> None:
    assert classify(weights, "t") == (outcome, pytest.approx(expected), ceiling)


def test_a_small_run_adds_up() -> None:
    result = run(600, sex_and_year=False, seed=4, n_queries=120)
    every = result["all"]
    assert every["queries"] == sum(k["queries"] for k in result["by_kind"].values()) > 50
    assert sum(every["outcomes"].values()) == every["queries"]
    assert 0.5 < every["recall10_random_ties"] <= every["recall10_ties_won"] <= 1.0
