"""Columnar scoring: the evidence model's outcomes and weights for many pairs at once.

The per-pair scorer (``EvidenceModel.total_weight``) asks every comparison about one
pair at a time, a few thousand pairs a second. Here each side's records are read once
into arrays (:class:`MissingColumns`, :class:`FoundColumns`), and a block of pairs, given
as two arrays of rows, is compared with numpy: the same levels, strata and term
frequencies as the per-pair scorer, pair for pair, and the same weights up to the
rounding of a sum.

::

    scorer = ColumnarScorer(model)
    missing, found = scorer.missing_columns(reports), scorer.found_columns(found_persons)
    block = scorer.outcomes(missing, found, i, j)      # BlockOutcomes, pair k = (i[k], j[k])
    weights = scorer.total_weights(missing, found, i, j)

Modules, one job each:

- :mod:`.sides`: the columns of one side, from the records' facts;
- :mod:`.interning`: class codes, so a value shared by many records is handled once;
- :mod:`.pair_block`: a block of pairs, and what several comparisons derive from both
  records' dates;
- :mod:`.simple`: sex, age, time, height and place on arrays;
- :mod:`.face_pairs`: each pair's closest faces (by float32 differences, or by one
  matrix product when the block is dense), binned and put in a stratum;
- :mod:`.class_pairs`: hometown, marks and health, once per distinct pair of values;
- :mod:`.outcome_arrays`: one comparison's outcomes, and the way back to the
  comparison's own code for the pairs floating point cannot settle;
- :mod:`.weights`: the model's tables as arrays, and the sum;
- :mod:`.scorer`: :class:`ColumnarScorer`, and names through a memo until the columnar
  name comparison (``name_columns``) takes over (pending).
"""

from __future__ import annotations

from matching.evidence_model.columns.scorer import BlockOutcomes, ColumnarScorer
from matching.evidence_model.columns.sides import FoundColumns, MissingColumns

__all__ = ["BlockOutcomes", "ColumnarScorer", "FoundColumns", "MissingColumns"]
