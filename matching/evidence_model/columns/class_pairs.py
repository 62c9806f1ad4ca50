"""The comparisons of set-valued facts (hometown, marks, health), once per pair of classes.

Such a comparison looks only at one fact of each record: the two records' marks, their
conditions, where each says the person is from. Records holding the same value share a
class (:class:`~.interning.Classes`), so a block's outcomes come from its distinct pairs of
classes: each is placed by the comparison's own code, on the facts of the first record
of each class, and remembered across blocks (:class:`PairMemo`, by the values
themselves, so any columns can share it). The hometown's stratum also hangs on the two
records' dates and the age when lost (:attr:`~.pair_block.PairBlock.grew_up_away`), so
it is computed for every pair instead.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Generic, TypeVar

import numpy as np
from numpy.typing import NDArray

from matching.evidence_model.columns.interning import Classes, pair_classes
from matching.evidence_model.columns.outcome_arrays import OutcomeArrays
from matching.evidence_model.columns.pair_block import PairBlock
from matching.evidence_model.facts import FoundFacts, HomeFacts, MissingFacts
from matching.evidence_model.spec import Comparison
from matching.evidence_model.traits import Condition, Mark

Index = NDArray[np.int64]
A = TypeVar("A", bound=Hashable)
B = TypeVar("B", bound=Hashable)


class PairMemo(Generic[A, B]):
    """Outcomes of pairs of values (missing value, found value), remembered.

    Each value is numbered the first time it is met, so looking a pair up hashes one
    int64 rather than two sets; numbering a block's classes hashes each value once.
    """

    def __init__(self) -> None:
        self._missing: dict[A, int] = {}
        self._found: dict[B, int] = {}
        self._outcomes: dict[int, tuple[int, int, float]] = {}

    @staticmethod
    def _numbers(index: dict[Any, int], values: Sequence[Hashable]) -> Index:
        return np.fromiter(
            (index.setdefault(value, len(index)) for value in values), np.int64, len(values)
        )

    def outcomes(
        self,
        comparison: Comparison,
        missing: Classes[A],
        found: Classes[B],
        missing_facts: Sequence[MissingFacts],
        found_facts: Sequence[FoundFacts],
        left: Index,
        right: Index,
    ) -> OutcomeArrays:
        """The outcome of each pair of classes (``left[k]``, ``right[k]``), asking the
        comparison (on the facts of each class's first record) only about new pairs."""
        keys = (self._numbers(self._missing, missing.keys)[left] << 32) | self._numbers(
            self._found, found.keys
        )[right]
        levels = np.empty(len(keys), dtype=np.int16)
        strata = np.empty(len(keys), dtype=np.int16)
        frequencies = np.empty(len(keys), dtype=np.float64)
        for k, key in enumerate(keys.tolist()):
            known = self._outcomes.get(key)
            if known is None:
                a, b = int(missing.first[left[k]]), int(found.first[right[k]])
                outcome = comparison.compare(missing_facts[a], found_facts[b])
                tf = np.nan if outcome.term_frequency is None else outcome.term_frequency
                known = self._outcomes[key] = (outcome.level, outcome.stratum, tf)
            levels[k], strata[k], frequencies[k] = known
        return OutcomeArrays(levels, strata, frequencies)

    def __len__(self) -> int:
        return len(self._outcomes)


HomeMemo = PairMemo[HomeFacts, HomeFacts]
MarksMemo = PairMemo[frozenset[Mark], frozenset[Mark]]
HealthMemo = PairMemo[frozenset[Condition], frozenset[Condition]]


def class_pair_outcomes(
    comparison: Comparison,
    missing: Classes[A],
    found: Classes[B],
    missing_facts: Sequence[MissingFacts],
    found_facts: Sequence[FoundFacts],
    i: Index,
    j: Index,
    *,
    memo: PairMemo[A, B],
) -> OutcomeArrays:
    """The outcome of every pair, from those of its distinct pairs of classes.

    ``missing`` and ``found`` are the classes of the fact the comparison reads; the
    comparison is asked once per pair of values ``memo`` does not hold yet.
    """
    left, right, inverse = pair_classes(missing.codes[i], found.codes[j], len(found))
    levels, strata, frequencies, _ = memo.outcomes(
        comparison, missing, found, missing_facts, found_facts, left, right
    )
    return OutcomeArrays(levels[inverse], strata[inverse], frequencies[inverse])


def marks_outcomes(comparison: Comparison, block: PairBlock, *, memo: MarksMemo) -> OutcomeArrays:
    """:class:`~..comparisons.marks.MarksComparison` of every pair."""
    missing, found = block.missing, block.found
    return class_pair_outcomes(
        comparison, missing.marks, found.marks, missing.facts, found.facts, block.i, block.j,
        memo=memo,
    )  # fmt: skip


def health_outcomes(comparison: Comparison, block: PairBlock, *, memo: HealthMemo) -> OutcomeArrays:
    """:class:`~..comparisons.health.HealthComparison` of every pair."""
    missing, found = block.missing, block.found
    return class_pair_outcomes(
        comparison, missing.conditions, found.conditions, missing.facts, found.facts,
        block.i, block.j, memo=memo,
    )  # fmt: skip


def hometown_outcomes(comparison: Comparison, block: PairBlock, *, memo: HomeMemo) -> OutcomeArrays:
    """:class:`~..comparisons.hometown.HometownComparison` of every pair: the level by
    class pair, the stratum (grown up away or not) by pair."""
    missing, found = block.missing, block.found
    levels, _, frequencies, _ = class_pair_outcomes(
        comparison, missing.home, found.home, missing.facts, found.facts, block.i, block.j,
        memo=memo,
    )  # fmt: skip
    return OutcomeArrays(levels, block.grew_up_away.astype(np.int16), frequencies)
