"""Learning from reviewers: confirmed pairs teach m; both teach the recalibration.

A Bayesian update per comparison and stratum: the current m is a Dirichlet prior worth
``m_strength`` pairs, and the levels counted among confirmed pairs are added to it.
With few decisions the model barely moves; with many it follows what reviewers found.
Rejected pairs can update u the same way (``u_strength``), but by default they do not
(see the cautions below).

Then the recalibration (:mod:`.recalibration`): the decided pairs' totals under the
updated m and u against what reviewers decided, a slope and an intercept on the log2
odds that correct the over-confidence of summing dependent comparisons. It is fitted
afresh on the decisions given (pass them all, as ``xunqin model refit`` does), pulled
toward no correction with the weight of ``recalibration_strength`` decisions: an
earlier recalibration was of other totals.

Two cautions, both reasons for the defaults:

- rejected pairs are not random different people: they were shortlisted because they
  looked alike, so agreement is over-represented among them. Counting them raises the
  u of agreeing levels and shrinks exactly the weights that tell a true pair from its
  lookalikes. u is what random pairs of different people do, measured on random pairs
  (:func:`~.em.estimate_u`); a person's lookalike rivals are the re-match's sharing's
  business (:mod:`matching.competition`). In the evaluation (reviewers reading the first
  candidates of 30% of found persons; figures on the others), letting 3,938 rejected
  pairs move u (worth 500 pairs) raised the candidates read per true pair at recall 0.90
  from 6.6 to 11.8, so by default they only teach the recalibration;
- confirmed pairs are those reviewers found, so m learns what the queue showed them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np

from matching.evidence_model.counting import level_counts, posterior_update
from matching.evidence_model.model import EvidenceModel
from matching.evidence_model.params import ModelParams
from matching.evidence_model.recalibration import (
    IDENTITY,
    STRENGTH,
    Recalibration,
    fit_recalibration,
)
from matching.evidence_model.vectors import ComparisonVectors
from matching.views import FoundView, MissingView

M_STRENGTH = 20.0
"""Pairs' worth of belief in the current m, a stratum."""
U_STRENGTH: float | None = None
"""Pairs' worth of belief in the current u when rejected pairs update it; None: they do
not (u is measured on random pairs; rejected pairs are shortlisted lookalikes)."""
RECALIBRATION_STRENGTH = STRENGTH
"""Decisions' worth of belief in no recalibration."""


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
    u_strength: float | None = U_STRENGTH,
    version: str | None = None,
    today: date | None = None,
) -> ModelParams:
    """m updated with confirmed pairs' levels; u with rejected pairs' levels when
    ``u_strength`` is given (not by default: see the module's cautions)."""
    updated = params
    for vectors, side, strength in ((confirmed, "m", m_strength), (rejected, "u", u_strength)):
        if vectors is None or len(vectors) == 0 or strength is None:
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


def recalibrate_from_vectors(
    model: EvidenceModel,
    confirmed: ComparisonVectors | None,
    rejected: ComparisonVectors | None,
    *,
    strength: float = RECALIBRATION_STRENGTH,
    base: Recalibration = IDENTITY,
    version: str | None = None,
    today: date | None = None,
) -> ModelParams:
    """The model's parameters with a recalibration fitted on the decided pairs' totals.

    Totals are the model's own (its current m, u and prior); the fit starts from, and is
    pulled toward, ``base`` (the shift the re-match applied before any decision, so the
    first decisions move probabilities a little, not all at once). The step and the
    fitted numbers go into the history. With no decisions the parameters come back
    unchanged.
    """
    sides = [(v, same) for v, same in ((confirmed, True), (rejected, False))
             if v is not None and len(v)]  # fmt: skip
    if not sides:
        return model.params
    totals = np.concatenate([model.weights_of(v) for v, _ in sides])
    same = np.concatenate([np.full(len(v), flag) for v, flag in sides])
    fitted = fit_recalibration(totals, same, strength=strength, base=base)
    return model.params.evolved(
        step="recalibration",
        detail={
            "confirmed": int(same.sum()),
            "rejected": int((~same).sum()),
            "slope": round(fitted.slope, 6),
            "intercept": round(fitted.intercept, 6),
            "strength": strength,
        },
        version=version or model.version,
        today=today,
        recalibration=fitted,
    )


def learn_from_decisions(
    model: EvidenceModel,
    pairs: Iterable[LabelledPair],
    *,
    m_strength: float = M_STRENGTH,
    u_strength: float | None = U_STRENGTH,
    recalibration_strength: float = RECALIBRATION_STRENGTH,
    recalibration_base: Recalibration = IDENTITY,
    version: str | None = None,
    today: date | None = None,
) -> EvidenceModel:
    """A new model whose m (and u, given ``u_strength``), then recalibration (starting
    from ``recalibration_base``), have learned from decided pairs."""
    decided = list(pairs)
    confirmed = model.comparison_vectors((p.missing, p.found) for p in decided if p.same)
    rejected = model.comparison_vectors((p.missing, p.found) for p in decided if not p.same)
    params = update_from_vectors(
        model.params, confirmed, rejected, m_strength=m_strength, u_strength=u_strength,
        version=version, today=today,
    )  # fmt: skip
    updated = model.with_params(params)
    params = recalibrate_from_vectors(
        updated, confirmed, rejected, strength=recalibration_strength,
        base=recalibration_base, today=today,
    )  # fmt: skip
    return model.with_params(params)
