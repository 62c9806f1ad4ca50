"""What a face distance is worth, as a curve: a log2 likelihood ratio that falls smoothly
with distance, one curve per stratum of photo ages.

Bins threw the distance's order away: in a flat stratum (a childhood photo against an
adult one) every bin from "middling" to "far" weighed about the same, so a true pair at
0.55 and a stranger at 0.70 tied, and a found person's twenty kept candidates were
chosen among hundreds of ties. A curve keeps the order: nearer is always stronger.

The curve is a logistic calibration of distance, as forensic face comparison calibrates
scores (Morrison 2013; Ramos et al. 2017): same-person and different-people pairs,
each class weighted to one half, are fitted by a logistic regression on the distance,
whose log odds are then the log likelihood ratio. It is bounded softly (``tanh``) by the
strongest weights the fitting pairs showed, so it never claims more than its data: no
bin of the fitting data, for or against, was ever stronger than the bound.

The curve is read at the distance itself, not a rounded one: a rounding would tie
rivals again (the columnar scorer computes the closest faces' distance as the per-pair
comparison does, bit for bit, so the two weigh alike without it).

The uncertainty is a bootstrap over identities: the 5th and 95th percentiles of the
curve's weight at a few distances, refitted on identities drawn with replacement.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

INTERVAL_AT: Final = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
"""The distances at which the curve's bootstrap interval is kept."""
BOUND_BINS: Final = tuple(round(0.2 + 0.05 * k, 2) for k in range(15))
"""Bin edges over which the strongest weight the fitting data showed is read."""
SLOPE_RIDGE: Final = 1e-7
"""Penalty on the squared slope (natural-log odds a unit of distance; all pairs weigh one
in all): four orders below the likelihood's own curvature where the classes overlap, it
keeps a fit on classes that do not overlap at all finite."""
MIN_CLASS_PAIRS: Final = 20
"""Fewer pairs than this on either side cannot fit a curve."""


@dataclass(frozen=True)
class FaceCurve:
    """log2 LR(d) = bound * tanh(L(d) / bound), L(d) = intercept + slope * (d - centre),
    the bound being ``most`` for L >= 0 and ``-least`` below.

    ``n_same`` identities and ``n_different`` pairs of identities were fitted on;
    ``interval`` holds (distance, 5th percentile, 95th percentile) of the weight under
    the bootstrap; ``source`` says which photos.
    """

    intercept: float
    slope: float
    centre: float
    most: float
    least: float
    n_same: int
    n_different: int
    source: str
    interval: tuple[tuple[float, float, float], ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    scale: float = 1.0
    """What the weight is multiplied by: below one only for a poor photo's stratum that
    had too few pairs of its own and takes its good curve scaled (:func:`fit_poor_scale`)."""

    def __post_init__(self) -> None:
        if not 0.0 < self.scale <= 1.0:
            raise ValueError(f"a curve's scale must be in (0, 1], got {self.scale}")
        if not self.slope < 0.0:
            raise ValueError(f"a face curve must fall with distance (slope {self.slope})")
        if not (self.most > 0.0 and self.least < 0.0):
            raise ValueError(f"bounds must be most > 0 > least, got {self.most}, {self.least}")

    def _bounded(self, linear: float) -> float:
        bound = self.most if linear >= 0.0 else -self.least
        return self.scale * bound * math.tanh(linear / bound)

    def weight(self, distance: float) -> float:
        """The log2 likelihood ratio of a closest-faces distance."""
        return self._bounded(self.intercept + self.slope * (distance - self.centre))

    def weights(self, distances: NDArray[np.float64]) -> NDArray[np.float64]:
        """:meth:`weight` of many distances (numpy's tanh may differ from math's in the
        last bit: far inside the scorers' agreement of 1e-9 bits)."""
        linear = self.intercept + self.slope * (distances - self.centre)
        bound = np.where(linear >= 0.0, self.most, -self.least)
        result: NDArray[np.float64] = self.scale * bound * np.tanh(linear / bound)
        return result

    def interval_at(self, distance: float) -> tuple[float, float] | None:
        """The bootstrap interval of the weight at ``distance`` (read between the distances
        it was kept at), or None outside them or without one."""
        if not self.interval:
            return None
        at = [row[0] for row in self.interval]
        if not at[0] <= distance <= at[-1]:
            return None
        low = float(np.interp(distance, at, [row[1] for row in self.interval]))
        high = float(np.interp(distance, at, [row[2] for row in self.interval]))
        return low * self.scale, high * self.scale

    def as_json(self) -> dict[str, Any]:
        """The curve as a model file holds it."""
        return {
            "intercept": self.intercept, "slope": self.slope, "centre": self.centre,
            "most": self.most, "least": self.least, "n_same": self.n_same,
            "n_different": self.n_different, "source": self.source,
            "interval": [list(row) for row in self.interval], "details": dict(self.details),
            "scale": self.scale,
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaceCurve:
        """A curve from a model file (KeyError, TypeError or ValueError if malformed)."""
        return cls(
            intercept=float(data["intercept"]), slope=float(data["slope"]),
            centre=float(data["centre"]), most=float(data["most"]),
            least=float(data["least"]), n_same=int(data["n_same"]),
            n_different=int(data["n_different"]), source=str(data["source"]),
            interval=tuple(
                (float(a), float(b), float(c)) for a, b, c in data.get("interval", ())
            ),
            details=dict(data.get("details", {})),
            scale=float(data.get("scale", 1.0)),
        )  # fmt: skip


def weigh_by_curves(
    curves: Sequence[FaceCurve | None],
    term: NDArray[np.float64],
    levels: NDArray[np.integer[Any]],
    strata: NDArray[np.integer[Any]],
    values: NDArray[np.float64],
) -> None:
    """Overwrite ``term`` (each pair's level weight), in place, with the curve of the
    pair's stratum at its value, for every non-null pair that has a value and a stratum
    that has a curve (``curves[s]``; empty: none has one)."""
    for s, curve in enumerate(curves):
        if curve is None:
            continue
        rows = np.flatnonzero((strata == s) & (levels > 0) & ~np.isnan(values))
        term[rows] = curve.weights(values[rows])


@dataclass(frozen=True)
class LabelledDistances:
    """Distances of same-person and different-people pairs, with the weight each pair
    carries (an identity, or a pair of identities, weighs one in all) and the identity
    (pair) it belongs to, for the bootstrap."""

    same: NDArray[np.float64]
    same_weight: NDArray[np.float64]
    same_group: NDArray[np.int64]
    different: NDArray[np.float64]
    different_weight: NDArray[np.float64]
    different_group: NDArray[np.int64]


def _logistic(x: NDArray[np.float64], y: NDArray[np.float64], w: NDArray[np.float64]
              ) -> tuple[float, float]:  # fmt: skip
    """(a, b) of log odds a + b x, by Newton's method on the weighted log likelihood with
    a weak ridge on the slope (:data:`SLOPE_RIDGE`): where the classes do not overlap at
    all (a small bootstrap draw) the plain fit would run to an infinite slope."""
    a, b = 0.0, 0.0
    for _ in range(200):
        p = 0.5 * (1.0 + np.tanh(0.5 * (a + b * x)))  # the logistic, without overflow
        g = w * (y - p)
        h = w * p * (1.0 - p)
        grad = np.array([g.sum(), (g * x).sum() - SLOPE_RIDGE * b])
        hess = np.array(
            [[h.sum(), (h * x).sum()], [(h * x).sum(), (h * x * x).sum() + SLOPE_RIDGE]]
        )
        step = np.linalg.solve(hess + 1e-12 * np.eye(2), grad)
        a, b = a + float(step[0]), b + float(step[1])
        if not (math.isfinite(a) and math.isfinite(b)):
            break
        if float(np.abs(step).max()) < 1e-10:
            return a, b
    raise ValueError("the logistic fit of these distances did not converge")


def _linear(distances: LabelledDistances) -> tuple[float, float, float]:
    """(intercept, slope, centre) in bits, both classes weighted to one half."""
    same_w = distances.same_weight / distances.same_weight.sum()
    diff_w = distances.different_weight / distances.different_weight.sum()
    x = np.concatenate([distances.same, distances.different])
    centre = float(np.median(x))
    y = np.concatenate([np.ones(len(distances.same)), np.zeros(len(distances.different))])
    w = np.concatenate([same_w, diff_w]) * 0.5
    a, b = _logistic(x - centre, y, w)
    # Balanced classes: the fitted log odds are the log likelihood ratio.
    return a / math.log(2.0), b / math.log(2.0), centre


def _binned_bounds(distances: LabelledDistances) -> tuple[float, float]:
    """The strongest weights for and against that any bin of the data shows (Jeffreys)."""
    edges = np.asarray(BOUND_BINS)
    bins = len(edges) + 1
    same = np.bincount(np.searchsorted(edges, distances.same, side="right"),
                       weights=distances.same_weight, minlength=bins)  # fmt: skip
    different = np.bincount(np.searchsorted(edges, distances.different, side="right"),
                            weights=distances.different_weight, minlength=bins)  # fmt: skip
    same_share = (same + 0.5) / (same.sum() + 0.5 * bins)
    diff_share = (different + 0.5) / (different.sum() + 0.5 * bins)
    ratios = np.log2(same_share / diff_share)
    return max(float(ratios.max()), 1.0), min(float(ratios.min()), -1.0)


def _take_groups(values: NDArray[np.float64], weights: NDArray[np.float64],
                 groups: NDArray[np.int64], chosen: NDArray[np.int64]
                 ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:  # fmt: skip
    order = np.argsort(groups, kind="stable")
    starts = np.searchsorted(groups[order], chosen, side="left")
    ends = np.searchsorted(groups[order], chosen, side="right")
    rows = np.concatenate([order[s:e] for s, e in zip(starts, ends, strict=True)])
    return values[rows], weights[rows]


def fit_face_curve(
    distances: LabelledDistances, *, source: str, bootstrap: int = 200, seed: int = 0
) -> FaceCurve:
    """The logistic curve of these labelled distances, with its bootstrap interval.

    Raises ValueError when a side has too few pairs or the distances do not separate the
    two (a curve that would not fall with distance).
    """
    if len(distances.same) < MIN_CLASS_PAIRS or len(distances.different) < MIN_CLASS_PAIRS:
        raise ValueError(
            f"a face curve needs {MIN_CLASS_PAIRS} pairs a side, got {len(distances.same)} "
            f"same-person and {len(distances.different)} different-people pairs"
        )
    intercept, slope, centre = _linear(distances)
    if not slope < 0.0:
        raise ValueError("these distances do not separate the same person from others")
    most, least = _binned_bounds(distances)
    same_groups = np.unique(distances.same_group)
    diff_groups = np.unique(distances.different_group)
    rng = np.random.default_rng(seed)
    at = np.asarray(INTERVAL_AT)
    draws = []
    for _ in range(bootstrap):
        same, same_w = _take_groups(distances.same, distances.same_weight, distances.same_group,
                                    rng.choice(same_groups, len(same_groups)))  # fmt: skip
        diff, diff_w = _take_groups(
            distances.different, distances.different_weight, distances.different_group,
            rng.choice(diff_groups, len(diff_groups)),
        )  # fmt: skip
        try:
            a, b, c = _linear(LabelledDistances(same, same_w, np.zeros(0, np.int64), diff,
                                                diff_w, np.zeros(0, np.int64)))  # fmt: skip
        except ValueError:
            continue  # a draw the fit cannot settle is left out of the interval
        if b < 0.0:
            draw = FaceCurve(a, b, c, most, least, 0, 0, "")
            draws.append([draw.weight(float(d)) for d in at])
    interval: tuple[tuple[float, float, float], ...] = ()
    if draws:
        low, high = np.percentile(np.asarray(draws), [5.0, 95.0], axis=0)
        interval = tuple((float(d), float(lo), float(hi))
                         for d, lo, hi in zip(at, low, high, strict=True))  # fmt: skip
    return FaceCurve(
        intercept=intercept, slope=slope, centre=centre, most=most, least=least,
        n_same=len(same_groups), n_different=len(diff_groups), source=source,
        interval=interval,
        details={
            "same_pairs": len(distances.same), "different_pairs": len(distances.different),
            "same_mean": float(np.average(distances.same, weights=distances.same_weight)),
            "different_mean": float(
                np.average(distances.different, weights=distances.different_weight)
            ),
        },
    )  # fmt: skip


def fit_poor_scale(
    weights: NDArray[np.float64], same: NDArray[np.bool_], pair_weights: NDArray[np.float64]
) -> float:
    """The scale (0.05 to 1, in steps of 0.01) that best explains pairs with a poor photo.

    ``weights`` are what their strata's curves give each pair (in bits), ``same`` whether
    it is the same person, ``pair_weights`` what each pair weighs; the two classes weigh
    one half each, so the scaled weight is read as the log2 likelihood ratio. Scaling
    keeps the order of distances and shrinks the evidence towards none both ways.
    """
    w = np.where(same, 0.5 * pair_weights / pair_weights[same].sum(),
                 0.5 * pair_weights / pair_weights[~same].sum())  # fmt: skip
    best, best_loss = 1.0, math.inf
    for scale in np.arange(0.05, 1.0001, 0.01):
        log_odds = scale * weights * math.log(2.0)
        # -log p(label): log(1 + e^-x) for the same person, log(1 + e^x) for others.
        loss = float((w * np.logaddexp(0.0, np.where(same, -log_odds, log_odds))).sum())
        if loss < best_loss:
            best, best_loss = float(round(scale, 2)), loss
    return best
