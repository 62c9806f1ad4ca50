"""Refitting a model on a store's records without labels, then with reviewers' decisions.

1. u from random pairs (almost all different people): :func:`~.em.estimate_u`;
2. m by EM with u held, the way splink trains with a blocking rule: over the undecided
   candidate pairs that agree on a rare name (the same name or the same sound, a name
   the reports are expected to hold at most :data:`RARE_NAME_NAMESAKES` other times),
   mostly the same person, EM learns how true pairs compare on everything else:
   places, dates, ages, heights, accents, marks. The name chose these pairs, so it sits
   the session out and keeps its m; the face takes part but keeps its m, calibrated on
   labelled photos. The fit leans (``em_smoothing``) on the documented m, not on the
   model being refitted, so refitting every night does not count the same pairs again
   and again. The session's own share of matches is its business; the model's prior is
   held (without labels, more matches and evidence counted twice look alike, and the
   re-match's shift, :func:`~.recalibration.coherent_with_prior`, relies on it; set it
   for a known pool with ``EvidenceModel.with_prior``). EM over all candidates with
   random pairs weighted up instead took correlated agreement among different people
   for matches: on the evaluation's population it lowered recall@10 from 0.935 to 0.892;
3. reviewers' confirmed and rejected pairs, as a Bayesian update
   (:mod:`~.decisions`), then the recalibration of the total on those pairs' totals
   under the updated parameters (:mod:`~.recalibration`), starting from the shift a
   re-match applies before any decision (found here on the same weighted sample of all
   pairs), so the first decisions do not undo it.

Every step is written into the model's history under one new version.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Final

import numpy as np
from numpy.typing import NDArray

from matching.evidence_model.decisions import (
    M_STRENGTH,
    RECALIBRATION_STRENGTH,
    U_STRENGTH,
    LabelledPair,
    learn_from_decisions,
)
from matching.evidence_model.em import EMResult, estimate_u, fit_em
from matching.evidence_model.model import EvidenceModel
from matching.evidence_model.params import ModelParams, next_version
from matching.evidence_model.priors import prior_params
from matching.evidence_model.recalibration import (
    IDENTITY,
    Recalibration,
    WeightTally,
    label_free_shift,
)
from matching.evidence_model.vectors import ComparisonVectors
from matching.names import NameLevel
from matching.views import FoundView, MissingView

EM_SMOOTHING = 50.0
"""Pairs' worth of the starting m kept by EM: correlated agreement among different people
(children against children) pulls m where it should not go; the documented m anchors it."""
RARE_NAME_NAMESAKES = 0.1
"""A name is rare enough to learn from when its share of people times the number of
reports, the namesakes a report's name is expected to have among them, is at most this.
Where many found persons have a report in the store, pairs agreeing on such a name are
mostly the same person; EM sorts out the rest on the other comparisons."""
MIN_EM_PAIRS = 50
"""Fewer pairs agreeing on a rare name than this teach EM too little: m is kept."""
BLOCKED_ON: Final = ("name",)
"""The comparison that chose the session's pairs: as with splink's blocking rule, it sits
the session out (its agreement is certain among the pairs, so they cannot teach its m,
and its weight would call every pair a match)."""
CALIBRATED: Final = ("face",)
"""Comparisons whose m EM leaves alone: the face is calibrated on labelled photos."""
SESSION_MAX_PRIOR = 0.99
"""The session's share of matches may be high: its pairs were chosen to be matches."""
_AGREEING_NAME: Final = (int(NameLevel.EXACT), int(NameLevel.SAME_SOUND))
U_SMOOTHING = 100.0
"""Pairs' worth of the current u kept when counting random pairs (small strata stay put)."""


@dataclass(frozen=True)
class RefitReport:
    """What a refit used and found."""

    version: str
    random_pairs: int
    em_pairs: int
    em_iterations: int
    em_converged: bool | None
    prior: float
    confirmed: int
    rejected: int
    recalibration_slope: float = 1.0
    recalibration_intercept: float = 0.0


def random_pairs(
    n_missing: int, n_found: int, n_pairs: int, *, seed: int = 0
) -> list[tuple[int, int]]:
    """Distinct random (report index, found index) pairs (all pairs if fewer exist)."""
    total = n_missing * n_found
    if total == 0:
        return []
    rng = random.Random(f"xunqin-random-pairs:{seed}")
    if n_pairs >= total:
        return [(i, j) for i in range(n_missing) for j in range(n_found)]
    chosen = rng.sample(range(total), n_pairs)
    return [divmod(k, n_found) for k in chosen]


def rare_name_pairs(vectors: ComparisonVectors, n_reports: int) -> NDArray[np.bool_]:
    """Which pairs agree on a rare name (see :data:`RARE_NAME_NAMESAKES`): the same name
    or the same sound, of a name whose share of people times ``n_reports`` is small."""
    if "name" not in vectors.names:
        return np.zeros(len(vectors), dtype=np.bool_)
    column = vectors.names.index("name")
    share = vectors.term_frequency[:, column]
    agreeing = np.isin(vectors.levels[:, column], _AGREEING_NAME)
    with np.errstate(invalid="ignore"):  # NaN: no agreeing name, never rare
        return agreeing & (share * n_reports <= RARE_NAME_NAMESAKES)


def _em_on_rare_names(
    params: ModelParams, rare: ComparisonVectors, *, smoothing: float, version: str
) -> EMResult:
    """m of every comparison but the name and the face, by EM over pairs agreeing on a
    rare name, with the name left out (it chose them); the model's prior is kept. The fit
    leans on the documented m (:func:`~.priors.prior_params`), not on the model's own, so
    a refit of a refit does not count the same pairs twice."""
    session = rare.without(BLOCKED_ON)
    em = fit_em(
        params, session, fix_u=True, smoothing=smoothing, version=version,
        fixed=[name for name in CALIBRATED if name in session.names],
        max_prior=SESSION_MAX_PRIOR, anchor=prior_params(),
    )  # fmt: skip
    # The session's lambda is its own share of matches; the model's prior stays.
    entry = {**em.params.history[-1], "session": "pairs agreeing on a rare name",
             "model_prior_kept": params.prior}  # fmt: skip
    kept = replace(em.params, prior=params.prior, history=(*em.params.history[:-1], entry))
    return replace(em, params=kept)


def _shift(
    model: EvidenceModel,
    vectors: ComparisonVectors,
    weights: NDArray[np.float64],
    reports: int,
    found_persons: int,
) -> Recalibration:
    """The shift a re-match would apply without labels, from a weighted sample of all
    pairs (:func:`~.recalibration.label_free_shift`); identity for a small store."""
    tally = WeightTally()
    for total, pairs in zip(model.weights_of(vectors).tolist(), weights.tolist(), strict=True):
        tally.add(total, pairs)
    return label_free_shift(tally, model.params.prior, reports, found_persons) or IDENTITY


def refit_model(
    model: EvidenceModel,
    missing: Sequence[MissingView],
    found: Sequence[FoundView],
    *,
    candidate_pairs: Sequence[tuple[int, int]] = (),
    decided: Sequence[LabelledPair] = (),
    n_random_pairs: int = 200_000,
    seed: int = 0,
    u_smoothing: float = U_SMOOTHING,
    em_smoothing: float = EM_SMOOTHING,
    m_strength: float = M_STRENGTH,
    u_strength: float | None = U_STRENGTH,
    recalibration_strength: float = RECALIBRATION_STRENGTH,
    version: str | None = None,
    today: date | None = None,
) -> tuple[EvidenceModel, RefitReport]:
    """Refit u on random pairs, m by EM on candidates agreeing on a rare name, then learn
    decisions.

    Pairs are (index into ``missing``, index into ``found``). Steps with no input are
    skipped; the result carries one new version.
    """
    target = version or next_version(model.version, today=today)
    params = model.params
    randoms = random_pairs(len(missing), len(found), n_random_pairs, seed=seed)
    if randoms:
        vectors = model.comparison_vectors((missing[i], found[j]) for i, j in randoms)
        params = estimate_u(params, vectors, smoothing=u_smoothing, version=target)
    em: EMResult | None = None
    shift = IDENTITY
    if candidate_pairs:
        # A stratified sample of all pairs: every candidate once, and the random pairs
        # that are not candidates weighted up to stand for all the other pairs.
        chosen = set(candidate_pairs)
        rest = [p for p in randoms if p not in chosen]
        pairs = [*sorted(chosen), *rest]
        others = len(missing) * len(found) - len(chosen)
        weights = np.ones(len(pairs))
        if rest:
            weights[len(chosen) :] = others / len(rest)
        vectors = model.comparison_vectors((missing[i], found[j]) for i, j in pairs)
        # Decided pairs teach through the decisions below, not as unlabelled pairs.
        decided_ids = {(p.missing.id, p.found.id) for p in decided}
        undecided = np.array(
            [(missing[i].id, found[j].id) not in decided_ids for i, j in sorted(chosen)],
            dtype=np.bool_,
        )
        candidates = vectors.take(np.arange(len(chosen)))
        rare = candidates.take(rare_name_pairs(candidates, len(missing)) & undecided)
        if len(rare) >= MIN_EM_PAIRS:
            em = _em_on_rare_names(params, rare, smoothing=em_smoothing, version=target)
            params = em.params
        shift = _shift(model.with_params(params), vectors, weights, len(missing), len(found))
    if decided:
        params = learn_from_decisions(
            model.with_params(params), decided, m_strength=m_strength, u_strength=u_strength,
            recalibration_strength=recalibration_strength,
            recalibration_base=shift, version=target,
        ).params  # fmt: skip
    params = replace(params, version=target)
    report = RefitReport(
        version=target,
        random_pairs=len(randoms),
        em_pairs=0 if em is None else len(rare),
        em_iterations=0 if em is None else em.iterations,
        em_converged=None if em is None else em.converged,
        prior=params.prior,
        confirmed=sum(1 for p in decided if p.same),
        rejected=sum(1 for p in decided if not p.same),
        recalibration_slope=params.recalibration.slope,
        recalibration_intercept=params.recalibration.intercept,
    )
    return model.with_params(params), report
