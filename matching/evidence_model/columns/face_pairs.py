"""The face comparison over a block of pairs: each pair's closest faces, binned.

A record has any number of faces. For the pairs where both records have some, every
(report face, found face) pair is laid out in row-major order, record pair after record
pair, in chunks of :data:`FACE_PAIRS_A_CHUNK`. Each record pair keeps its smallest
distance, the first in row-major order on a tie, as
:func:`~..comparisons.face.closest_faces` does with ``np.argmin``; the bin
(:data:`~..face_calibration.FACE_EDGES`) and the stratum of the two photos
(:func:`~..comparisons.face.face_stratum`) follow on arrays.

The distances come one of two ways. When the chunk's faces are few against its face
pairs (a report against many found persons), from one float64 matrix product of the
chunk's report faces with its found faces (``|a|^2 + |b|^2 - 2 a.b``), which is far
cheaper than a 128-wide difference a face pair; otherwise as ``closest_faces`` computes
them, the float32 difference squared and summed. Neither matches ``closest_faces`` bit
for bit (a float32 sum of 128 squares depends on the order it is added in), but both lie
within a known rounding error of it. So a record pair whose closest distance lies within
:data:`FACE_GUARD` of a bin's edge, or whose second closest is about that near its
closest (a tie could pick other photos, so another stratum), is handed back to the
comparison.

The face is weighed by a curve of the distance itself (:mod:`~..face_curve`), so the
distance each pair is weighed at is recomputed for its closest faces exactly as the
comparison computes it (:func:`exact_distances`): the bin may come from an approximate
distance, the weight may not.
"""

from __future__ import annotations

from collections.abc import Callable

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
    POOR,
    RECENT_ADULT_YEARS,
    RECENT_CHILD_YEARS,
)
from matching.evidence_model.face_calibration import FACE_EDGES
from matching.evidence_model.spec import Comparison

Index = NDArray[np.int64]

FACE_PAIRS_A_CHUNK = 1 << 15
"""Face pairs whose float32 differences are held at once (16 MiB for 128-d faces)."""
PRODUCT_FACE_PAIRS_A_CHUNK = 1 << 18
"""Face pairs worked on at once when their distances come from a matrix product."""
DENSE_A_FACE_PAIR = 16
"""A block whose report faces times found faces is at most this many times its face
pairs (and :data:`MOST_PRODUCTS`) gets its distances from one matrix product."""
MOST_PRODUCTS = 1 << 22
"""The largest matrix of products (32 MiB of float64)."""
FACE_GUARD = 1e-5
"""Relative nearness (of a bin's edge, or of the next closest faces) within which a pair
is compared by the comparison itself. Summed in any order, 128 float32 squares are off by
at most 127 x 2**-24 (7.6e-6) of their sum, so a distance by about half that; two
distances compared may both be off."""
FACE_TIE_ABSOLUTE = 1e-7
"""Closest faces nearer each other than this are a tie whatever their size: a float64
``|a|^2 + |b|^2 - 2 a.b`` is off by about 1e-15, so a tiny distance by up to 3e-8."""


def face_strata(
    age_a: NDArray[np.float64], year_a: NDArray[np.float64],
    age_b: NDArray[np.float64], year_b: NDArray[np.float64],
    poor: NDArray[np.bool_] | None = None,
) -> NDArray[np.int16]:  # fmt: skip
    """:func:`~..comparisons.face.face_stratum` of photo pairs (NaN: unknown; ``poor``:
    whether either photo of each pair is poor)."""
    gap = np.abs(year_a - year_b)  # NaN when a year is unknown, and NaN < x is False
    youngest = np.fmin(age_a, age_b)  # NaN only when both ages are unknown
    child = np.where(gap < RECENT_CHILD_YEARS, CHILD_RECENT, CHILD_TO_ADULT)
    adult = np.where(
        np.isnan(gap), AGES_UNKNOWN, np.where(gap < RECENT_ADULT_YEARS, ADULT_RECENT, ADULT_LONG)
    )
    strata = np.where(youngest < CHILD_PHOTO_UNDER, child, adult)
    by_age = np.where(np.isnan(youngest), AGES_UNKNOWN, strata)
    if poor is not None:
        by_age = by_age + np.where(poor, POOR, 0)
    return by_age.astype(np.int16)


def exact_distances(
    face_a: NDArray[np.float32], face_b: NDArray[np.float32]
) -> NDArray[np.float64]:
    """The distance of each pair of faces, bit for bit as
    :func:`~..comparisons.face.closest_faces` computes it (a curve weighs the distance
    itself, so the two scorers must agree on it exactly): the float32 difference,
    squared and summed by the same einsum over the same last axis."""
    diff = (face_a.astype(np.float32) - face_b)[:, None, :]
    distances: NDArray[np.float64] = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))[:, 0].astype(
        np.float64
    )
    return distances


def _faces_of(faces: FaceColumns, records: Index) -> Index:
    """Every face of the given records (each record once), in order."""
    chosen = np.zeros(len(faces.offsets) - 1, dtype=np.bool_)
    chosen[records] = True
    return np.flatnonzero(chosen[faces.records])


Distances = Callable[[Index, Index], NDArray[np.float64]]
"""The distance of each face pair (``face_a[k]``, ``face_b[k]``)."""


def _by_differences(a: FaceColumns, b: FaceColumns) -> Distances:
    """Distances as ``closest_faces`` computes them: float32 differences, squared, summed."""

    def distances(face_a: Index, face_b: Index) -> NDArray[np.float64]:
        diff = a.embeddings[face_a] - b.embeddings[face_b]
        squared: NDArray[np.float32] = np.einsum("ij,ij->i", diff, diff)
        return np.sqrt(squared).astype(np.float64)

    return distances


def _by_products(a: FaceColumns, b: FaceColumns, some_a: Index, some_b: Index) -> Distances:
    """Distances from one float64 matrix product of faces ``some_a`` with ``some_b``."""
    # Where each face's row (report side) or column (found side) lies in the flat product.
    at_a = np.zeros(len(a.records), dtype=np.int64)
    at_a[some_a] = np.arange(len(some_a)) * len(some_b)
    at_b = np.zeros(len(b.records), dtype=np.int64)
    at_b[some_b] = np.arange(len(some_b))
    products = a.embeddings[some_a].astype(np.float64) @ b.embeddings[some_b].astype(np.float64).T
    flat = products.ravel()

    def distances(face_a: Index, face_b: Index) -> NDArray[np.float64]:
        squared = a.squared_norms[face_a] + b.squared_norms[face_b]
        squared -= 2.0 * flat[at_a[face_a] + at_b[face_b]]
        return np.sqrt(np.maximum(squared, 0.0))

    return distances


def _closest(
    a: FaceColumns, b: FaceColumns, rows_a: Index, rows_b: Index, distances_of: Distances
) -> tuple[NDArray[np.float64], Index, Index, NDArray[np.bool_]]:
    """For record pairs that both have faces: the closest distance, which face of each
    record gives it, and whether another pair of faces is about as close."""
    width = b.counts[rows_b]
    sizes = a.counts[rows_a] * width
    starts = np.cumsum(sizes) - sizes
    total = int(sizes.sum())
    owner = np.repeat(np.arange(len(sizes)), sizes)
    local = np.arange(total) - starts[owner]
    across = width[owner]
    # local // across by float division: exact for integers far below 2**53, and faster.
    down = (local / across).astype(np.int64)
    face_a = a.offsets[rows_a][owner] + down
    face_b = b.offsets[rows_b][owner] + (local - down * across)
    distances = distances_of(face_a, face_b)
    closest = np.minimum.reduceat(distances, starts)
    first = np.minimum.reduceat(
        np.where(distances == closest[owner], np.arange(total), total), starts
    )
    distances[first] = np.inf
    second = np.minimum.reduceat(distances, starts)
    tied = np.isfinite(second) & (second - closest <= FACE_GUARD * second + FACE_TIE_ABSOLUTE)
    return closest, face_a[first], face_b[first], tied | ~np.isfinite(closest)


def face_outcomes(comparison: Comparison, block: PairBlock) -> OutcomeArrays:
    """:class:`~..comparisons.face.FaceComparison` of every pair."""
    a, b = block.missing.faces, block.found.faces
    outcomes = OutcomeArrays(
        block.zeros(), np.full(len(block), AGES_UNKNOWN, dtype=np.int16),
        no_frequency(len(block)), np.full(len(block), np.nan),
    )  # fmt: skip
    pairs = np.flatnonzero((a.counts[block.i] > 0) & (b.counts[block.j] > 0))
    rows_a, rows_b = block.i[pairs], block.j[pairs]
    ends = np.cumsum(a.counts[rows_a] * b.counts[rows_b])
    some_a, some_b = _faces_of(a, rows_a), _faces_of(b, rows_b)
    products = len(some_a) * len(some_b)
    if len(ends) and products <= min(DENSE_A_FACE_PAIR * int(ends[-1]), MOST_PRODUCTS):
        distances_of, chunk = _by_products(a, b, some_a, some_b), PRODUCT_FACE_PAIRS_A_CHUNK
    else:
        distances_of, chunk = _by_differences(a, b), FACE_PAIRS_A_CHUNK
    edges = np.asarray(FACE_EDGES, dtype=np.float64)
    unsure = np.zeros(len(block), dtype=np.bool_)
    start = 0
    while start < len(pairs):
        done = ends[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, done + chunk, side="right")))
        rows = pairs[start:stop]
        distance, face_a, face_b, tied = _closest(
            a, b, rows_a[start:stop], rows_b[start:stop], distances_of
        )
        outcomes.levels[rows] = np.searchsorted(edges, distance, side="right") + 1
        assert outcomes.values is not None  # made with values above
        outcomes.values[rows] = exact_distances(a.embeddings[face_a], b.embeddings[face_b])
        outcomes.strata[rows] = face_strata(
            a.ages[face_a], a.years[face_a], b.ages[face_b], b.years[face_b],
            a.poor[face_a] | b.poor[face_b],
        )  # fmt: skip
        unsure[rows] = tied | near_edges(distance, edges, FACE_GUARD * edges)
        start = stop
    recompare(comparison, block, np.flatnonzero(unsure), outcomes)
    return outcomes
