"""Estimating the parameters without labels: expectation-maximisation over pairs.

The standard Fellegi-Sunter EM (as in splink): given the comparison vectors of many
pairs, alternate between the probability that each pair is a match under the current
parameters (E) and the prior, m and u that those probabilities imply (M), assuming the
comparisons are independent given match status. Identical vectors are grouped, so a
million pairs cost what their few thousand distinct patterns do.

Options that keep EM honest:

- ``fix_u``: u is best measured directly on random pairs, where matches are negligible
  (:func:`estimate_u`); EM then only finds m and the prior.
- ``weights``: EM over pairs chosen for looking alike (candidates) alone is biased: the
  different people among them agree far more often than u says, and EM takes them for
  matches. Weighting a random sample of the other pairs up to their number makes the
  sample stand for all pairs.
- ``fix_prior``: keep the prior; EM's prior is the first thing to run away when the
  comparisons are not independent among different people (a child's report against a
  child in care agrees on age, height and time at once), as it then takes such
  correlated agreement for matches.
- ``fixed``: comparisons to leave alone, e.g. the one used to choose the pairs (a
  blocking rule makes its agreement certain among the pairs, so EM cannot learn it).
- ``smoothing``: the starting parameters act as a Dirichlet prior worth this many pairs
  a stratum, so a level no pair reaches keeps its documented value instead of zero.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import date
from types import MappingProxyType
from typing import Final

import numpy as np
from numpy.typing import NDArray

from matching.evidence_model.counting import level_counts, posterior_update
from matching.evidence_model.params import ModelParams
from matching.evidence_model.vectors import ComparisonVectors

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EMResult:
    """The fitted parameters, how the fit went, and each pair's match probability."""

    params: ModelParams
    iterations: int
    converged: bool
    log_likelihoods: tuple[float, ...]
    match_probability: NDArray[np.float64]


def _log_tables(
    params: ModelParams, names: tuple[str, ...]
) -> list[tuple[NDArray[np.float64], NDArray[np.float64], int]]:  # noqa: E501
    """Per comparison: log m and log u as flat arrays over (stratum, level), and levels."""
    out = []
    for name in names:
        c = params.comparison(name)
        n_levels = len(c.levels)
        log_m = np.zeros((len(c.strata), n_levels))
        log_u = np.zeros((len(c.strata), n_levels))
        for s, stratum in enumerate(c.strata):
            log_m[s, 1:] = np.log(stratum.m)
            log_u[s, 1:] = np.log(stratum.u)
        out.append((log_m.ravel(), log_u.ravel(), n_levels))
    return out


def match_probabilities(params: ModelParams, vectors: ComparisonVectors) -> NDArray[np.float64]:
    """Each pair's match probability under the parameters (without term frequencies)."""
    logit = np.full(len(vectors), math.log(params.prior / (1 - params.prior)))
    for c, (log_m, log_u, n_levels) in enumerate(_log_tables(params, vectors.names)):
        codes = vectors.strata[:, c].astype(np.int64) * n_levels + vectors.levels[:, c]
        logit += log_m[codes] - log_u[codes]
    probability: NDArray[np.float64] = 1.0 / (1.0 + np.exp(-np.clip(logit, -700, 700)))
    return probability


def _distinct(
    vectors: ComparisonVectors, weights: NDArray[np.float64] | None = None
) -> tuple[ComparisonVectors, NDArray[np.float64], NDArray[np.intp]]:
    """The distinct rows (levels and strata), their weighted counts, and each row's index."""
    both = np.concatenate([vectors.levels, vectors.strata], axis=1)
    unique, inverse, counts = np.unique(both, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    if weights is not None:
        counts = np.bincount(inverse, weights=weights, minlength=unique.shape[0])
    c = vectors.levels.shape[1]
    n = unique.shape[0]
    distinct = ComparisonVectors(
        vectors.names,
        unique[:, :c].astype(np.int16),
        unique[:, c:].astype(np.int16),
        np.full((n, c), np.nan),
        np.zeros((n, 2), dtype=np.int64),
    )
    return distinct, counts.astype(np.float64), inverse


def fit_em(
    params: ModelParams,
    vectors: ComparisonVectors,
    *,
    weights: NDArray[np.float64] | None = None,
    fix_u: bool = False,
    fix_prior: bool = False,
    fixed: Collection[str] = (),
    smoothing: float = 1.0,
    max_prior: float = 0.5,
    anchor: ModelParams | None = None,
    max_iterations: int = 200,
    tolerance: float = 1e-6,
    version: str | None = None,
    today: date | None = None,
) -> EMResult:
    """Fit the prior, m (and u unless ``fix_u``) by EM on the pairs' comparison vectors.

    ``weights`` (one a pair, default 1) make a stratified sample stand for all pairs: the
    candidate pairs with weight 1 and a random sample of the rest weighted up to the
    rest's size, so that neither u nor the prior is biased by how candidates were chosen.
    The prior is kept at or below ``max_prior`` (a half: among all pairs matches are
    rare; a sample chosen to be mostly matches may allow more). ``anchor`` (default: the
    starting parameters) is what ``smoothing`` pulls toward, for the comparisons it holds.
    Raises ValueError when there are no pairs, the weights do not fit, or the vectors'
    comparisons are unknown.
    """
    if len(vectors) == 0:
        raise ValueError("EM needs at least one pair")
    if weights is not None and (weights.shape != (len(vectors),) or np.any(weights < 0)):
        raise ValueError(f"expected {len(vectors)} non-negative weights, got {weights.shape}")
    for name in fixed:
        params.comparison(name)
    distinct, counts, inverse = _distinct(vectors, weights)
    total = float(counts.sum())
    start = params
    anchored = {c.name for c in anchor.comparisons} if anchor is not None else set()
    current = params
    history: list[float] = []
    converged = False
    iteration = 0
    while iteration < max_iterations:
        iteration += 1
        g = match_probabilities(current, distinct)
        weighted_g = counts * g
        weighted_h = counts * (1.0 - g)
        share = weighted_g.sum() / total
        prior = current.prior if fix_prior else float(np.clip(share, 1e-12, max_prior))
        updated = current
        for c, name in enumerate(vectors.names):
            if name in fixed:
                continue
            comparison = current.comparison(name)
            n_strata, n_levels = len(comparison.strata), len(comparison.levels)
            base = (anchor if anchor is not None and name in anchored else start).comparison(name)
            m_counts = level_counts(distinct, c, n_strata, n_levels, weighted_g)
            comparison = posterior_update(comparison, m_counts, side="m", strength=smoothing,
                                          prior=base)  # fmt: skip
            if not fix_u:
                u_counts = level_counts(distinct, c, n_strata, n_levels, weighted_h)
                comparison = posterior_update(comparison, u_counts, side="u",
                                              strength=smoothing, prior=base)  # fmt: skip
            updated = updated.with_comparison(comparison)
        updated = replace(updated, prior=prior)
        change = _largest_change(current, updated)
        current = updated
        history.append(_log_likelihood(current, distinct, counts))
        if change < tolerance:
            converged = True
            break
    logger.info("EM: %d iterations, converged=%s, lambda=%.3g", iteration, converged,
                current.prior)  # fmt: skip
    fitted = current.evolved(
        step="em",
        detail={
            "pairs": len(vectors),
            "weighted_pairs": round(total),
            "distinct_vectors": len(distinct),
            "iterations": iteration,
            "converged": converged,
            "fix_u": fix_u,
            "fix_prior": fix_prior,
            "fixed": sorted(fixed),
            "smoothing": smoothing,
            "lambda": current.prior,
        },
        version=version,
        today=today,
    )
    probability = match_probabilities(fitted, distinct)[inverse]
    return EMResult(fitted, iteration, converged, tuple(history), probability)


def _largest_change(a: ModelParams, b: ModelParams) -> float:
    change = abs(math.log(a.prior) - math.log(b.prior))
    for ca, cb in zip(a.comparisons, b.comparisons, strict=True):
        for sa, sb in zip(ca.strata, cb.strata, strict=True):
            change = max(
                change,
                float(np.max(np.abs(np.subtract(sa.m, sb.m)))),
                float(np.max(np.abs(np.subtract(sa.u, sb.u)))),
            )
    return change


def _log_likelihood(
    params: ModelParams, distinct: ComparisonVectors, counts: NDArray[np.float64]
) -> float:
    log_pm = np.full(len(distinct), math.log(params.prior))
    log_pu = np.full(len(distinct), math.log(1 - params.prior))
    for c, (log_m, log_u, n_levels) in enumerate(_log_tables(params, distinct.names)):
        codes = distinct.strata[:, c].astype(np.int64) * n_levels + distinct.levels[:, c]
        log_pm += log_m[codes]
        log_pu += log_u[codes]
    return float((counts * np.logaddexp(log_pm, log_pu)).sum())


def estimate_u(
    params: ModelParams,
    vectors: ComparisonVectors,
    *,
    only: Collection[str] | None = None,
    smoothing: float = 1.0,
    version: str | None = None,
    today: date | None = None,
) -> ModelParams:
    """u of every stratum counted on random pairs (matches among them are negligible).

    ``only`` limits the comparisons updated (e.g. everything but the face, whose u comes
    from labelled photos). The current u acts as a prior worth ``smoothing`` pairs.
    """
    updated = params
    for c, name in enumerate(vectors.names):
        if only is not None and name not in only:
            continue
        comparison = params.comparison(name)
        counts = level_counts(vectors, c, len(comparison.strata), len(comparison.levels))
        updated = updated.with_comparison(
            posterior_update(comparison, counts, side="u", strength=smoothing)
        )
    return updated.evolved(
        step="u_from_random_pairs",
        detail={"pairs": len(vectors), "comparisons": sorted(only or vectors.names)},
        version=version,
        today=today,
    )


PRIOR_RULE: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "name": frozenset({"exact"}),
        "sex": frozenset({"same"}),
        "age": frozenset({"within", "near"}),
    }
)
"""Pairs this strict are nearly all true: the same name, sex and a consistent age."""
PRIOR_RULE_RECALL: Final = 0.25
"""Share of true pairs the rule catches (documented guess: stations write the registered
name exactly for about a quarter of the people later identified; many have no name)."""


def prior_from_rule(
    params: ModelParams,
    vectors: ComparisonVectors,
    *,
    weights: NDArray[np.float64] | None = None,
    total_pairs: float | None = None,
    rule: Mapping[str, Collection[str]] = PRIOR_RULE,
    recall: float = PRIOR_RULE_RECALL,
) -> float:
    """The prior estimated as (pairs meeting a strict rule / its recall) / all pairs.

    splink's ``estimate_probability_two_random_records_match``: EM's own prior runs away
    when comparisons are dependent among different people, so it is set this way and
    held. ``weights`` and ``total_pairs`` describe a stratified sample as in
    :func:`fit_em` (default: the vectors are all pairs).
    """
    if not 0 < recall <= 1:
        raise ValueError(f"recall must be in (0, 1], got {recall}")
    keep = np.ones(len(vectors), dtype=bool)
    for name, allowed in rule.items():
        c = vectors.names.index(name)
        labels = params.comparison(name).levels
        codes = [labels.index(label) for label in allowed]
        keep &= np.isin(vectors.levels[:, c], codes)
    w = np.ones(len(vectors)) if weights is None else weights
    total = float(w.sum()) if total_pairs is None else total_pairs
    hits = float(w[keep].sum())
    return float(np.clip(hits / recall / max(total, 1.0), 1e-12, 0.5))


def prior_from_model(
    params: ModelParams,
    vectors: ComparisonVectors,
    *,
    weights: NDArray[np.float64] | None = None,
) -> float:
    """The prior as the expected share of matches under the parameters (one E-step).

    With documented starting parameters this is a steady estimate where EM's own prior
    would run away; ``weights`` describe a stratified sample as in :func:`fit_em`.
    """
    probability = match_probabilities(params, vectors)
    w = np.ones(len(vectors)) if weights is None else weights
    return float(np.clip((probability * w).sum() / max(float(w.sum()), 1.0), 1e-12, 0.5))
