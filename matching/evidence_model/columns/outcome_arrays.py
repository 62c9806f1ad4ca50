"""One comparison's outcomes over a block of pairs, and the way back to its own code.

The vectorised comparisons repeat the per-pair arithmetic, but a few steps cannot be
repeated bit for bit: numpy's sines and square roots of sums may round differently from
``math``'s, and a float32 sum of 128 squares depends on the order it is added in. Such a
step only matters when a pair lies within a rounding error of a level's edge (or two
faces lie equally close); those few pairs are handed to :func:`recompare`, which asks
the comparison itself, so every level and stratum is the per-pair scorer's.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from matching.evidence_model.columns.pair_block import PairBlock
from matching.evidence_model.spec import Comparison


class OutcomeArrays(NamedTuple):
    """Level, stratum and term frequency (NaN: none) of each pair in one comparison, and
    the measured value where a curve weighs it (the face distance; None: not kept)."""

    levels: NDArray[np.int16]
    strata: NDArray[np.int16]
    term_frequency: NDArray[np.float64]
    values: NDArray[np.float64] | None = None


def no_frequency(n: int) -> NDArray[np.float64]:
    """The term frequencies of a comparison that reports none."""
    return np.full(n, np.nan)


def near_edges(
    values: NDArray[np.float64], edges: NDArray[np.float64], tolerance: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Whether each value lies within ``tolerance[k]`` of some ``edges[k]`` (edges sorted)."""
    above = np.clip(np.searchsorted(edges, values), 0, len(edges) - 1)
    below = np.clip(above - 1, 0, len(edges) - 1)
    near: NDArray[np.bool_] = (np.abs(values - edges[above]) <= tolerance[above]) | (
        np.abs(values - edges[below]) <= tolerance[below]
    )
    return near


def recompare(
    comparison: Comparison, block: PairBlock, rows: NDArray[np.int64], outcomes: OutcomeArrays
) -> None:
    """Overwrite the outcomes of the block's pairs at ``rows`` with the comparison's own
    (on the records' facts), in place."""
    missing, found = block.missing.facts, block.found.facts
    for row in rows.tolist():
        outcome = comparison.compare(missing[int(block.i[row])], found[int(block.j[row])])
        outcomes.levels[row] = outcome.level
        outcomes.strata[row] = outcome.stratum
        tf = outcome.term_frequency
        outcomes.term_frequency[row] = np.nan if tf is None else tf
        if outcomes.values is not None:
            outcomes.values[row] = np.nan if outcome.value is None else outcome.value
