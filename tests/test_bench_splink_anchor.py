"""The Splink anchor: Splink scores exactly the pairs it is given, and a small run writes
both scorers' rates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("splink", reason="splink, a development dependency, is not installed")

from evaluation.bench.splink_anchor import candidate_pairs, main, population  # noqa: E402
from evaluation.bench.splink_columns import (  # noqa: E402
    found_row,
    pair_key_lists,
    report_row,
    side_frame,
)
from evaluation.bench.splink_scorer import SplinkScorer  # noqa: E402
from matching.evidence_model import EvidenceModel  # noqa: E402

REPORTS = 300


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("splink_anchor")
    assert main(["--reports", str(REPORTS), "--out", str(out)]) == 0
    return json.loads((out / "splink_anchor.json").read_text(encoding="utf-8")), out


def test_pair_key_lists_give_each_record_the_positions_of_its_pairs() -> None:
    rows = np.array([2, 0, 2, 3], dtype=np.int64)
    assert pair_key_lists(rows, 5) == [[1], None, [0, 2], [3], None]


def test_splink_scores_every_given_pair_exactly_once() -> None:
    missing, found = population(REPORTS, seed=3, face_share=0.6)
    i, j = candidate_pairs(missing, found)
    # Drop every other pair: Splink must score these, not whatever blocking would give.
    i, j = i[::2], j[::2]
    reports = side_frame([report_row(v) for v in missing], pair_key_lists(i, len(missing)))
    found_frame = side_frame([found_row(v) for v in found], pair_key_lists(j, len(found)))
    scorer = SplinkScorer(EvidenceModel.default().params, reports, found_frame)
    try:
        scored = scorer.score()
    finally:
        scorer.close()
    given = np.sort(j * len(missing) + i)
    got = np.sort(scored.scores.j * len(missing) + scored.scores.i)
    assert len(i) > 100
    assert len(got) == len(given)
    assert np.array_equal(got, given)
    assert np.isfinite(scored.scores.weights).all()
    assert scored.seconds > 0


def test_a_small_run_writes_both_scorers_rates(result: tuple[dict[str, Any], Path]) -> None:
    data, out = result
    assert data["reports"] == REPORTS and data["found_persons"] == REPORTS // 10
    assert data["pairs"] > 0
    assert data["columnar"]["pairs_a_second"] > 0
    assert data["splink"]["pairs_a_second"] > 0
    assert data["ratio"] > 0
    check = data["check"]
    assert check["splink_rows"] == data["pairs"]
    assert check["distinct_pairs_in_splink"] == data["pairs"]
    assert check["exactly_the_given_pairs"] is True
    page = (out / "splink_anchor.md").read_text(encoding="utf-8")
    assert f"{data['pairs']:,} pairs" in page
    assert "| columnar (ours) |" in page
