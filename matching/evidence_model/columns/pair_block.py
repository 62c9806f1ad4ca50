"""A block of pairs, and what several comparisons derive from both records' dates.

Time, age, place and hometown all need the days from going missing to being found, and
place and hometown whether the person grew up away; a :class:`PairBlock` works each out
once per block, when first asked.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from matching.evidence_model.columns.sides import NO_DAY, FoundColumns, MissingColumns
from matching.evidence_model.facts import GREW_UP_AWAY_BEFORE, GREW_UP_AWAY_YEARS

Index = NDArray[np.int64]


class PairBlock:
    """Pair ``k`` is report row ``i[k]`` of ``missing`` against found row ``j[k]`` of
    ``found`` (rows already checked)."""

    def __init__(self, missing: MissingColumns, found: FoundColumns, i: Index, j: Index) -> None:
        self.missing = missing
        self.found = found
        self.i = i
        self.j = j

    def __len__(self) -> int:
        return len(self.i)

    @cached_property
    def dates_known(self) -> NDArray[np.bool_]:
        """Whether both the missing date and the found date are known."""
        known: NDArray[np.bool_] = (self.missing.day[self.i] != NO_DAY) & (
            self.found.day[self.j] != NO_DAY
        )
        return known

    @cached_property
    def days(self) -> NDArray[np.int64]:
        """Days from going missing to being found (meaningless where a date is unknown)."""
        days: NDArray[np.int64] = self.found.day[self.j] - self.missing.day[self.i]
        return days

    @cached_property
    def age_when_missing(self) -> NDArray[np.float64]:
        """The report's age when lost (NaN: unknown)."""
        ages: NDArray[np.float64] = self.missing.age_when_missing[self.i]
        return ages

    @cached_property
    def grew_up_away(self) -> NDArray[np.bool_]:
        """:func:`~matching.evidence_model.facts.grew_up_away` of every pair."""
        young = self.age_when_missing < GREW_UP_AWAY_BEFORE  # NaN (unknown) is not young
        away: NDArray[np.bool_] = (
            young & self.dates_known & (self.days >= GREW_UP_AWAY_YEARS * 365.25)
        )
        return away

    def zeros(self) -> NDArray[np.int16]:
        """A level or stratum column of zeros, one a pair."""
        return np.zeros(len(self), dtype=np.int16)
