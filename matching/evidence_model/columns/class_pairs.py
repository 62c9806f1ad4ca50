"""The comparisons of set-valued facts (hometown, marks, health), once per pair of classes.

Such a comparison looks only at one fact of each record: the two records' marks, their
conditions, where each says the person is from. Records holding the same value share a
class (:class:`~.interning.Classes`), so a block's outcomes come from its distinct pairs of
classes: each is placed by the comparison's own code, on the facts of the first record
of each class, and remembered in a memo across blocks (keyed by the values themselves,
so any two sides' columns can share it). The hometown's stratum also hangs on the two
records' dates and the age when lost (:attr:`~.pair_block.PairBlock.grew_up_away`), so
it is computed for every pair instead.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

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
Memo = dict[tuple[A, B], tuple[int, int, float]]
"""(missing value, found value) -> (level, stratum, term frequency or NaN)."""
HomeMemo = Memo[HomeFacts, HomeFacts]
MarksMemo = Memo[frozenset[Mark], frozenset[Mark]]
HealthMemo = Memo[frozenset[Condition], frozenset[Condition]]


def class_pair_outcomes(
    comparison: Comparison,
    missing: Classes[A],
    found: Classes[B],
    missing_facts: Sequence[MissingFacts],
    found_facts: Sequence[FoundFacts],
    i: Index,
    j: Index,
    *,
    memo: Memo[A, B],
) -> OutcomeArrays:
    """The outcome of every pair, from those of its distinct pairs of classes.

    ``missing`` and ``found`` are the classes of the fact the comparison reads; the
    comparison is asked once per pair of values ``memo`` does not hold yet.
    """
    left, right, inverse = pair_classes(missing.codes[i], found.codes[j], len(found))
    levels = np.empty(len(left), dtype=np.int16)
    strata = np.empty(len(left), dtype=np.int16)
    frequencies = np.empty(len(left), dtype=np.float64)
    for k, (a, b) in enumerate(zip(left.tolist(), right.tolist(), strict=True)):
        key = (missing.keys[a], found.keys[b])
        known = memo.get(key)
        if known is None:
            outcome = comparison.compare(
                missing_facts[int(missing.first[a])], found_facts[int(found.first[b])]
            )
            tf = np.nan if outcome.term_frequency is None else outcome.term_frequency
            known = memo[key] = (outcome.level, outcome.stratum, tf)
        levels[k], strata[k], frequencies[k] = known
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
    levels, _, frequencies = class_pair_outcomes(
        comparison, missing.home, found.home, missing.facts, found.facts, block.i, block.j,
        memo=memo,
    )  # fmt: skip
    return OutcomeArrays(levels, block.grew_up_away.astype(np.int16), frequencies)
