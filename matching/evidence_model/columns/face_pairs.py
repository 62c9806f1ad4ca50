"""The face comparison over a block of pairs: each pair's closest faces, binned.

A record has any number of faces. For the pairs where both records have some, every
(report face, found face) pair is laid out in row-major order, record pair after record
pair, in chunks of :data:`FACE_PAIRS_A_CHUNK`; the distance of each is computed in float32
as :func:`~..comparisons.face.closest_faces` does (the difference, squared and summed);
each record pair keeps its smallest, the first in row-major order on a tie, as
``np.argmin`` does. The bin (:data:`~..face_calibration.FACE_EDGES`) and the stratum of
the two photos (:func:`~..comparisons.face.face_stratum`) follow on arrays.

A float32 sum of 128 squares depends on the order it is added in, and numpy's einsum
may add a long stack of rows in another order than a small matrix. So a record pair
whose closest distance lies within :data:`FACE_GUARD` of a bin's edge, or whose second
closest is that near its closest (a tie could pick other photos, so another stratum), is
handed back to the comparison.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from matching.evidence_model.columns.outcome_arrays import (
    OutcomeArrays,
    near_edges,
    no_frequency,
    recompare,
)
from matching.evidence_model.columns.pair_block import PairBlock
from matching.evidence_model.columns.sides import FaceColumns
from matching.evidence_model.comparisons.face import (
    ADULT_LONG,
    ADULT_RECENT,
    AGES_UNKNOWN,
    CHILD_PHOTO_UNDER,
    CHILD_RECENT,
    CHILD_TO_ADULT,
    RECENT_ADULT_YEARS,
    RECENT_CHILD_YEARS,
)
from matching.evidence_model.face_calibration import FACE_EDGES
from matching.evidence_model.spec import Comparison

Index = NDArray[np.int64]

FACE_PAIRS_A_CHUNK = 1 << 15
"""Face pairs whose differences are held at once (16 MiB of float32 for 128-d faces)."""
FACE_GUARD = 1e-5
"""Relative nearness (of a bin's edge, or of the next closest faces) within which a pair
is compared by the comparison itself. Summed in any order, 128 float32 squares are off by
at most 128 x 2**-24 (7.6e-6) of their sum, so a distance by half that; two distances
compared may both be off."""


def face_strata(
    age_a: NDArray[np.float64], year_a: NDArray[np.float64],
    age_b: NDArray[np.float64], year_b: NDArray[np.float64],
) -> NDArray[np.int16]:  # fmt: skip
    """:func:`~..comparisons.face.face_stratum` of photo pairs (NaN: unknown)."""
    gap = np.abs(year_a - year_b)  # NaN when a year is unknown, and NaN < x is False
    youngest = np.fmin(age_a, age_b)  # NaN only when both ages are unknown
    child = np.where(gap < RECENT_CHILD_YEARS, CHILD_RECENT, CHILD_TO_ADULT)
    adult = np.where(
        np.isnan(gap), AGES_UNKNOWN, np.where(gap < RECENT_ADULT_YEARS, ADULT_RECENT, ADULT_LONG)
    )
    strata = np.where(youngest < CHILD_PHOTO_UNDER, child, adult)
    return np.where(np.isnan(youngest), AGES_UNKNOWN, strata).astype(np.int16)


def _closest(
    a: FaceColumns, b: FaceColumns, rows_a: Index, rows_b: Index
) -> tuple[NDArray[np.float64], Index, Index, NDArray[np.bool_]]:
    """For record pairs that both have faces: the closest distance, which face of each
    record gives it, and whether another pair of faces is about as close."""
    width = b.counts[rows_b]
    sizes = a.counts[rows_a] * width
    starts = np.cumsum(sizes) - sizes
    total = int(sizes.sum())
    owner = np.repeat(np.arange(len(sizes)), sizes)
    local = np.arange(total) - starts[owner]
    face_a = a.offsets[rows_a][owner] + local // width[owner]
    face_b = b.offsets[rows_b][owner] + local % width[owner]
    diff = a.embeddings[face_a] - b.embeddings[face_b]
    distances = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    best = np.minimum.reduceat(distances, starts)
    first = np.minimum.reduceat(np.where(distances == best[owner], np.arange(total), total), starts)
    others = distances.astype(np.float64)
    others[first] = np.inf
    second = np.minimum.reduceat(others, starts)
    closest = best.astype(np.float64)
    tied = np.isfinite(second) & (second - closest <= FACE_GUARD * second)
    return closest, face_a[first], face_b[first], tied | ~np.isfinite(closest)


def face_outcomes(comparison: Comparison, block: PairBlock) -> OutcomeArrays:
    """:class:`~..comparisons.face.FaceComparison` of every pair."""
    a, b = block.missing.faces, block.found.faces
    i, j = block.i, block.j
    outcomes = OutcomeArrays(
        block.zeros(), np.full(len(block), AGES_UNKNOWN, dtype=np.int16), no_frequency(len(block))
    )
    pairs = np.flatnonzero((a.counts[i] > 0) & (b.counts[j] > 0))
    edges = np.asarray(FACE_EDGES, dtype=np.float64)
    unsure = np.zeros(len(block), dtype=np.bool_)
    ends = np.cumsum(a.counts[i[pairs]] * b.counts[j[pairs]])
    start = 0
    while start < len(pairs):
        done = ends[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, done + FACE_PAIRS_A_CHUNK, side="right")))
        rows = pairs[start:stop]
        distance, face_a, face_b, tied = _closest(a, b, i[rows], j[rows])
        outcomes.levels[rows] = np.searchsorted(edges, distance, side="right") + 1
        outcomes.strata[rows] = face_strata(
            a.ages[face_a], a.years[face_a], b.ages[face_b], b.years[face_b]
        )
        unsure[rows] = tied | near_edges(distance, edges, FACE_GUARD * edges)
        start = stop
    recompare(comparison, block, np.flatnonzero(unsure), outcomes)
    return outcomes
