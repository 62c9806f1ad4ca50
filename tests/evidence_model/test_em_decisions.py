"""Learning from reviewers: confirmed pairs pull m, rejected pairs pull u, toward the truth."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from matching.evidence_model import (
    ComparisonVectors,
    EvidenceModel,
    LabelledPair,
    learn_from_decisions,
    update_from_vectors,
)
from matching.evidence_model.params import ComparisonParams, ModelParams, StratumParams

NAMES = ("sex", "hometown", "marks")


def _distance(a: ModelParams, b: ModelParams, side: str) -> float:
    """How far apart the first strata are: the only ones :func:`_labelled` draws pairs in."""
    total = 0.0
    for name in NAMES:
        sa, sb = a.comparison(name).strata[0], b.comparison(name).strata[0]
        total += float(np.abs(np.subtract(getattr(sa, side), getattr(sb, side))).sum())
    return total


def _shifted(params: ModelParams) -> ModelParams:
    """The truth with every m and u pushed toward uniform: a model that knows less."""
    out = params
    for name in NAMES:
        c = params.comparison(name)
        strata = tuple(
            StratumParams(
                s.label,
                tuple(0.5 * x + 0.5 / len(s.m) for x in s.m),
                tuple(0.5 * x + 0.5 / len(s.u) for x in s.u),
            )
            for s in c.strata
        )
        out = out.with_comparison(ComparisonParams(name, c.levels, strata))
    return out


def _labelled(params: ModelParams, n: int, side: str, seed: int) -> ComparisonVectors:
    rng = np.random.default_rng(seed)
    levels = np.zeros((n, len(NAMES)), dtype=np.int16)
    for c, name in enumerate(NAMES):
        probabilities = getattr(params.comparison(name).strata[0], side)
        levels[:, c] = 1 + rng.choice(len(probabilities), size=n, p=probabilities)
    return ComparisonVectors(
        NAMES, levels, np.zeros_like(levels), np.full(levels.shape, np.nan),
        np.zeros((n, 2), np.int64),
    )  # fmt: skip


@pytest.mark.parametrize("n", [50, 500, 5000])
def test_decisions_move_parameters_toward_the_truth(n: int) -> None:
    truth = EvidenceModel.default().params
    start = _shifted(truth)
    confirmed = _labelled(truth, n, "m", seed=n)
    rejected = _labelled(truth, n, "u", seed=n + 1)
    learned = update_from_vectors(start, confirmed, rejected, m_strength=20, u_strength=20)
    for side in ("m", "u"):
        assert _distance(learned, truth, side) < _distance(start, truth, side)
    if n == 5000:
        assert _distance(learned, truth, "m") < 0.1 * _distance(start, truth, "m")
    assert learned.history[-1]["step"] == "reviewer_decisions"
    assert learned.history[-1]["confirmed"] == n


def test_more_decisions_move_further() -> None:
    truth = EvidenceModel.default().params
    start = _shifted(truth)
    few = update_from_vectors(start, _labelled(truth, 20, "m", 1), None)
    many = update_from_vectors(start, _labelled(truth, 2000, "m", 1), None)
    assert _distance(many, truth, "m") < _distance(few, truth, "m") < _distance(start, truth, "m")
    assert _distance(few, truth, "u") == pytest.approx(_distance(start, truth, "u"))


def test_learning_from_decided_pairs(
    decided_pairs: Callable[[int], list[LabelledPair]],
) -> None:
    model = EvidenceModel.default()
    learned = learn_from_decisions(model, decided_pairs(40), m_strength=5, u_strength=5)
    assert learned.version != model.version
    before = model.params.comparison("sex").strata[0]
    after = learned.params.comparison("sex").strata[0]
    # Every confirmed pair has the same sex: m of "same" can only grow.
    assert after.m[0] > before.m[0]
    assert replace(learned.params, version=model.version, history=()) != replace(
        model.params, history=()
    )


def test_by_default_rejected_pairs_teach_the_recalibration_not_u(
    decided_pairs: Callable[[int], list[LabelledPair]],
) -> None:
    model = EvidenceModel.default()
    pairs = decided_pairs(40)
    assert any(not p.same for p in pairs)
    learned = learn_from_decisions(model, pairs)
    with_u = learn_from_decisions(model, pairs, u_strength=5)
    for name in ("name", "sex", "place"):
        kept = [s.u for s in learned.params.comparison(name).strata]
        assert kept == [s.u for s in model.params.comparison(name).strata], name
    assert any(
        a.u != b.u
        for name in ("name", "sex", "place")
        for a, b in zip(with_u.params.comparison(name).strata,
                        model.params.comparison(name).strata, strict=True)
    )  # fmt: skip
    step = next(h for h in learned.params.history if h["step"] == "recalibration")
    assert step["rejected"] == sum(1 for p in pairs if not p.same) > 0
