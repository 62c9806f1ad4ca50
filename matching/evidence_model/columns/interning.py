"""Class codes: records that share a value share an integer, so work on the value is done
once per distinct value (or per distinct pair of values), not once per record or pair.

A comparison of marks looks only at the two records' sets of marks; thousands of
reports note no mark or the same scar. :class:`Classes` gives each distinct value of one
side an integer code and remembers the first record that holds it; :func:`pair_classes`
turns a block of pairs into its distinct pairs of classes and, for every pair, the index
of its class pair, so a result computed per class pair is spread over the block with
one gather.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
from numpy.typing import NDArray

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Classes(Generic[K]):
    """Each record's class code (``codes[r]``), each class's value (``keys[c]``) and the
    first record holding it (``first[c]``). None is a value like any other."""

    codes: NDArray[np.int64]
    keys: tuple[K, ...]
    first: NDArray[np.int64]

    @classmethod
    def of(cls, values: Sequence[K]) -> Classes[K]:
        """The classes of ``values``, numbered in order of first appearance."""
        index: dict[K, int] = {}
        codes = np.empty(len(values), dtype=np.int64)
        first: list[int] = []
        for row, value in enumerate(values):
            code = index.get(value)
            if code is None:
                code = index[value] = len(first)
                first.append(row)
            codes[row] = code
        return cls(codes, tuple(index), np.asarray(first, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.keys)

    def aligned(self, other: Classes[K]) -> NDArray[np.int64]:
        """Codes of ``other``'s classes in this one's numbering: equal codes, equal values.

        A value this side does not hold gets a code of its own past this side's, so
        ``self.codes[i] == self.aligned(other)[other.codes[j]]`` says whether record
        ``i`` here and record ``j`` there hold the same value.
        """
        index = {key: code for code, key in enumerate(self.keys)}
        fresh = iter(range(len(self.keys), len(self.keys) + len(other.keys)))
        return np.fromiter(
            (index[key] if key in index else next(fresh) for key in other.keys),
            dtype=np.int64,
            count=len(other.keys),
        )


DENSE_KEYS_A_PAIR = 4
"""A key space up to this many times the block's pairs (or 2**16) is mapped with a table
instead of sorted: the same result, without the sort."""


def pair_classes(
    left: NDArray[np.int64], right: NDArray[np.int64], n_right: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """(left class, right class) of each distinct pair of classes, in order, and for every
    pair the index of its distinct pair: ``left`` and ``right`` are the pairs' class
    codes, ``n_right`` the number of right classes.

    This is ``np.unique(left * n_right + right, return_inverse=True)``; when the key space
    is small against the block, a table of the keys present gives it without sorting.
    """
    width = np.int64(max(n_right, 1))
    key = left * width + right
    size = int(key.max()) + 1 if len(key) else 0
    if size <= max(DENSE_KEYS_A_PAIR * len(key), 1 << 16):
        present = np.zeros(size, dtype=np.bool_)
        present[key] = True
        unique = np.flatnonzero(present)
        position = np.empty(size, dtype=np.int64)
        position[unique] = np.arange(len(unique))
        inverse = position[key]
    else:
        unique, inverse = np.unique(key, return_inverse=True)
    return unique // width, unique % width, inverse.reshape(-1)
