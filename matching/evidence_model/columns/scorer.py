"""The columnar scorer: every comparison of a block of pairs at once, weighed as the
evidence model weighs one pair.

::

    scorer = ColumnarScorer(model)
    missing = scorer.missing_columns(reports)      # once per record
    found = scorer.found_columns(found_persons)
    weights = scorer.total_weights(missing, found, i, j)   # pair k: (i[k], j[k])

Each comparison of the model has its columnar form (:data:`_FORMS`); a model with a
comparison that has none is refused. The outcomes are the per-pair scorer's, level for
level and stratum for stratum (``tests/evidence_model/test_columns.py`` holds them to
it); the weights are the same up to the rounding of a sum.

Names are weighed by :func:`~matching.evidence_model.name_columns.name_outcomes`: only
the name pairs that share a sound key are compared, the rest are read from memos of the
names' shapes (``tests/evidence_model/test_name_columns.py`` holds it to the comparison).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from functools import partial
from types import MappingProxyType
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from matching.evidence_model.columns.class_pairs import (
    HealthMemo,
    HomeMemo,
    MarksMemo,
    PairMemo,
    health_outcomes,
    hometown_outcomes,
    marks_outcomes,
)
from matching.evidence_model.columns.face_pairs import face_outcomes
from matching.evidence_model.columns.outcome_arrays import OutcomeArrays
from matching.evidence_model.columns.pair_block import PairBlock
from matching.evidence_model.columns.sides import (
    FoundColumns,
    MissingColumns,
    found_columns,
    missing_columns,
)
from matching.evidence_model.columns.simple import (
    age_outcomes,
    height_outcomes,
    place_outcomes,
    sex_outcomes,
    time_outcomes,
)
from matching.evidence_model.columns.weights import WeightGrid
from matching.evidence_model.comparisons import (
    AgeComparison,
    FaceComparison,
    HealthComparison,
    HeightComparison,
    HometownComparison,
    MarksComparison,
    NamesComparison,
    PlaceComparison,
    SexComparison,
    TimeComparison,
)
from matching.evidence_model.model import EvidenceModel
from matching.evidence_model.name_columns import name_outcomes
from matching.evidence_model.spec import Comparison
from matching.views import FoundView, MissingView

Index = NDArray[np.int64]
Form = Callable[[PairBlock], OutcomeArrays]
"""A comparison's columnar form: the outcomes of a block's pairs."""


class BlockOutcomes(NamedTuple):
    """Where each pair of a block falls in every comparison (columns in the order of the
    model's comparisons)."""

    levels: NDArray[np.int16]
    """(n_pairs, n_comparisons)."""
    strata: NDArray[np.int16]
    """Same shape."""
    term_frequency: NDArray[np.float64]
    """Same shape; NaN where the comparison reports no frequency."""


def _names_form(_: Comparison) -> Form:
    def names(block: PairBlock) -> OutcomeArrays:
        levels, frequencies = name_outcomes(block.missing.names, block.found.names,
                                            block.i, block.j)  # fmt: skip
        return OutcomeArrays(levels, block.zeros(), frequencies)

    return names


def _hometown_form(comparison: Comparison) -> Form:
    memo: HomeMemo = PairMemo()
    return partial(hometown_outcomes, comparison, memo=memo)


def _marks_form(comparison: Comparison) -> Form:
    memo: MarksMemo = PairMemo()
    return partial(marks_outcomes, comparison, memo=memo)


def _health_form(comparison: Comparison) -> Form:
    memo: HealthMemo = PairMemo()
    return partial(health_outcomes, comparison, memo=memo)


def _plain(form: Form) -> Callable[[Comparison], Form]:
    return lambda _: form


_FORMS: Mapping[type, Callable[[Comparison], Form]] = MappingProxyType(
    {
        FaceComparison: lambda c: partial(face_outcomes, c),
        NamesComparison: _names_form,
        SexComparison: _plain(sex_outcomes),
        AgeComparison: _plain(age_outcomes),
        TimeComparison: _plain(time_outcomes),
        HeightComparison: lambda c: partial(height_outcomes, c),
        PlaceComparison: lambda c: partial(place_outcomes, c),
        HometownComparison: _hometown_form,
        MarksComparison: _marks_form,
        HealthComparison: _health_form,
    }
)
"""Each comparison's type -> its columnar form, made for one scorer (with its memos)."""


def _index(values: NDArray[np.int64], size: int, side: str) -> Index:
    rows = np.asarray(values)
    if rows.ndim != 1 or not np.issubdtype(rows.dtype, np.integer):
        raise ValueError(f"{side} rows must be a 1-d integer array, got {rows.dtype} {rows.shape}")
    if len(rows) and (int(rows.min()) < 0 or int(rows.max()) >= size):
        raise ValueError(f"{side} rows must lie in 0..{size - 1}, got {rows.min()}..{rows.max()}")
    return np.ascontiguousarray(rows, dtype=np.int64)


class ColumnarScorer:
    """The evidence model's outcomes and weights for blocks of pairs, from columns.

    The columns of a side are built once per record and serve any block. The scorer
    remembers the outcome of each distinct pair of names, marks, conditions and
    hometown facts it has met, for its life: make one a re-match run.
    """

    def __init__(self, model: EvidenceModel) -> None:
        unknown = [c.name for c in model.comparisons if type(c) not in _FORMS]
        if unknown:
            raise ValueError(f"no columnar form of the comparisons {', '.join(unknown)}")
        self._model = model
        self._forms = tuple(_FORMS[type(c)](c) for c in model.comparisons)
        self._grids = tuple(WeightGrid.of(table) for table in model.tables)

    @property
    def model(self) -> EvidenceModel:
        """The model whose outcomes and weights this scorer computes."""
        return self._model

    def missing_columns(self, views: Sequence[MissingView]) -> MissingColumns:
        """The columns of reports (row ``r`` is ``views[r]``)."""
        return missing_columns(views)

    def found_columns(self, views: Sequence[FoundView]) -> FoundColumns:
        """The columns of found persons (row ``r`` is ``views[r]``)."""
        return found_columns(views)

    def _each(
        self,
        missing: MissingColumns,
        found: FoundColumns,
        i: Index,
        j: Index,
        skip: Collection[str] = (),
    ) -> Iterator[tuple[int, OutcomeArrays]]:
        """Each comparison's place in the model and outcomes of the block, in the model's
        order, but for the comparisons named in ``skip`` (not computed)."""
        i = _index(i, len(missing), "report")
        j = _index(j, len(found), "found")
        if len(i) != len(j):
            raise ValueError(f"{len(i)} report rows but {len(j)} found rows")
        block = PairBlock(missing, found, i, j)
        for c, (comparison, form) in enumerate(zip(self._model.comparisons, self._forms,
                                                   strict=True)):  # fmt: skip
            if comparison.name not in skip:
                yield c, form(block)

    def outcomes(
        self, missing: MissingColumns, found: FoundColumns, i: Index, j: Index
    ) -> BlockOutcomes:
        """Where pair ``k`` (report row ``i[k]``, found row ``j[k]``) falls in every
        comparison. Raises ValueError for rows that are not 1-d integer arrays of the same
        length within the columns."""
        # Filled a comparison at a time, so each comparison's column is contiguous; the
        # block is its transpose, (pairs, comparisons) as the per-pair vectors are.
        shape = (len(self._forms), len(i))
        levels = np.empty(shape, dtype=np.int16)
        strata = np.empty(shape, dtype=np.int16)
        frequencies = np.empty(shape, dtype=np.float64)
        for c, outcome in self._each(missing, found, i, j):
            levels[c], strata[c], frequencies[c] = outcome[:3]
        return BlockOutcomes(levels.T, strata.T, frequencies.T)

    def terms(
        self, missing: MissingColumns, found: FoundColumns, i: Index, j: Index
    ) -> dict[str, NDArray[np.float64]]:
        """Each comparison's term of every pair (its weight plus any frequency
        adjustment), by the comparison's name: :meth:`total_weights` is the prior plus
        their sum, added in the model's order."""
        params = self._model.params
        out: dict[str, NDArray[np.float64]] = {}
        for c, outcome in self._each(missing, found, i, j):
            term = np.zeros(len(i), dtype=np.float64)
            self._grids[c].add_to(
                term, *outcome, tf_minimum=params.tf_minimum, tf_cap=params.tf_max_adjustment
            )
            out[self._model.comparisons[c].name] = term
        return out

    def total_weights(
        self,
        missing: MissingColumns,
        found: FoundColumns,
        i: Index,
        j: Index,
        *,
        skip: Collection[str] = (),
    ) -> NDArray[np.float64]:
        """Prior plus evidence in log2 odds of every pair, as
        :meth:`EvidenceModel.total_weight` gives it (before any recalibration), leaving
        out the comparisons named in ``skip`` (not computed at all: the re-match guesses
        at many pairs without their names, the costliest comparison, to choose which to
        weigh whole)."""
        unknown = set(skip) - {c.name for c in self._model.comparisons}
        if unknown:
            raise ValueError(f"no comparison named {', '.join(sorted(unknown))}")
        params = self._model.params
        total = np.full(len(i), self._model.prior_weight)
        for c, outcome in self._each(missing, found, i, j, skip):
            self._grids[c].add_to(
                total, *outcome, tf_minimum=params.tf_minimum, tf_cap=params.tf_max_adjustment
            )
        return total
