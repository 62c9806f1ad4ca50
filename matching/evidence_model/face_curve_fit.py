"""Fitting the face curves, one a stratum of photo ages, on labelled photos.

Which pairs stand for which stratum (the strata are
:func:`~.comparisons.face.face_stratum`'s; a photo's age comes from its file name, and
the years between two photos of one person are the difference of their ages):

- **adult_recent**: same person: the adult sets, whose photos of a person come from one
  period (ages unknown, taken as adults), and aged photos both 16 or over and under 10
  years apart. Different people: the East Asian sets (:data:`ASIAN_SETS`), since on East
  Asian faces dlib puts different people closer than on Western ones.
- **adult_long**: same person: aged photos both 16 or over, 10 years apart or more;
  different people as above.
- **child_recent** and **child_to_adult**: same person: aged photos, the younger under 16,
  under 5 years apart or 5 and more. Different people: pairs of other people's photos
  at the same ages (the aged set is FG-NET, not East Asian), their distances scaled by
  how much closer East Asian adults come than the aged set's adults
  (:func:`asian_scale`): an assumption, said in the curve's source.
- **ages_unknown**: same person: every pair above, the adult ones weighing three
  quarters (most people in care are adults); different people as for adults.

Each stratum's curve is fitted on the pairs whose photos the intake found good (all
pairs, where too few are). Every stratum has a twin for pairs with a poor photo (small,
blurred, turned or tilted: the development photos hold almost none, so degraded copies
of the labelled photos stand in, :func:`usecases.face_folders.degraded_detector`),
with its own curve; where a stratum has too few poor pairs, its good curve times one
scale fitted on the poor pairs of all strata (:func:`~.face_curve.fit_poor_scale`).

Each identity weighs one in all, spread over its pairs in the stratum; each pair of
identities likewise. Only identities on the calibration side of :func:`calibration_side`
are used: the others are kept for evaluation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Final

import numpy as np
from numpy.typing import NDArray

from matching.evidence_model.comparisons.face import (
    CHILD_PHOTO_UNDER,
    RECENT_ADULT_YEARS,
    RECENT_CHILD_YEARS,
)
from matching.evidence_model.face_calibration import LabelledEmbeddings, distance_matrix
from matching.evidence_model.face_curve import (
    MIN_CLASS_PAIRS,
    FaceCurve,
    LabelledDistances,
    fit_face_curve,
    fit_poor_scale,
)

ADULT_SETS: Final = (
    "asian_faces", "casia_facev5_asian", "lfw_east_asian", "deepface", "five_celebrity",
    "lfw_krasserm",
)  # fmt: skip
"""Sets of adults photographed within a period: same-person pairs of adult_recent."""
ASIAN_SETS: Final = ("asian_faces", "casia_facev5_asian", "lfw_east_asian")
"""Sets whose different-people pairs stand for the service's people."""
AGED_SETS: Final = ("fgnet_aging",)
"""Sets whose photos carry ages (``ageNN_`` file names): the age-gap strata."""
CURVE_SETS: Final = tuple(sorted({*ADULT_SETS, *ASIAN_SETS, *AGED_SETS}))
"""Every set the curves are fitted on."""
ADULT_SHARE_UNKNOWN: Final = 0.75
"""Share of ages_unknown's same-person weight that adult pairs carry."""

PairTest = Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.bool_]]


def calibration_side(identity: str) -> bool:
    """Whether an identity (``"<set>/<name>"``) is used for calibration; the others are
    for evaluation. Fixed by a digest of the name, so it never depends on what else is
    in the folder."""
    return hashlib.blake2b(identity.encode("utf-8"), digest_size=1).digest()[0] % 2 == 0


def degraded_for_calibration(identity: str) -> bool:
    """Whether an identity's photos are also read as degraded copies for the poor strata:
    those the curves are fitted on (their sets', calibration side)."""
    return identity.split("/", 1)[0] in CURVE_SETS and calibration_side(identity)


class _Pairs:
    """Weighted distances gathered identity by identity, with whether either photo of
    each pair is poor."""

    def __init__(self) -> None:
        self.values: list[NDArray[np.float64]] = []
        self.weights: list[NDArray[np.float64]] = []
        self.groups: list[NDArray[np.int64]] = []
        self.poor: list[NDArray[np.bool_]] = []
        self.count = 0

    def add(self, distances: NDArray[np.float64], poor: NDArray[np.bool_],
            weight: float = 1.0) -> None:  # fmt: skip
        if len(distances) == 0:
            return
        self.values.append(distances)
        # An identity weighs one among the good pairs and one among the poor: its poor
        # copies must not thin out its good pairs.
        n_poor = int(poor.sum())
        n_good = len(distances) - n_poor
        self.weights.append(np.where(poor, weight / max(n_poor, 1), weight / max(n_good, 1)))
        self.groups.append(np.full(len(distances), self.count, dtype=np.int64))
        self.poor.append(poor)
        self.count += 1

    def arrays(
        self, poor: bool | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
        """(distances, weights, groups) of the pairs with a poor photo (``poor``), with
        none (not ``poor``), or all (None)."""
        if not self.values:
            return np.zeros(0), np.zeros(0), np.zeros(0, np.int64)
        values, weights = np.concatenate(self.values), np.concatenate(self.weights)
        groups = np.concatenate(self.groups)
        if poor is None:
            return values, weights, groups
        keep = np.concatenate(self.poor) == poor
        return values[keep], weights[keep], groups[keep]


def _members(embeddings: LabelledEmbeddings, sets: Sequence[str]) -> list[NDArray[np.int64]]:
    """Row numbers of each identity of ``sets`` on the calibration side."""
    rows: dict[str, list[int]] = {}
    set_of = embeddings.sets
    for row, identity in enumerate(embeddings.identities.tolist()):
        if set_of[row] in sets and calibration_side(identity):
            rows.setdefault(identity, []).append(row)
    return [np.asarray(rows[k], dtype=np.int64) for k in sorted(rows)]


def _same(embeddings: LabelledEmbeddings, people: list[NDArray[np.int64]], test: PairTest,
          into: _Pairs, weight: float = 1.0) -> None:  # fmt: skip
    ages = embeddings.ages_or_unknown()
    poor = embeddings.poor_or_good()
    sources = embeddings.sources
    for rows in people:
        if len(rows) < 2:
            continue
        d = distance_matrix(embeddings.vectors[rows], embeddings.vectors[rows])
        i, j = np.triu_indices(len(rows), 1)
        keep = test(ages[rows][i], ages[rows][j])
        if sources is not None:
            # A degraded copy against the photo it was made from is no pair of photos.
            keep &= sources[rows][i] != sources[rows][j]
        either = poor[rows][i] | poor[rows][j]
        into.add(d[i, j][keep], either[keep], weight)


def _different(embeddings: LabelledEmbeddings, people: list[NDArray[np.int64]],
               test: PairTest, into: _Pairs, scale: float = 1.0) -> None:  # fmt: skip
    ages = embeddings.ages_or_unknown()
    poor = embeddings.poor_or_good()
    for a in range(len(people)):
        for b in range(a + 1, len(people)):
            ra, rb = people[a], people[b]
            d = distance_matrix(embeddings.vectors[ra], embeddings.vectors[rb])
            keep = test(ages[ra][:, None], ages[rb][None, :])
            either = poor[ra][:, None] | poor[rb][None, :]
            into.add(d[keep] * scale, either[keep])


def _adult(gap_under: float | None, gap_over: float | None) -> PairTest:
    def test(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.bool_]:
        gap = np.abs(a - b)
        ok = (a >= CHILD_PHOTO_UNDER) & (b >= CHILD_PHOTO_UNDER)
        if gap_under is not None:
            ok &= gap < gap_under
        if gap_over is not None:
            ok &= gap >= gap_over
        result: NDArray[np.bool_] = ok
        return result

    return test


def _child(recent: bool) -> PairTest:
    def test(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.bool_]:
        gap = np.abs(a - b)
        young = np.fmin(a, b) < CHILD_PHOTO_UNDER
        result: NDArray[np.bool_] = young & ((gap < RECENT_CHILD_YEARS) == recent)
        return result

    return test


def _any(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.bool_]:
    return np.ones(np.broadcast(a, b).shape, dtype=np.bool_)


def _mean(pairs: _Pairs) -> float:
    values, weights, _ = pairs.arrays(poor=False)
    return float(np.average(values, weights=weights)) if len(values) else float("nan")


def asian_scale(asian: _Pairs, aged_adults: _Pairs) -> float:
    """How much closer different East Asian adults come than the aged set's different
    adults: the ratio of their mean distances (1.0 when either is missing)."""
    ratio = _mean(asian) / _mean(aged_adults)
    return ratio if np.isfinite(ratio) and ratio > 0 else 1.0


def _labelled(same: _Pairs, different: _Pairs, poor: bool | None) -> LabelledDistances:
    return LabelledDistances(*same.arrays(poor), *different.arrays(poor))


def fit_face_curves(
    embeddings: LabelledEmbeddings, *, bootstrap: int = 200, seed: int = 0
) -> dict[str, FaceCurve]:
    """The face curves of every stratum fitted on the calibration side of ``embeddings``.

    Raises ValueError when a stratum has too few pairs (naming it).
    """
    adults = _members(embeddings, ADULT_SETS)
    aged = _members(embeddings, AGED_SETS)
    asian = _members(embeddings, ASIAN_SETS)
    adult_u, aged_adults_u = _Pairs(), _Pairs()
    _different(embeddings, asian, _any, adult_u)
    _different(embeddings, aged, _adult(None, None), aged_adults_u)
    scale = asian_scale(adult_u, aged_adults_u)
    recent, long_gap, unknown = _Pairs(), _Pairs(), _Pairs()
    _same(embeddings, adults, _any, recent)
    _same(embeddings, aged, _adult(RECENT_ADULT_YEARS, None), recent)
    _same(embeddings, aged, _adult(None, RECENT_ADULT_YEARS), long_gap)
    _same(embeddings, adults, _any, unknown, ADULT_SHARE_UNKNOWN)
    _same(embeddings, aged, _adult(None, None), unknown, ADULT_SHARE_UNKNOWN)
    child_same = {True: _Pairs(), False: _Pairs()}
    child_u = {True: _Pairs(), False: _Pairs()}
    for is_recent in (True, False):
        _same(embeddings, aged, _child(is_recent), child_same[is_recent])
        _same(embeddings, aged, _child(is_recent), unknown, 1.0 - ADULT_SHARE_UNKNOWN)
        _different(embeddings, aged, _child(is_recent), child_u[is_recent], scale)

    asian_words = f"different people: {len(asian)} East Asian identities"
    child_words = (
        f"different people: {len(aged)} aged identities at the same ages, distances x"
        f"{scale:.3f} (East Asian adults against the aged set's adults; assumed to hold "
        "for children)"
    )
    plan = {
        "adult_recent": (recent, adult_u, f"same person: adult sets and aged photos 16+ "
                         f"under {RECENT_ADULT_YEARS:g} years apart; {asian_words}"),
        "adult_long": (long_gap, adult_u, f"same person: aged photos 16+ "
                       f"{RECENT_ADULT_YEARS:g} or more years apart; {asian_words}"),
        "child_recent": (child_same[True], child_u[True], "same person: aged photos, the "
                         f"younger under {CHILD_PHOTO_UNDER:g}, under "
                         f"{RECENT_CHILD_YEARS:g} years apart; {child_words}"),
        "child_to_adult": (child_same[False], child_u[False], "same person: aged photos, "
                           f"the younger under {CHILD_PHOTO_UNDER:g}, "
                           f"{RECENT_CHILD_YEARS:g} or more years apart; {child_words}"),
        "ages_unknown": (unknown, adult_u, "same person: all the above, adults weighing "
                         f"{ADULT_SHARE_UNKNOWN:.0%}; {asian_words}"),
    }  # fmt: skip
    curves: dict[str, FaceCurve] = {}
    poor_pairs = {label: _labelled(same, different, poor=True)
                  for label, (same, different, _) in plan.items()}  # fmt: skip
    poor_weights, poor_same, poor_pair_weights = [], [], []
    for label, (same, different, words) in plan.items():
        good = _labelled(same, different, poor=False)
        if min(len(good.same), len(good.different)) < MIN_CLASS_PAIRS:
            good, words = _labelled(same, different, poor=None), f"{words} (poor photos too)"
        try:
            curves[label] = fit_face_curve(good, source=words, bootstrap=bootstrap, seed=seed)
        except ValueError as err:
            raise ValueError(f"face stratum {label}: {err}") from err
        poor = poor_pairs[label]
        poor_weights += [curves[label].weights(poor.same), curves[label].weights(poor.different)]
        poor_same += [np.ones(len(poor.same), np.bool_), np.zeros(len(poor.different), np.bool_)]
        poor_pair_weights += [poor.same_weight, poor.different_weight]
    same_flags = np.concatenate(poor_same)
    if min(int(same_flags.sum()), int((~same_flags).sum())) < MIN_CLASS_PAIRS:
        raise ValueError(f"face strata with a poor photo: fewer than {MIN_CLASS_PAIRS} pairs "
                         "a side to fit their scale")  # fmt: skip
    scale = fit_poor_scale(np.concatenate(poor_weights), same_flags,
                           np.concatenate(poor_pair_weights))  # fmt: skip
    for label, (_, _, words) in plan.items():
        # A poor photo moves the same person's distances out, so its own curve has
        # another shape, not only a smaller size; where a stratum has too few poor
        # pairs, its good curve scaled to what every stratum's poor pairs show.
        try:
            curves[f"{label}_poor"] = fit_face_curve(
                poor_pairs[label], bootstrap=bootstrap, seed=seed,
                source=f"pairs with a poor photo (degraded copies of labelled photos among "
                       f"them); {words}",
            )  # fmt: skip
        except ValueError:
            curve = curves[label]
            curves[f"{label}_poor"] = replace(
                curve, scale=scale, interval=(),
                source=f"{label}'s curve x{scale:.2f}, the scale that best explains the pairs "
                       f"with a poor photo in every stratum ({int(same_flags.sum())} "
                       f"same-person, {int((~same_flags).sum())} different-people pairs)",
            )  # fmt: skip
    return curves
