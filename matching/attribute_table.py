"""Reports' sex, birth year and provinces in columns, for weighing thousands at once.

Name search orders the records an index tier holds, and ranks its hits, by what the
officer knows besides the name. A lone 小名 core touches tens of thousands of reports at
a million, and weighing them one Python call at a time took longer than comparing the
names; in columns it is a few numpy operations.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from records import Sex

SEX_AGREES: Final = 0.9
"""Sex is rarely recorded wrongly: agreement halves the field..."""
SEX_DIFFERS: Final = -5.0
"""...and a clash all but rules out."""
REGION_AGREES: Final = 2.0
"""An accent points to about a tenth of the country..."""
REGION_DIFFERS: Final = -1.0
"""...but accents are misjudged and people move: disagreement counts for a little."""
_SEX_CODES: Final = {Sex.MALE: 1, Sex.FEMALE: 2}


# A birth-year gap: estimated ages are rough (a confused old man may be put anywhere in a
# decade), so the same person's gap is taken as Laplace with a scale of four years, two
# people's as spread over eighty; never below -4, since an estimate can be very wrong.
_YEAR_AT_NO_GAP: Final = math.log2(80 / 8)
_YEARS_PER_BIT: Final = 4 * math.log(2)
_YEAR_FLOOR: Final = -4.0


def _year_weights(gaps: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.maximum(_YEAR_FLOOR, _YEAR_AT_NO_GAP - gaps / _YEARS_PER_BIT)


def year_weight(gap: float) -> float:
    """log2 of how much likelier a birth-year gap is for the same person than for two."""
    return float(_year_weights(np.array([gap], dtype=np.float64))[0])


class AttributeTable:
    """Each report's sex, birth year and provinces, by ref, in columns."""

    def __init__(self) -> None:
        self._row: dict[str, int] = {}
        self._sex = array("b")
        self._year = array("d")  # NaN: unknown
        self._regions = array("q")  # one bit per province seen; 0: unknown
        self._bits: dict[str, int] = {}

    def _mask(self, regions: frozenset[str]) -> int:
        new = [region for region in regions if region not in self._bits]
        if len(self._bits) + len(new) > 63:
            raise ValueError("more than 63 provinces")  # China has 34
        for region in new:
            self._bits[region] = len(self._bits)
        return sum(1 << self._bits[region] for region in regions)

    def set(self, ref: str, sex: Sex, birth_year: int | None, regions: frozenset[str]) -> None:
        """Record (or replace) a report's attributes."""
        values = (_SEX_CODES.get(sex, 0), math.nan if birth_year is None else float(birth_year),
                  self._mask(regions))  # fmt: skip
        row = self._row.get(ref)
        if row is None:
            self._row[ref] = len(self._sex)
            self._sex.append(values[0])
            self._year.append(values[1])
            self._regions.append(values[2])
        else:
            self._sex[row], self._year[row], self._regions[row] = values

    def weights(
        self,
        refs: Sequence[str],
        *,
        sex: Sex = Sex.UNKNOWN,
        birth_year: int | None = None,
        regions: frozenset[str] = frozenset(),
    ) -> npt.NDArray[np.float64]:
        """What sex, birth year and the accent's provinces say about each report, in log2
        units; 0 for whatever either side does not know. A ref not in the table is a
        KeyError."""
        rows = np.fromiter((self._row[ref] for ref in refs), dtype=np.int64, count=len(refs))
        out = np.zeros(len(rows), dtype=np.float64)
        code = _SEX_CODES.get(sex, 0)
        if code:
            theirs = np.frombuffer(self._sex, dtype=np.int8)[rows]
            out += np.where(theirs == 0, 0.0, np.where(theirs == code, SEX_AGREES, SEX_DIFFERS))
        if birth_year is not None:
            years = np.frombuffer(self._year, dtype=np.float64)[rows]
            weight = _year_weights(np.abs(years - birth_year))
            out += np.where(np.isnan(years), 0.0, weight)
        if regions:
            # A province no report names agrees with none of them.
            mask = sum(1 << self._bits[r] for r in regions if r in self._bits)
            theirs_regions = np.frombuffer(self._regions, dtype=np.int64)[rows]
            agree = (theirs_regions & mask) != 0
            out += np.where(theirs_regions == 0, 0.0,
                            np.where(agree, REGION_AGREES, REGION_DIFFERS))  # fmt: skip
        return out
