"""The public scorer: a Fellegi-Sunter model over every kind of evidence.

Each comparison places a pair on its levels; the score is the prior (log2 odds that a
random pair is the same person) plus each level's log2 Bayes factor ``log2(m/u)``, with
name agreements adjusted by how common the agreeing name is. The total is turned into a
match probability (through the recalibration learned from reviewers' decisions, when
the model has one; the re-match job otherwise lowers the odds so that all pairs'
probabilities add up to the matches the prior expects), and every term is kept with a
plain sentence.

::

    model = EvidenceModel.default()
    score = model.score(missing_view, found_view)
    score.summary()        # 'about 40 times more likely the same person than not'
    score.probability, score.confirm_by, score.to_json()

Per-record facts (regions, resolved places, marks) are cached by record id, so scoring
millions of pairs derives each record's facts once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources

import numpy as np

from matching.evidence_model.comparisons import standard_comparisons
from matching.evidence_model.explanation import (
    ComparisonEvidence,
    EvidenceScore,
    confirmation_steps,
)
from matching.evidence_model.face_curve import FaceCurve, weigh_by_curves
from matching.evidence_model.facts import (
    FactsCache,
    FoundFacts,
    MissingFacts,
    found_facts,
    missing_facts,
)
from matching.evidence_model.model_file import (
    ModelFileError,
    params_as_text,
    params_from_json,
    params_from_text,
)
from matching.evidence_model.params import ModelParams
from matching.evidence_model.recalibration import Recalibration
from matching.evidence_model.spec import Comparison, Outcome
from matching.evidence_model.vectors import ComparisonVectors
from matching.views import FoundView, MissingView

DEFAULT_MODEL_FILE = "default_model.json"
NOT_ASKED = "not part of this search"
"""The sentence of a comparison :meth:`EvidenceModel.score_facts` was not asked to weigh."""


@dataclass(frozen=True)
class ScoringTable:
    """One comparison's numbers laid out for scoring: [stratum][level].

    ``weights`` are log2(m/u), 0.0 at the null level; ``tf_reference`` is the u a
    term-frequency adjustment divides by (None where a level is not adjusted);
    ``curves`` the stratum's curve, which weighs a pair by its measured value instead of
    its level (None: the level's weight).
    """

    weights: tuple[tuple[float, ...], ...]
    m: tuple[tuple[float | None, ...], ...]
    u: tuple[tuple[float | None, ...], ...]
    tf_levels: tuple[bool, ...]
    tf_reference: tuple[tuple[float | None, ...], ...]
    strata: tuple[str, ...]
    labels: tuple[str, ...]
    curves: tuple[FaceCurve | None, ...] = ()

    def weight(self, outcome: Outcome) -> float:
        """The weight of a non-null outcome before any term-frequency adjustment."""
        curve = self.curves[outcome.stratum] if self.curves else None
        if curve is not None and outcome.value is not None:
            return curve.weight(outcome.value)
        return self.weights[outcome.stratum][outcome.level]


def _tables(params: ModelParams, comparisons: Sequence[Comparison]) -> tuple[ScoringTable, ...]:
    tables = []
    for spec in comparisons:
        try:
            c = params.comparison(spec.name)
        except KeyError as err:
            raise ValueError(f"the parameters have no comparison {spec.name!r}") from err
        labels = tuple(level.label for level in spec.levels)
        if c.levels != labels:
            raise ValueError(f"comparison {spec.name!r}: levels {c.levels} do not match {labels}")
        strata = [c.stratum(s.label) for s in spec.strata]
        tf_levels = tuple(level.tf_adjusted for level in spec.levels)
        tables.append(
            ScoringTable(
                weights=tuple((0.0, *s.weights()) for s in strata),
                m=tuple((None, *s.m) for s in strata),
                u=tuple((None, *s.u) for s in strata),
                tf_levels=tf_levels,
                tf_reference=tuple(
                    tuple(
                        (c.tf_reference.get(label, s.u[k - 1]) if tf_levels[k] else None)
                        if k > 0
                        else None
                        for k, label in enumerate(labels)
                    )
                    for s in strata
                ),
                strata=tuple(s.label for s in spec.strata),
                labels=labels,
                curves=tuple(s.curve for s in strata) if any(s.curve for s in strata) else (),
            )
        )
    return tuple(tables)


class EvidenceModel:
    """A fitted Fellegi-Sunter model: scores pairs and explains every term."""

    def __init__(
        self,
        params: ModelParams,
        *,
        comparisons: Sequence[Comparison] | None = None,
        facts: FactsCache | None = None,
    ) -> None:
        self._comparisons = tuple(comparisons) if comparisons else standard_comparisons()
        self._params = params
        self._tables = _tables(params, self._comparisons)
        self._facts = facts if facts is not None else FactsCache()

    # --- construction ------------------------------------------------------------------

    @classmethod
    def from_text(cls, text: str, *, source: str) -> EvidenceModel:
        """A model from a model file's text (ModelFileError says everything wrong with
        it); reading the file is the caller's (``usecases.model_files``)."""
        comparisons = standard_comparisons()
        return cls(params_from_text(text, comparisons, source=source), comparisons=comparisons)

    @classmethod
    def default(cls) -> EvidenceModel:
        """The model shipped with the package (``default_model.json``), loaded once."""
        return _default_model()

    def with_params(self, params: ModelParams) -> EvidenceModel:
        """The same comparisons with other parameters (sharing the facts cache)."""
        return EvidenceModel(params, comparisons=self._comparisons, facts=self._facts)

    def with_prior(self, prior: float) -> EvidenceModel:
        """The same model with another prior match probability (same version)."""
        if not 0.0 < prior < 1.0:
            raise ValueError(f"a prior must be between 0 and 1, got {prior}")
        return self.with_params(replace(self._params, prior=prior))

    def with_recalibration(self, recalibration: Recalibration) -> EvidenceModel:
        """The same model mapping its totals to probabilities another way (same version;
        every score records the recalibration it used)."""
        return self.with_params(replace(self._params, recalibration=recalibration))

    def to_text(self) -> str:
        """The parameters as a model file's text."""
        return params_as_text(self._params)

    # --- what it is ----------------------------------------------------------------------

    @property
    def version(self) -> str:
        """The model version every candidate it scores records."""
        return self._params.version

    @property
    def params(self) -> ModelParams:
        """The parameters."""
        return self._params

    @property
    def comparisons(self) -> tuple[Comparison, ...]:
        """The comparisons, in order."""
        return self._comparisons

    @property
    def tables(self) -> tuple[ScoringTable, ...]:
        """Each comparison's weights and term-frequency references, in comparison order
        (for scorers that weigh many pairs at once, such as the columnar one)."""
        return self._tables

    @property
    def facts(self) -> FactsCache:
        """The per-record cache of derived facts."""
        return self._facts

    @property
    def prior_weight(self) -> float:
        """log2 prior odds of a random pair being the same person."""
        return float(self._params.prior_weight)

    def clear_cache(self) -> None:
        """Forget cached record facts (after a re-match, or when records changed)."""
        self._facts.clear()

    # --- scoring ---------------------------------------------------------------------------

    def outcomes(
        self, missing: MissingView, found: FoundView, *, cached: bool = True
    ) -> tuple[Outcome, ...]:
        """Where the pair falls in every comparison. ``cached=False`` derives the records'
        facts without keeping them (a server explaining one candidate at a time must not
        hold every record it was ever asked about)."""
        if cached:
            m, f = self._facts.missing(missing), self._facts.found(found)
        else:
            m, f = missing_facts(missing), found_facts(found)
        return tuple(c.compare(m, f) for c in self._comparisons)

    def _tf_adjustment(self, table: ScoringTable, outcome: Outcome) -> float:
        if not table.tf_levels[outcome.level] or outcome.term_frequency is None:
            return 0.0
        reference = table.tf_reference[outcome.stratum][outcome.level]
        if reference is None:
            return 0.0
        frequency = max(outcome.term_frequency, self._params.tf_minimum)
        cap = self._params.tf_max_adjustment
        return max(-cap, min(cap, math.log2(reference / frequency)))

    def term(self, index: int, outcome: Outcome) -> ComparisonEvidence:
        """The explained term of comparison ``index`` for an outcome."""
        spec, table = self._comparisons[index], self._tables[index]
        stratum = table.strata[outcome.stratum]
        label = table.labels[outcome.level]
        if outcome.level == 0:
            return ComparisonEvidence(spec.name, label, 0.0, outcome.text(), outcome.value,
                                      stratum=stratum)  # fmt: skip
        level_weight = table.weight(outcome)
        curve = table.curves[outcome.stratum] if table.curves else None
        curved = curve is not None
        adjustment = self._tf_adjustment(table, outcome)
        detail = outcome.text()
        if curve is not None and outcome.value is not None:
            # How sure the calibration is: refitted on identities drawn again, 90% of the
            # weights fell in this range.
            interval = curve.interval_at(outcome.value)
            if interval is not None:
                detail += f"; {interval[0]:+.1f} to {interval[1]:+.1f} bits in 90% of refits"
        if adjustment >= 1.0:
            detail += f"; a rarer name than most (+{adjustment:.1f} bits)"
        elif adjustment <= -1.0:
            detail += f"; a common name ({adjustment:.1f} bits)"
        return ComparisonEvidence(
            spec.name,
            label,
            level_weight + adjustment,
            detail,
            outcome.value,
            stratum=stratum,
            level_weight=level_weight,
            tf_adjustment=adjustment,
            # A curve's weight is not its level's m/u: those only name the level.
            m=None if curved else table.m[outcome.stratum][outcome.level],
            u=None if curved else table.u[outcome.stratum][outcome.level],
        )

    def score(
        self, missing: MissingView, found: FoundView, *, cached: bool = True
    ) -> EvidenceScore:
        """The explained score of one report against one found person (``cached``: as
        for :meth:`outcomes`)."""
        outcomes = self.outcomes(missing, found, cached=cached)
        return self._explained(tuple(self.term(i, o) for i, o in enumerate(outcomes)))

    def score_facts(
        self, missing: MissingFacts, found: FoundFacts, *, asked: Collection[str]
    ) -> EvidenceScore:
        """The explained score of facts that are not a stored pair's (a photo search's
        query), weighing only the comparisons named in ``asked``; the others are null,
        each saying it was not asked. The facts are not cached."""
        unknown = set(asked) - {c.name for c in self._comparisons}
        if unknown:
            raise ValueError(f"no such comparison: {', '.join(sorted(unknown))}")
        return self._explained(
            tuple(
                self.term(i, c.compare(missing, found))
                if c.name in asked
                else ComparisonEvidence(c.name, "null", 0.0, NOT_ASKED)
                for i, c in enumerate(self._comparisons)
            )
        )

    def _explained(self, signals: tuple[ComparisonEvidence, ...]) -> EvidenceScore:
        prior = self._params.prior_weight
        total = prior + sum(s.weight for s in signals)
        recalibration = self._params.recalibration
        return EvidenceScore(
            self.version, prior, signals, calibration=recalibration,
            confirm_by=confirmation_steps(signals, recalibration.probability(total)),
        )  # fmt: skip

    def total_weight(self, missing: MissingView, found: FoundView) -> float:
        """Prior plus evidence in log2 odds, without building the explanation.

        The plain sum, before any recalibration (which keeps the order of pairs).
        """
        m = self._facts.missing(missing)
        f = self._facts.found(found)
        total = self._params.prior_weight
        for table, comparison in zip(self._tables, self._comparisons, strict=True):
            outcome = comparison.compare(m, f)
            level = outcome.level
            if level:
                total += table.weight(outcome)
                if table.tf_levels[level] and outcome.term_frequency is not None:
                    total += self._tf_adjustment(table, outcome)
        return total

    # --- fitting support --------------------------------------------------------------------

    def comparison_vectors(
        self, pairs: Iterable[tuple[MissingView, FoundView]]
    ) -> ComparisonVectors:
        """Every pair's level, stratum and term frequency in every comparison."""
        levels: list[list[int]] = []
        strata: list[list[int]] = []
        tf: list[list[float]] = []
        values: list[list[float]] = []
        ids: list[tuple[int, int]] = []
        for missing, found in pairs:
            outcomes = self.outcomes(missing, found)
            levels.append([o.level for o in outcomes])
            strata.append([o.stratum for o in outcomes])
            tf.append([math.nan if o.term_frequency is None else o.term_frequency
                       for o in outcomes])  # fmt: skip
            values.append([math.nan if o.value is None else o.value for o in outcomes])
            ids.append((missing.id, found.id))
        c = len(self._comparisons)
        return ComparisonVectors(
            names=tuple(spec.name for spec in self._comparisons),
            levels=np.asarray(levels, dtype=np.int16).reshape(-1, c),
            strata=np.asarray(strata, dtype=np.int16).reshape(-1, c),
            term_frequency=np.asarray(tf, dtype=np.float64).reshape(-1, c),
            pairs=np.asarray(ids, dtype=np.int64).reshape(-1, 2),
            values=np.asarray(values, dtype=np.float64).reshape(-1, c),
        )

    def weights_of(self, vectors: ComparisonVectors) -> np.ndarray:
        """Total weight (prior plus terms, term frequencies included) of every row."""
        if vectors.names != tuple(spec.name for spec in self._comparisons):
            raise ValueError("the vectors are of other comparisons than this model's")
        total = np.full(len(vectors), self._params.prior_weight)
        for c, table in enumerate(self._tables):
            grid = np.array(table.weights)
            term = grid[vectors.strata[:, c], vectors.levels[:, c]]
            if vectors.values is not None:
                weigh_by_curves(table.curves, term, vectors.levels[:, c], vectors.strata[:, c],
                                vectors.values[:, c])  # fmt: skip
            total += term
            for k, adjusted in enumerate(table.tf_levels):
                if not adjusted:
                    continue
                rows = np.flatnonzero(
                    (vectors.levels[:, c] == k) & ~np.isnan(vectors.term_frequency[:, c])
                )
                for row in rows:
                    frequency = float(vectors.term_frequency[row, c])
                    stratum = int(vectors.strata[row, c])
                    outcome = Outcome(k, "", stratum, term_frequency=frequency)
                    total[row] += self._tf_adjustment(table, outcome)
        return total


@cache
def _default_model() -> EvidenceModel:
    text = resources.files("matching.evidence_model").joinpath(DEFAULT_MODEL_FILE)
    comparisons = standard_comparisons()
    try:
        data = json.loads(text.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ModelFileError(DEFAULT_MODEL_FILE, [f"cannot read the shipped model: {err}"]) from err
    params = params_from_json(data, comparisons, source=DEFAULT_MODEL_FILE)
    return EvidenceModel(params, comparisons=comparisons)
