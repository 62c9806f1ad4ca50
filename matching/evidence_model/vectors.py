"""Comparison vectors: each pair's level and stratum in every comparison, for fitting."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class ComparisonVectors:
    """Levels and strata of many pairs: row ``i`` is a pair, column ``c`` a comparison.

    ``term_frequency`` holds the agreeing value's frequency where a comparison gives one
    (NaN elsewhere); ``pairs`` the (report id, found id) of each row, when known;
    ``values`` the measured quantity (a face distance, weighed by a curve) where a
    comparison gives one (NaN elsewhere; None: not kept).
    """

    names: tuple[str, ...]
    levels: NDArray[np.int16]
    strata: NDArray[np.int16]
    term_frequency: NDArray[np.float64]
    pairs: NDArray[np.int64]
    values: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        n, c = self.levels.shape if self.levels.ndim == 2 else (-1, -1)
        if c != len(self.names) or self.strata.shape != (n, c):
            raise ValueError(
                f"expected levels and strata of shape (pairs, {len(self.names)}); got "
                f"{self.levels.shape} and {self.strata.shape}"
            )
        if self.term_frequency.shape != (n, c) or self.pairs.shape != (n, 2):
            raise ValueError(
                f"expected term_frequency of shape {(n, c)} and pairs of shape {(n, 2)}"
            )
        if self.values is not None and self.values.shape != (n, c):
            raise ValueError(f"expected values of shape {(n, c)}, got {self.values.shape}")

    def __len__(self) -> int:
        return int(self.levels.shape[0])

    def take(self, rows: NDArray[np.intp] | NDArray[np.bool_]) -> ComparisonVectors:
        """The chosen rows."""
        return ComparisonVectors(
            self.names, self.levels[rows], self.strata[rows], self.term_frequency[rows],
            self.pairs[rows], None if self.values is None else self.values[rows],
        )  # fmt: skip

    def without(self, names: Collection[str]) -> ComparisonVectors:
        """The same pairs with the comparisons ``names`` left out."""
        keep = [c for c, name in enumerate(self.names) if name not in names]
        return ComparisonVectors(
            tuple(self.names[c] for c in keep), self.levels[:, keep], self.strata[:, keep],
            self.term_frequency[:, keep], self.pairs,
            None if self.values is None else self.values[:, keep],
        )  # fmt: skip

    @classmethod
    def concatenate(cls, parts: list[ComparisonVectors]) -> ComparisonVectors:
        """The rows of several sets of vectors of the same comparisons."""
        if not parts:
            raise ValueError("nothing to concatenate")
        names = parts[0].names
        if any(p.names != names for p in parts):
            raise ValueError("vectors of different comparisons cannot be joined")
        return cls(
            names,
            np.concatenate([p.levels for p in parts]),
            np.concatenate([p.strata for p in parts]),
            np.concatenate([p.term_frequency for p in parts]),
            np.concatenate([p.pairs for p in parts]),
            None
            if any(p.values is None for p in parts)
            else np.concatenate([p.values for p in parts if p.values is not None]),
        )
