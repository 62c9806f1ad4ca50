"""Recalibration: the model's log2 odds, straightened by reviewers' decisions.

The score adds each comparison's log2 Bayes factor as if the comparisons were
independent given "same person" or "different people". They are not: a shortlisted pair
that agrees on name often agrees on place and age for the same reason (a common name in
a populous province, a child compared with children), so among the pairs a reviewer
reads the summed evidence is too strong and the probabilities over-confident, while the
ranking is fine. A recalibration maps the total ``t`` (prior plus terms, log2 odds) to
``slope * t + intercept``; the slope is kept positive, so ranks never change.

It is fitted on pairs reviewers decided (confirmed: same person; rejected: different
people), by logistic regression on ``t``. Decided pairs are the shortlisted ones, which
is where probabilities are read, so that is where they should be right; far below the
shortlist the correction is an extrapolation, harmless because nobody reads those.
A prior pulls the two numbers toward a base (no correction, by default) with the
weight of ``strength`` decisions, so a handful of decisions barely moves them.

Before any decision, :func:`coherent_with_prior` lowers the log2 odds without labels, so
that the probabilities of all pairs a re-match scored add up to the matches the prior
expects (the average posterior of a coherent model is its prior); the first fit on
decisions then starts from that shift as its base.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

MIN_SLOPE: Final = 0.05
"""The smallest slope a fit returns: positive, so the correction never reorders pairs."""
STRENGTH: Final = 200.0
"""Decisions' worth of belief in the base recalibration (a few days of reviewing)."""
RIDGE: Final = 1e-9
"""A whisper of a pull toward the base, so equal totals still give one answer."""
_LN2: Final = math.log(2.0)


@dataclass(frozen=True)
class Recalibration:
    """Calibrated log2 odds ``slope * total + intercept`` from the model's total.

    ``decisions`` is how many reviewer decisions it was fitted on (0: not fitted).
    """

    slope: float = 1.0
    intercept: float = 0.0
    decisions: int = 0
    expected_matches: float | None = None
    """Set when fitted without labels (:func:`coherent_with_prior`): the matches the
    prior expects among all pairs, which the probabilities were made to add up to."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.slope) and self.slope > 0):
            raise ValueError(f"a recalibration's slope must be positive, got {self.slope}")
        if not math.isfinite(self.intercept):
            raise ValueError(f"a recalibration's intercept must be finite, got {self.intercept}")
        if self.decisions < 0:
            raise ValueError(f"decisions must not be negative, got {self.decisions}")
        if self.expected_matches is not None and not (
            math.isfinite(self.expected_matches) and self.expected_matches > 0
        ):
            raise ValueError(f"expected matches must be positive, got {self.expected_matches}")

    @property
    def is_identity(self) -> bool:
        """True when it changes nothing."""
        return self.slope == 1.0 and self.intercept == 0.0

    def log_odds(self, total: float) -> float:
        """The calibrated log2 odds of a total weight."""
        return self.slope * total + self.intercept

    def probability(self, total: float) -> float:
        """The calibrated match probability of a total weight (log2 odds)."""
        return float(1.0 / (1.0 + 2.0 ** (-self.log_odds(total))))

    def describe(self) -> str:
        """One line a reviewer can read."""
        if self.expected_matches is not None and self.intercept == 0.0:
            return (
                f"not lowered: the probabilities add up to no more than the "
                f"{self.expected_matches:.4g} matches the prior expects"
            )
        if self.is_identity:
            return "no recalibration"
        if self.expected_matches is not None:
            aim = "as near to" if self.intercept <= -MAX_SHIFT else "so the probabilities add up to"
            return (
                f"lowered {-self.intercept:.3g} bits {aim} the {self.expected_matches:.4g} "
                f"matches the prior expects"
            )
        return (
            f"recalibrated from {self.decisions} reviewer decisions: "
            f"{self.slope:.3g} x total {self.intercept:+.2f} bits"
        )

    def to_json(self) -> dict[str, Any]:
        """The stored form (model file and candidate explanations)."""
        out: dict[str, Any] = {
            "slope": round(self.slope, 6),
            "intercept": round(self.intercept, 6),
            "decisions": self.decisions,
        }
        if self.expected_matches is not None:
            out["expected_matches"] = round(self.expected_matches, 6)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Recalibration:
        """The stored form read back (KeyError naming a missing key)."""
        expected = data.get("expected_matches")
        return cls(
            float(data["slope"]),
            float(data["intercept"]),
            int(data.get("decisions", 0)),
            None if expected is None else float(expected),
        )


IDENTITY: Final = Recalibration()
"""No correction."""


def _objective(
    theta: NDArray[np.float64], x: NDArray[np.float64], y: NDArray[np.float64],
    w: NDArray[np.float64], base: NDArray[np.float64],
) -> float:  # fmt: skip
    eta = _LN2 * (x @ theta)
    d = theta - base
    return float(np.sum(w * (np.logaddexp(0.0, eta) - y * eta))) + 0.5 * RIDGE * float(d @ d)


def _newton(
    theta: NDArray[np.float64], free: NDArray[np.bool_], x: NDArray[np.float64],
    y: NDArray[np.float64], w: NDArray[np.float64], base: NDArray[np.float64],
) -> NDArray[np.float64]:  # fmt: skip
    """Minimise the weighted, soft-labelled logistic loss over the ``free`` parameters."""
    theta = theta.copy()
    current = _objective(theta, x, y, w, base)
    for _ in range(100):
        eta = _LN2 * (x @ theta)
        p = 1.0 / (1.0 + np.exp(-np.clip(eta, -700.0, 700.0)))
        gradient = _LN2 * (x.T @ (w * (p - y))) + RIDGE * (theta - base)
        hessian = _LN2**2 * (x.T * (w * p * (1.0 - p))) @ x + RIDGE * np.eye(2)
        step = np.zeros_like(theta)
        step[free] = np.linalg.solve(hessian[np.ix_(free, free)], gradient[free])
        size = 1.0
        while True:  # backtracking: the loss is convex, a short enough step improves it
            candidate = theta - size * step
            value = _objective(candidate, x, y, w, base)
            if value <= current or size < 1e-10:
                break
            size /= 2.0
        theta, previous, current = candidate, current, value
        if float(np.max(np.abs(size * step))) < 1e-10 or previous - current < 1e-12:
            break
    return theta


def fit_recalibration(
    totals: Sequence[float] | NDArray[np.float64],
    same: Sequence[bool] | NDArray[np.bool_],
    *,
    strength: float = STRENGTH,
    base: Recalibration = IDENTITY,
) -> Recalibration:
    """Fit slope and intercept on decided pairs' totals (log2 odds) and outcomes.

    Penalised logistic regression by Newton's method. The prior is worth ``strength``
    decisions: as many pseudo-decisions, spread over the same totals, whose outcomes
    follow ``base`` (a soft label, ``base.probability(total)``). Near the base this is
    the Gaussian prior whose precision is ``strength`` times one decision's information;
    unlike a fixed Gaussian it keeps its weight when the decisions sit far from the base.
    With no decisions the base comes back; with few it barely moves; with many the data
    decide. A slope that would fall below :data:`MIN_SLOPE` is held there and the
    intercept refitted.
    """
    t = np.asarray(totals, dtype=np.float64).reshape(-1)
    decided = np.asarray(same, dtype=np.float64).reshape(-1)
    if len(t) != len(decided):
        raise ValueError(f"{len(t)} totals but {len(decided)} decisions")
    if not np.all(np.isfinite(t)):
        raise ValueError("totals must be finite log2 odds")
    if not (math.isfinite(strength) and strength > 0):
        raise ValueError(f"strength must be a positive number of decisions, got {strength}")
    if len(t) == 0:
        return base
    x = np.column_stack([t, np.ones_like(t)])
    centre = np.array([base.slope, base.intercept])
    prior = 1.0 / (1.0 + np.exp2(-np.clip(x @ centre, -1000.0, 1000.0)))
    pseudo = strength / len(t)  # pseudo-decisions at each total
    w = np.full(len(t), 1.0 + pseudo)
    y = (decided + pseudo * prior) / w
    theta = _newton(centre, np.array([True, True]), x, y, w, centre)
    if theta[0] < MIN_SLOPE:
        start = np.array([MIN_SLOPE, theta[1]])
        theta = _newton(start, np.array([False, True]), x, y, w, centre)
    return Recalibration(float(theta[0]), float(theta[1]), base.decisions + len(t))


class WeightTally:
    """How many pairs had each total weight (log2 odds), in bins of 1/16 bit: what
    :func:`coherent_with_prior` needs of millions of pairs, in fixed memory."""

    LOW: Final = -128.0
    STEP: Final = 1.0 / 16.0
    BINS: Final = 4096

    def __init__(self) -> None:
        self._counts = [0.0] * self.BINS

    def add(self, weight: float, pairs: float = 1.0) -> None:
        """Count a pair's total weight (beyond +-128 bits it counts at the edge), or as
        many ``pairs`` as a sampled one stands for."""
        index = int((weight - self.LOW) / self.STEP)
        self._counts[min(max(index, 0), self.BINS - 1)] += pairs

    def add_weights(self, weights: NDArray[np.float64]) -> None:
        """Count many pairs' total weights at once (as :meth:`add` one by one)."""
        index = np.trunc((np.asarray(weights, dtype=np.float64) - self.LOW) / self.STEP)
        index = np.clip(index, 0, self.BINS - 1).astype(np.int64)
        counts = np.bincount(index, minlength=self.BINS)
        self._counts = [c + float(n) for c, n in zip(self._counts, counts.tolist(), strict=True)]

    def bins(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Each non-empty bin's centre and count."""
        counts = np.asarray(self._counts, dtype=np.float64)
        centres = self.LOW + (np.arange(self.BINS, dtype=np.float64) + 0.5) * self.STEP
        used = counts > 0
        return centres[used], counts[used]


SHIFT_STEP: Final = 1.0 / 8.0
"""The shift is a whole number of eighths of a bit (a probability off by under 9%)."""
MIN_EXPECTED_MATCHES: Final = 20.0
"""Fewer matches expected than this, and their sum says too little to shift by."""
MAX_SHIFT: Final = 6.0
"""The most :func:`coherent_with_prior` lowers the log2 odds, in bits. Evidence counted
twice is worth a few bits (3.6 in the evaluation); needing more means the prior does not
fit the store (:meth:`~.model.EvidenceModel.with_prior`), which no shift should hide."""


def expected_matches(prior: float, reports: int, found_persons: int) -> float:
    """The matches a prior expects between ``reports`` and ``found_persons``: a match
    per random pair with probability ``prior``, but no more than one per person."""
    if not 0.0 < prior < 1.0:
        raise ValueError(f"a prior must be between 0 and 1, got {prior}")
    return min(prior * reports * found_persons, float(reports), float(found_persons))


def label_free_shift(
    tally: WeightTally, prior: float, reports: int, found_persons: int
) -> Recalibration | None:
    """The shift a re-match applies before any decision (:func:`coherent_with_prior`
    toward :func:`expected_matches`), or None when the store is too small for the sum of
    probabilities to mean much (fewer than :data:`MIN_EXPECTED_MATCHES` expected)."""
    # Two significant figures: a few more records barely move the matches expected, and
    # must not move every stored probability with them.
    expected = float(f"{expected_matches(prior, reports, found_persons):.2g}")
    if expected < MIN_EXPECTED_MATCHES:
        return None
    return coherent_with_prior(tally, expected)


def coherent_with_prior(tally: WeightTally, expected: float) -> Recalibration:
    """A shift of the log2 odds, fitted without labels, that makes the probabilities of
    the pairs in ``tally`` add up to ``expected`` matches (:func:`expected_matches`).

    Averaged over every pair, a coherent model's probability of a match is its prior
    (the law of total probability). Summing Bayes factors of comparisons that are not
    independent breaks that: among 2,000 found persons and 4,000 reports with 800 true
    pairs the probabilities added up to about 2,300. Pairs not in ``tally`` (left out by
    blocking) count as probability nought. The shift only lowers, by at most
    :data:`MAX_SHIFT` bits (a sum short of the prior's may be matches blocking left out,
    not modesty), in steps of :data:`SHIFT_STEP`, rounded down.
    """
    if not expected > 0.0:
        raise ValueError(f"expected matches must be positive, got {expected}")
    centres, counts = tally.bins()
    if len(counts) == 0:
        return IDENTITY

    def matches(shift: float) -> float:
        return float(counts @ (1.0 / (1.0 + np.exp2(-(centres + shift)))))

    if matches(0.0) <= expected:
        return Recalibration(1.0, 0.0, 0, expected)
    low, high = -MAX_SHIFT, 0.0
    for _ in range(50):  # bisection: the sum rises with the shift
        middle = (low + high) / 2.0
        if matches(middle) > expected:
            high = middle
        else:
            low = middle
    # In whole steps of SHIFT_STEP, down: a store that barely changed since the last
    # re-match keeps the same shift, so its stored candidates are left as they were.
    return Recalibration(1.0, math.floor(low / SHIFT_STEP) * SHIFT_STEP, 0, expected)
