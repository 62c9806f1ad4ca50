"""EM on synthetic comparison vectors recovers the m, u and prior that made them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from matching.evidence_model import ComparisonVectors, EvidenceModel, estimate_u, fit_em
from matching.evidence_model.em import match_probabilities, prior_from_model, prior_from_rule
from matching.evidence_model.params import ComparisonParams, ModelParams, StratumParams

NAMES = ("sex", "age", "place", "hometown")


Table = dict[str, list[tuple[tuple[float, ...], tuple[float, ...]]]]


def _true_params(base: ModelParams) -> ModelParams:
    """Known parameters: informative m, flat-ish u."""
    chosen: Table = {
        "sex": [((0.95, 0.05), (0.5, 0.5))],
        "age": [((0.6, 0.25, 0.1, 0.05), (0.1, 0.1, 0.2, 0.6)),
                ((0.7, 0.2, 0.05, 0.05), (0.25, 0.15, 0.2, 0.4))],
        "place": [((0.5, 0.2, 0.15, 0.1, 0.05), (0.02, 0.05, 0.13, 0.4, 0.4)),
                  ((0.3, 0.2, 0.2, 0.2, 0.1), (0.02, 0.05, 0.13, 0.4, 0.4)),
                  ((0.4, 0.2, 0.2, 0.1, 0.1), (0.02, 0.05, 0.13, 0.4, 0.4))],
        "hometown": [((0.3, 0.4, 0.15, 0.05, 0.1), (0.005, 0.05, 0.12, 0.15, 0.675)),
                     ((0.25, 0.35, 0.2, 0.1, 0.1), (0.005, 0.05, 0.12, 0.15, 0.675))],
    }  # fmt: skip
    params = replace(base, prior=0.08)
    for name, strata in chosen.items():
        c = params.comparison(name)
        new = tuple(
            StratumParams(s.label, m, u) for s, (m, u) in zip(c.strata, strata, strict=True)
        )
        params = params.with_comparison(ComparisonParams(name, c.levels, new))
    return params


def _draw(params: ModelParams, n: int, seed: int) -> tuple[ComparisonVectors, np.ndarray]:
    rng = np.random.default_rng(seed)
    match = rng.random(n) < params.prior
    levels = np.zeros((n, len(NAMES)), dtype=np.int16)
    strata = np.zeros((n, len(NAMES)), dtype=np.int16)
    for c, name in enumerate(NAMES):
        comparison = params.comparison(name)
        s = rng.integers(len(comparison.strata), size=n)
        strata[:, c] = s
        for k, stratum in enumerate(comparison.strata):
            for is_match, probabilities in ((True, stratum.m), (False, stratum.u)):
                rows = np.flatnonzero((s == k) & (match == is_match))
                levels[rows, c] = 1 + rng.choice(len(probabilities), size=len(rows),
                                                 p=probabilities)  # fmt: skip
        levels[rng.random(n) < 0.1, c] = 0  # missing data: null
    vectors = ComparisonVectors(
        NAMES, levels, strata, np.full((n, len(NAMES)), np.nan), np.zeros((n, 2), np.int64)
    )
    return vectors, match


def _flat_start(params: ModelParams) -> ModelParams:
    """A poor start: m leaning to agreement, u flat."""
    out = replace(params, prior=0.02)
    for name in NAMES:
        c = out.comparison(name)
        strata = []
        for s in c.strata:
            k = len(s.m)
            m = tuple((k - i) / (k * (k + 1) / 2) for i in range(k))
            strata.append(StratumParams(s.label, m, tuple(1 / k for _ in range(k))))
        out = out.with_comparison(ComparisonParams(name, c.levels, tuple(strata)))
    return out


@pytest.fixture(scope="module")
def truth() -> ModelParams:
    return _true_params(EvidenceModel.default().params)


def test_em_recovers_known_parameters(truth: ModelParams) -> None:
    vectors, _ = _draw(truth, 40_000, seed=1)
    result = fit_em(
        _flat_start(truth), vectors, smoothing=0.01, tolerance=1e-6, max_iterations=2000
    )
    assert result.converged
    assert result.params.prior == pytest.approx(truth.prior, rel=0.15)
    for name in NAMES:
        for got, want in zip(result.params.comparison(name).strata,
                             truth.comparison(name).strata, strict=True):  # fmt: skip
            assert got.m == pytest.approx(want.m, abs=0.05), name
            assert got.u == pytest.approx(want.u, abs=0.02), name
    likelihoods = np.array(result.log_likelihoods)
    assert np.all(np.diff(likelihoods) > -1e-6), "EM never lowers the likelihood"
    assert result.params.history[-1]["step"] == "em"
    assert result.params.version != truth.version


def test_match_probabilities_separate_matches(truth: ModelParams) -> None:
    vectors, match = _draw(truth, 5_000, seed=2)
    probability = match_probabilities(truth, vectors)
    assert probability[match].mean() > 0.6
    assert probability[~match].mean() < 0.05


def test_weights_stand_for_repeated_rows(truth: ModelParams) -> None:
    vectors, _ = _draw(truth, 3_000, seed=3)
    doubled = ComparisonVectors.concatenate([vectors, vectors])
    once = fit_em(_flat_start(truth), vectors, weights=np.full(len(vectors), 2.0), tolerance=1e-8)
    twice = fit_em(_flat_start(truth), doubled, tolerance=1e-8)
    assert once.params.prior == pytest.approx(twice.params.prior, rel=1e-6)


def test_fixing_u_and_the_prior(truth: ModelParams) -> None:
    vectors, _ = _draw(truth, 10_000, seed=4)
    start = _flat_start(truth)
    held = fit_em(replace(start, prior=0.08), vectors, fix_u=True, fix_prior=True)
    assert held.params.prior == 0.08
    for name in NAMES:
        assert held.params.comparison(name).strata[0].u == start.comparison(name).strata[0].u
    kept = fit_em(start, vectors, fixed=("sex",))
    assert kept.params.comparison("sex") == start.comparison("sex")


def test_u_from_random_pairs_and_priors(truth: ModelParams) -> None:
    vectors, match = _draw(replace(truth, prior=1e-9), 20_000, seed=5)
    assert not match.any()
    counted = estimate_u(_flat_start(truth), vectors, smoothing=0.01)
    for name in NAMES:
        for got, want in zip(counted.comparison(name).strata, truth.comparison(name).strata,
                             strict=True):  # fmt: skip
            assert got.u == pytest.approx(want.u, abs=0.02)
    mixed, _ = _draw(truth, 20_000, seed=6)
    assert prior_from_model(truth, mixed) == pytest.approx(truth.prior, rel=0.2)
    rule = {"age": {"within"}, "hometown": {"same_city", "same_province"}}
    recall = 0.9 * 0.65 * 0.9 * 0.7  # present and agreeing, on both comparisons
    sure = prior_from_rule(truth, mixed, rule=rule, recall=recall)
    assert sure == pytest.approx(truth.prior, rel=0.35)


def test_em_refuses_bad_input(truth: ModelParams) -> None:
    vectors, _ = _draw(truth, 100, seed=7)
    with pytest.raises(ValueError, match="at least one pair"):
        fit_em(truth, vectors.take(np.zeros(0, dtype=np.intp)))
    with pytest.raises(ValueError, match="non-negative weights"):
        fit_em(truth, vectors, weights=np.ones(3))
    with pytest.raises(KeyError):
        fit_em(truth, vectors, fixed=("shoe size",))
