"""Counting levels per comparison and stratum: the arithmetic EM and learning share."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from matching.evidence_model.params import ComparisonParams
from matching.evidence_model.vectors import ComparisonVectors


def level_counts(
    vectors: ComparisonVectors,
    column: int,
    n_strata: int,
    n_levels: int,
    weights: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Weighted counts of each (stratum, level) in one comparison: shape (strata, levels).

    The null level's column is counted too; callers leave it out.
    """
    codes = vectors.strata[:, column].astype(np.int64) * n_levels + vectors.levels[:, column]
    counts = np.bincount(codes, weights=weights, minlength=n_strata * n_levels)
    return counts[: n_strata * n_levels].reshape(n_strata, n_levels).astype(np.float64)


def posterior_update(
    comparison: ComparisonParams,
    counts: NDArray[np.float64],
    *,
    side: str,
    strength: float,
    prior: ComparisonParams | None = None,
) -> ComparisonParams:
    """New m (``side="m"``) or u of every stratum: Dirichlet prior plus counts.

    The prior is ``prior`` (default: ``comparison`` itself) worth ``strength`` pairs a
    stratum; ``counts`` is (strata, levels) including the null column, which is ignored.
    """
    if side not in ("m", "u"):
        raise ValueError(f"side must be 'm' or 'u', got {side!r}")
    base = prior or comparison
    strata = []
    for s, (stratum, start) in enumerate(zip(comparison.strata, base.strata, strict=True)):
        old = np.asarray(start.m if side == "m" else start.u)
        new = counts[s, 1:] + strength * old
        values = tuple(float(x) for x in new / new.sum())
        strata.append(replace(stratum, m=values) if side == "m" else replace(stratum, u=values))
    return ComparisonParams(
        comparison.name, comparison.levels, tuple(strata), comparison.tf_reference,
        comparison.note,
    )  # fmt: skip
