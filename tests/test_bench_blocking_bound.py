"""The blocking-bound measure: the ranks of true pairs under three rankings, and the
pairs each source of blocking gives."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from evaluation.bench.blocking_bound import BOUNDS, main
from evaluation.population import generate_population
from evaluation.population_views import views_from_rows
from matching.evidence_model import EvidenceModel
from matching.evidence_model.columns import ColumnarScorer
from usecases.blocking import ReportBlocking


def test_a_small_run_writes_shares_that_grow_with_the_bound(tmp_path: Path) -> None:
    assert main(["--reports", "1500", "--sample", "40", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "blocking_bound.json").read_text(encoding="utf-8"))
    assert result["sampled"] == 40 and 0 < result["true_pairs_blocked"] <= 40
    assert result["true_pairs_reached"]["any"] == result["true_pairs_blocked"]
    for shares in result["within_bound"].values():
        values = [shares[str(k)] for k in BOUNDS]
        assert all(0.0 <= v <= 1.0 for v in values) and values == sorted(values)
    assert "k=20" in (tmp_path / "blocking_bound.md").read_text(encoding="utf-8")


def test_the_terms_of_a_pair_add_up_to_its_total_weight() -> None:
    population = generate_population(seed=3, n_missing=400, n_found=40, n_true_pairs=20)
    missing, found = views_from_rows(population.missing, population.found)
    rows = np.arange(len(found), dtype=np.int64)
    j, i = np.divmod(ReportBlocking(missing).keys(found, rows), len(missing))
    model = EvidenceModel.default()
    scorer = ColumnarScorer(model)
    reports, people = scorer.missing_columns(missing), scorer.found_columns(found)
    terms = scorer.terms(reports, people, i, j)
    assert list(terms) == [comparison.name for comparison in model.comparisons]
    total = model.prior_weight + np.sum(list(terms.values()), axis=0)
    assert len(i) > 100
    np.testing.assert_allclose(total, scorer.total_weights(reports, people, i, j), atol=1e-9)
