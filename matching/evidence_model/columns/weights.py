"""Weights of a block's outcomes: the model's own tables as arrays, summed as it sums.

A comparison's term is its table's weight at (stratum, level), plus for a level whose u
follows the agreeing value's frequency the adjustment ``log2(reference / frequency)``
(the frequency floored at ``tf_minimum``, the adjustment capped at ``tf_max_adjustment``
bits either way), as ``EvidenceModel.total_weight`` computes it. Terms are added to the
prior comparison by comparison, weight then adjustment, in the per-pair scorer's order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from matching.evidence_model.face_curve import FaceCurve, weigh_by_curves
from matching.evidence_model.model import ScoringTable


@dataclass(frozen=True, slots=True)
class WeightGrid:
    """One comparison's table as arrays indexed [stratum, level]."""

    weights: NDArray[np.float64]
    tf_levels: NDArray[np.bool_]
    tf_reference: NDArray[np.float64]
    """NaN where a level has no reference."""
    curves: tuple[FaceCurve | None, ...] = ()
    """Each stratum's curve, weighing a pair by its value (empty: none has one)."""

    @classmethod
    def of(cls, table: ScoringTable) -> WeightGrid:
        """The grid of a model's scoring table (ValueError past 32,767 cells)."""
        cells = len(table.weights) * len(table.tf_levels)
        if cells > np.iinfo(np.int16).max:
            raise ValueError(f"a table of {cells} cells is too large for int16 outcomes")
        return cls(
            weights=np.asarray(table.weights, dtype=np.float64),
            tf_levels=np.asarray(table.tf_levels, dtype=np.bool_),
            tf_reference=np.asarray(
                [[np.nan if r is None else r for r in row] for row in table.tf_reference],
                dtype=np.float64,
            ),
            curves=table.curves,
        )

    def add_to(
        self,
        total: NDArray[np.float64],
        levels: NDArray[np.int16],
        strata: NDArray[np.int16],
        frequency: NDArray[np.float64],
        values: NDArray[np.float64] | None = None,
        *,
        tf_minimum: float,
        tf_cap: float,
    ) -> None:
        """Add each pair's term to ``total``, in place (frequency NaN: none; values, for
        a comparison weighed by curves, NaN where there is none)."""
        # One flat index into the [stratum, level] grids (faster than a pair of indices;
        # a grid has a few dozen cells, so int16 holds it).
        cell = strata * np.int16(self.weights.shape[1]) + levels
        if any(self.curves) and values is not None:
            term = self.weights.ravel()[cell]
            weigh_by_curves(self.curves, term, levels, strata, values)
            total += term
        else:
            total += self.weights.ravel()[cell]
        if not self.tf_levels.any():
            return
        reference = self.tf_reference.ravel()[cell]
        rows = np.flatnonzero(self.tf_levels[levels] & ~np.isnan(frequency) & ~np.isnan(reference))
        if len(rows):
            ratio = reference[rows] / np.maximum(frequency[rows], tf_minimum)
            total[rows] += np.clip(np.log2(ratio), -tf_cap, tf_cap)
