"""What a face distance is worth: per-bin same/different probabilities from labelled photos.

dlib's embedding was tuned on mostly Western adults, and its stock rule "distance <= 0.6
means the same person" does not hold for the people this service serves: on the
asian_faces development set a third of different-person pairs fall under 0.6 (see
``../shared/faces/README.md``). So the face comparison does not use a threshold; it bins
the distance and weighs each bin by how often same-person and different-person pairs
land there, measured on labelled photos:

- :func:`fit_face_bins` takes embeddings grouped by identity and counts, per bin, the
  share of same-person pairs (``same``: the m side) and of different-person pairs
  (``different``: the u side). Pairs are weighted so that each identity (for same-person
  pairs) and each pair of identities (for different-person pairs) counts once: forty
  people give 780 pairs of people however many photos each has, and that is the honest
  sample size for how close two different people can come. A Jeffreys prior (half a
  pair a bin) keeps empty bins from claiming certainty.
- ``usecases.face_folders`` encodes photos laid out as ``<set>/<identity>/<photo>``
  with the service's own intake (caching the embeddings by path and modification time)
  and fits the bins: the files are the use cases', the counting this module's.
- :func:`refit_face_calibration` updates a calibration with reviewers' labelled pairs
  (confirmed: same; rejected: different), the current one acting as a Dirichlet prior.
- :func:`compare_with_threshold_rule` measures, on identities held out of the fit, how
  the calibrated bins compare with the 0.6 rule.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)

FACE_EDGES: Final = (0.36, 0.42, 0.48, 0.54, 0.60, 0.66, 0.72)
"""Upper bounds of the distance bins; the last bin is everything from 0.72 up."""

FACE_BIN_LABELS: Final = (
    "very_close",
    "close",
    "fairly_close",
    "middling",
    "near_threshold",
    "beyond_threshold",
    "far",
    "very_far",
)
"""One label a bin, closest first (``near_threshold`` is 0.54-0.60, just under the stock 0.6)."""

SAME_SETS: Final = ("asian_faces", "lfw_krasserm", "deepface", "five_celebrity")
"""Sets whose same-person pairs fit the m side. ``orl_att`` is left out: its nine photos a
person come from one session, closer than any two photos a family and a station hold."""

DIFFERENT_SETS: Final = ("asian_faces",)
"""Sets whose different-person pairs fit the u side: Chinese faces, as the service's people
are; Western sets would make different people look much further apart than they are."""

LABELLED_SETS: Final = tuple(sorted(set(SAME_SETS) | set(DIFFERENT_SETS)))
"""Every set either side is fitted on: what to encode for the default fit and its check."""

JEFFREYS: Final = 0.5
EMBEDDING_DIM: Final = 128


@dataclass(frozen=True)
class LabelledEmbeddings:
    """Face embeddings and whose they are: ``identities[i]`` is ``"<set>/<identity>"``;
    ``ages[i]`` is the person's age in the photo (NaN: unknown; None: none known);
    ``poor[i]`` whether the intake found the face poor (None: not known)."""

    vectors: NDArray[np.float32]
    identities: NDArray[np.str_]
    ages: NDArray[np.float64] | None = None
    poor: NDArray[np.bool_] | None = None
    sources: NDArray[np.str_] | None = None
    """The photo each embedding was read from (a degraded copy names its original's)."""

    def __post_init__(self) -> None:
        if self.vectors.ndim != 2 or self.vectors.shape[0] != self.identities.shape[0]:
            raise ValueError(
                f"expected vectors of shape (n, d) and n identities; got {self.vectors.shape} "
                f"and {self.identities.shape}"
            )
        if self.ages is not None and self.ages.shape != self.identities.shape:
            raise ValueError(f"expected {self.identities.shape[0]} ages, got {self.ages.shape}")
        if self.poor is not None and self.poor.shape != self.identities.shape:
            raise ValueError(f"expected {self.identities.shape[0]} flags, got {self.poor.shape}")

    def poor_or_good(self) -> NDArray[np.bool_]:
        """Whether each face is poor (False where not known)."""
        return self.poor if self.poor is not None else np.zeros(len(self.identities), np.bool_)

    def ages_or_unknown(self) -> NDArray[np.float64]:
        """Each photo's age, NaN where unknown."""
        return self.ages if self.ages is not None else np.full(len(self.identities), np.nan)

    @property
    def sets(self) -> NDArray[np.str_]:
        """The set of each embedding (the part of its identity before the slash)."""
        return np.array([str(i).split("/", 1)[0] for i in self.identities])

    def subset(self, keep: NDArray[np.bool_]) -> LabelledEmbeddings:
        """The embeddings where ``keep`` is true."""
        ages = None if self.ages is None else self.ages[keep]
        poor = None if self.poor is None else self.poor[keep]
        sources = None if self.sources is None else self.sources[keep]
        return LabelledEmbeddings(self.vectors[keep], self.identities[keep], ages, poor, sources)


@dataclass(frozen=True)
class FaceBinCalibration:
    """Per-bin probabilities of a distance for the same person and for different people.

    ``same[k]`` and ``different[k]`` are the shares of same-person and different-person
    pairs in bin ``k`` (bins end at ``edges``, the last is open); ``source`` says what
    data they came from.
    """

    edges: tuple[float, ...]
    same: tuple[float, ...]
    different: tuple[float, ...]
    n_same: float
    n_different: float
    source: str
    details: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        bins = len(self.edges) + 1
        if len(self.same) != bins or len(self.different) != bins:
            raise ValueError(f"expected {bins} probabilities a side for {len(self.edges)} edges")

    def bin_of(self, distance: float) -> int:
        """The bin a distance falls in."""
        return bin_index(distance, self.edges)

    @property
    def weights(self) -> tuple[float, ...]:
        """log2 Bayes factor of each bin."""
        return tuple(math.log2(s / d) for s, d in zip(self.same, self.different, strict=True))


def bin_index(distance: float, edges: Sequence[float]) -> int:
    """The index of the first bin whose upper edge is above ``distance``."""
    for k, edge in enumerate(edges):
        if distance < edge:
            return k
    return len(edges)


# --- pairs and bins ---------------------------------------------------------------------


def distance_matrix(a: NDArray[np.float32], b: NDArray[np.float32]) -> NDArray[np.float64]:
    """Every distance between the embeddings ``a`` (rows) and ``b`` (columns), in float64."""
    x, y = a.astype(np.float64), b.astype(np.float64)
    d2 = (x * x).sum(axis=1)[:, None] + (y * y).sum(axis=1)[None, :] - 2.0 * (x @ y.T)
    distances: NDArray[np.float64] = np.sqrt(np.clip(d2, 0.0, None))
    return distances


def _bin_counts(
    embeddings: LabelledEmbeddings,
    edges: Sequence[float],
    *,
    same_sets: Sequence[str] | None,
    different_sets: Sequence[str] | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], int, int]:
    """Identity-weighted bin counts of same-person and different-person pairs.

    Each identity with two photos or more adds one unit spread over its photo pairs; each
    pair of identities of the same set adds one unit spread over their photo pairs.
    """
    bins = len(edges) + 1
    same = np.zeros(bins)
    different = np.zeros(bins)
    sets = embeddings.sets
    ids = embeddings.identities
    n_same_ids = 0
    n_diff_pairs = 0
    for set_name in sorted(set(sets.tolist())):
        use_same = same_sets is None or set_name in same_sets
        use_diff = different_sets is None or set_name in different_sets
        if not (use_same or use_diff):
            continue
        members = np.flatnonzero(sets == set_name)
        local_ids = ids[members]
        names, inverse = np.unique(local_ids, return_inverse=True)
        vectors = embeddings.vectors[members]
        binned = np.searchsorted(np.asarray(edges), distance_matrix(vectors, vectors),
                                 side="right")  # fmt: skip
        for a in range(len(names)):
            rows = np.flatnonzero(inverse == a)
            if use_same and len(rows) >= 2:
                iu = np.triu_indices(len(rows), 1)
                block = binned[np.ix_(rows, rows)][iu]
                same += np.bincount(block, minlength=bins) / len(block)
                n_same_ids += 1
            if use_diff:
                for b in range(a + 1, len(names)):
                    cols = np.flatnonzero(inverse == b)
                    block = binned[np.ix_(rows, cols)].ravel()
                    different += np.bincount(block, minlength=bins) / len(block)
                    n_diff_pairs += 1
    return same, different, n_same_ids, n_diff_pairs


def _normalised(counts: NDArray[np.float64], pseudo: float) -> tuple[float, ...]:
    smoothed = counts + pseudo
    return tuple(float(x) for x in smoothed / smoothed.sum())


def fit_face_bins(
    embeddings: LabelledEmbeddings,
    *,
    edges: Sequence[float] = FACE_EDGES,
    same_sets: Sequence[str] | None = SAME_SETS,
    different_sets: Sequence[str] | None = DIFFERENT_SETS,
    pseudo_count: float = JEFFREYS,
) -> FaceBinCalibration:
    """Fit per-bin same/different probabilities from embeddings grouped by identity.

    ``same_sets`` and ``different_sets`` choose which sets feed each side (None: all).
    Raises ValueError when a side has no pairs to count.
    """
    same, different, n_ids, n_pairs = _bin_counts(
        embeddings, edges, same_sets=same_sets, different_sets=different_sets
    )
    if n_ids == 0 or n_pairs == 0:
        raise ValueError(
            f"need identities with two photos or more ({n_ids} found) and pairs of "
            f"identities ({n_pairs} found) in the chosen sets"
        )
    sets = embeddings.sets
    used = sorted(set(sets.tolist()))
    source = (
        f"same-person pairs: {n_ids} identities of {', '.join(s for s in used if same_sets is None or s in same_sets)}; "  # noqa: E501
        f"different-person pairs: {n_pairs} pairs of identities of "
        f"{', '.join(s for s in used if different_sets is None or s in different_sets)}; "
        f"each identity (pair of identities) weighted once; Jeffreys prior {pseudo_count} a bin"
    )
    photos = {s: int((sets == s).sum()) for s in used}
    return FaceBinCalibration(
        edges=tuple(float(e) for e in edges),
        same=_normalised(same, pseudo_count),
        different=_normalised(different, pseudo_count),
        n_same=float(n_ids),
        n_different=float(n_pairs),
        source=source,
        details={"photos_per_set": photos},
    )


def refit_face_calibration(
    calibration: FaceBinCalibration,
    same_distances: Iterable[float],
    different_distances: Iterable[float],
    *,
    strength: float | None = None,
) -> FaceBinCalibration:
    """Update the bins with reviewers' labelled pairs (a Dirichlet-multinomial update).

    ``same_distances`` are the closest-face distances of confirmed pairs,
    ``different_distances`` those of rejected pairs. The current probabilities act as a
    prior worth ``strength`` pairs a side (default: the pairs they were fitted on).
    Rejected candidates were shortlisted because they looked alike, so they sit closer
    than random different people: counting them makes the close bins' u larger, which is
    the cautious direction.
    """
    bins = len(calibration.edges) + 1
    s_counts = np.zeros(bins)
    d_counts = np.zeros(bins)
    for d in same_distances:
        s_counts[calibration.bin_of(d)] += 1
    for d in different_distances:
        d_counts[calibration.bin_of(d)] += 1
    s_strength = calibration.n_same if strength is None else strength
    d_strength = calibration.n_different if strength is None else strength
    same = s_counts + s_strength * np.asarray(calibration.same)
    different = d_counts + d_strength * np.asarray(calibration.different)
    return FaceBinCalibration(
        edges=calibration.edges,
        same=tuple(float(x) for x in same / same.sum()),
        different=tuple(float(x) for x in different / different.sum()),
        n_same=float(s_strength + s_counts.sum()),
        n_different=float(d_strength + d_counts.sum()),
        source=(
            f"{calibration.source}; refined with {int(s_counts.sum())} confirmed and "
            f"{int(d_counts.sum())} rejected reviewer pairs"
        ),
        details=dict(calibration.details),
    )


# --- calibrated bins against the 0.6 rule, on held-out identities --------------------------


@dataclass(frozen=True)
class RuleFigures:
    """How a yes/no face rule does on held-out pairs.

    ``recall``: share of same-person pairs it calls the same; ``false_match_rate``:
    share of different-person pairs it calls the same; ``precision_at`` maps a share of
    same-person pairs among those compared (the base rate) to the precision it gives;
    ``bayes_factor_yes`` / ``bayes_factor_no`` are what a "yes" and a "no" are worth.
    """

    name: str
    recall: float
    false_match_rate: float
    bayes_factor_yes: float
    bayes_factor_no: float
    precision_at: dict[float, float]


@dataclass(frozen=True)
class CalibrationCheck:
    """The calibrated bins against the 0.6 rule, on identities held out of every fit.

    ``bins`` holds, per bin, the fitted log2 Bayes factor (averaged over folds) and the
    held-out one; ``mean_weight_same`` / ``mean_weight_different`` are the calibrated
    weights' averages over held-out same-person and different-person pairs;
    ``rule`` and ``calibrated`` are yes/no figures (calibrated "yes" = positive weight;
    ``calibrated_strong`` = weight of 3 bits or more).
    """

    rule: RuleFigures
    calibrated: RuleFigures
    calibrated_strong: RuleFigures
    bins: list[dict[str, float | str]]
    mean_weight_same: float
    mean_weight_different: float
    n_same: float
    n_different: float
    folds: int
    source: str


def _figures(
    name: str, yes_same: float, yes_diff: float, n_same: float, n_diff: float,
    base_rates: Sequence[float],
) -> RuleFigures:  # fmt: skip
    recall = yes_same / n_same
    fmr = yes_diff / n_diff
    tiny = 0.5 / max(n_same, n_diff)
    precision = {
        rate: (rate * recall / (rate * recall + (1 - rate) * fmr)) if recall + fmr > 0 else 0.0
        for rate in base_rates
    }
    return RuleFigures(
        name=name,
        recall=recall,
        false_match_rate=fmr,
        bayes_factor_yes=recall / max(fmr, tiny),
        bayes_factor_no=max(1 - recall, tiny) / max(1 - fmr, tiny),
        precision_at=precision,
    )


def compare_with_threshold_rule(
    embeddings: LabelledEmbeddings,
    *,
    threshold: float = 0.6,
    folds: int = 5,
    seed: int = 6,
    edges: Sequence[float] = FACE_EDGES,
    same_sets: Sequence[str] | None = SAME_SETS,
    different_sets: Sequence[str] | None = DIFFERENT_SETS,
    base_rates: Sequence[float] = (0.5, 0.01, 0.001),
) -> CalibrationCheck:
    """Calibrated bins against "distance <= threshold means same", on held-out identities.

    Identities are split into ``folds`` groups; each fold's bins are fitted on the other
    identities and judged on pairs among the fold's own (identity-weighted as in the fit).
    """
    ids = embeddings.identities
    names = sorted(set(ids.tolist()))
    rng = random.Random(seed)
    rng.shuffle(names)
    fold_of = {name: k % folds for k, name in enumerate(names)}
    fold = np.array([fold_of[str(i)] for i in ids])
    bins = len(edges) + 1
    held_same = np.zeros(bins)
    held_diff = np.zeros(bins)
    weight_sum_same = 0.0
    weight_sum_diff = 0.0
    rule_same = rule_diff = 0.0
    fitted_weights = np.zeros(bins)
    for k in range(folds):
        train = embeddings.subset(fold != k)
        test = embeddings.subset(fold == k)
        fitted = fit_face_bins(
            train, edges=edges, same_sets=same_sets, different_sets=different_sets
        )
        w = np.asarray(fitted.weights)
        fitted_weights += w / folds
        same, diff, _, _ = _bin_counts(
            test, edges, same_sets=same_sets, different_sets=different_sets
        )
        held_same += same
        held_diff += diff
        weight_sum_same += float((same * w).sum())
        weight_sum_diff += float((diff * w).sum())
        # The rule on the same identity-weighted pairs: exact distances are needed here,
        # so add the threshold as an edge and count below it.
        r_same, r_diff, _, _ = _bin_counts(
            test, (threshold,), same_sets=same_sets, different_sets=different_sets
        )
        rule_same += float(r_same[0])
        rule_diff += float(r_diff[0])
    n_same, n_diff = float(held_same.sum()), float(held_diff.sum())
    positive = fitted_weights > 0
    strong = fitted_weights >= 3
    held_weights = np.log2((held_same / n_same + 1e-9) / (held_diff / n_diff + 1e-9))
    labels = (
        list(FACE_BIN_LABELS) if bins == len(FACE_BIN_LABELS) else [str(b) for b in range(bins)]
    )
    lows = (0.0, *edges)
    highs = (*edges, math.inf)
    table: list[dict[str, float | str]] = [
        {
            "bin": labels[b],
            "from": lows[b],
            "to": highs[b],
            "held_out_same": float(held_same[b] / n_same),
            "held_out_different": float(held_diff[b] / n_diff),
            "fitted_weight": float(fitted_weights[b]),
            "held_out_weight": float(held_weights[b]),
        }
        for b in range(bins)
    ]
    return CalibrationCheck(
        rule=_figures(f"distance <= {threshold}", rule_same, rule_diff, n_same, n_diff,
                      base_rates),
        calibrated=_figures("calibrated weight > 0", float(held_same[positive].sum()),
                            float(held_diff[positive].sum()), n_same, n_diff, base_rates),
        calibrated_strong=_figures("calibrated weight >= 3 bits",
                                   float(held_same[strong].sum()),
                                   float(held_diff[strong].sum()), n_same, n_diff, base_rates),
        bins=table,
        mean_weight_same=weight_sum_same / n_same,
        mean_weight_different=weight_sum_diff / n_diff,
        n_same=n_same,
        n_different=n_diff,
        folds=folds,
        source=f"{len(names)} identities in {folds} folds",
    )  # fmt: skip
