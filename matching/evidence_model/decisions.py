"""Learning from reviewers: confirmed pairs teach m, rejected pairs teach u.

A Bayesian update per comparison and stratum: the current m (or u) is a Dirichlet
prior worth ``m_strength`` (``u_strength``) pairs, and the levels counted among
confirmed (rejected) pairs are added to it. With few decisions the model barely moves;
with many it follows what reviewers found.

Two cautions, both reasons for the default strengths:

- rejected pairs are not random different people: they were shortlisted because they
  looked alike, so agreement is over-represented among them. Counting them raises the
  u of agreeing levels, which shrinks those weights: the cautious direction, but a
  strong u prior (u is well measured on random pairs) keeps it from going far;
- confirmed pairs are those reviewers found, so m learns what the queue showed them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from matching.evidence_model.counting import level_counts, posterior_update
from matching.evidence_model.model import EvidenceModel
from matching.evidence_model.params import ModelParams
from matching.evidence_model.vectors import ComparisonVectors
from matching.views import FoundView, MissingView

M_STRENGTH = 20.0
"""Pairs' worth of belief in the current m, a stratum."""
U_STRENGTH = 500.0
"""Pairs' worth of belief in the current u: it was counted on many random pairs."""


@dataclass(frozen=True)
class LabelledPair:
    """A pair a reviewer decided: ``same`` is True for confirmed, False for rejected."""

    missing: MissingView
    found: FoundView
    same: bool


def update_from_vectors(
    params: ModelParams,
    confirmed: ComparisonVectors | None,
    rejected: ComparisonVectors | None,
    *,
    m_strength: float = M_STRENGTH,
    u_strength: float = U_STRENGTH,
    version: str | None = None,
    today: date | None = None,
) -> ModelParams:
    """m updated with confirmed pairs' levels, u with rejected pairs' levels."""
    updated = params
    for vectors, side, strength in ((confirmed, "m", m_strength), (rejected, "u", u_strength)):
        if vectors is None or len(vectors) == 0:
            continue
        for c, name in enumerate(vectors.names):
            comparison = updated.comparison(name)
            counts = level_counts(vectors, c, len(comparison.strata), len(comparison.levels))
            updated = updated.with_comparison(
                posterior_update(comparison, counts, side=side, strength=strength)
            )
    return updated.evolved(
        step="reviewer_decisions",
        detail={
            "confirmed": 0 if confirmed is None else len(confirmed),
            "rejected": 0 if rejected is None else len(rejected),
            "m_strength": m_strength,
            "u_strength": u_strength,
        },
        version=version,
        today=today,
    )


def learn_from_decisions(
    model: EvidenceModel,
    pairs: Iterable[LabelledPair],
    *,
    m_strength: float = M_STRENGTH,
    u_strength: float = U_STRENGTH,
    version: str | None = None,
    today: date | None = None,
) -> EvidenceModel:
    """A new model whose m and u have learned from reviewers' decided pairs."""
    decided = list(pairs)
    confirmed = model.comparison_vectors((p.missing, p.found) for p in decided if p.same)
    rejected = model.comparison_vectors((p.missing, p.found) for p in decided if not p.same)
    params = update_from_vectors(
        model.params, confirmed, rejected, m_strength=m_strength, u_strength=u_strength,
        version=version, today=today,
    )  # fmt: skip
    return model.with_params(params)
