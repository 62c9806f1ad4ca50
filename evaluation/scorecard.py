"""Every figure of one method on one population: recall@k both ways, per label, the
precision-recall curve, reviewer workload and calibration, and calibration after
learning from simulated reviewers' decisions, measured on found persons held out.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from evaluation.baselines import Pair, rankings
from evaluation.metrics import (
    DEFAULT_KS,
    CalibrationBin,
    PrecisionRecallCurve,
    RecallAtK,
    calibration_table,
    expected_calibration_error,
    group_keys,
    max_calibration_gap,
    recall_at_k_by,
    split_by_hash,
    workload_at_recall,
)
from matching.evidence_model.recalibration import STRENGTH, Recalibration, fit_recalibration

LABELS = ("scenario", "category", "gap", "region", "photos")
WORKLOAD_TARGETS = (0.90, 0.95)
REVIEWED_SHARE = 0.30
"""Share of found persons whose candidates simulated reviewers decide."""
SPLIT_SEED = "xunqin-reviewed-1"
"""Seed of the hash that picks the reviewed found persons."""
REVIEWED_TOP = 10
"""Candidates a simulated reviewer decides for each reviewed found person when the
evaluation replays learning from decisions: the first page."""
CERTAIN_LOG_ODDS = 53.0
"""A stored probability of exactly 1 is read as 53 bits: the odds of the largest double
below 1 (a total above that rounds to 1). Those pairs are true all but surely."""
IMPOSSIBLE_LOG_ODDS = -1075.0
"""A stored probability of exactly 0 is read as the odds of the smallest double."""


def log2_odds(probability: float) -> float:
    """log2(p / (1 - p)) of a stored probability, finite at exactly 0 and 1."""
    if probability >= 1.0:
        return CERTAIN_LOG_ODDS
    if probability <= 0.0:
        return IMPOSSIBLE_LOG_ODDS
    return math.log2(probability) - math.log1p(-probability) / math.log(2.0)


@dataclass(frozen=True)
class HeldOutRecalibration:
    """Calibration before and after a recalibration fitted on other found persons.

    Found persons are split by a seeded hash of their ref: ``reviewed_share`` of them
    are "reviewed" (a simulated reviewer decides every candidate of theirs, the truth
    giving the decision) and the rest held out. The recalibration is fitted on the
    reviewed persons' candidates only, on the log2 odds of their stored probabilities,
    and measured on the held-out persons' candidates.
    """

    recalibration: Recalibration
    reviewed_persons: int
    held_out_persons: int
    decisions: int
    confirmed: int
    held_out_pairs: int
    held_out_true: int
    deciles_before: list[CalibrationBin]
    deciles_after: list[CalibrationBin]
    uniform_before: list[CalibrationBin]
    uniform_after: list[CalibrationBin]
    ece_before: float
    ece_after: float
    max_gap_before: float
    max_gap_after: float

    @classmethod
    def from_pairs(
        cls,
        pairs: Sequence[Pair],
        truth: Collection[tuple[str, str]],
        probabilities: Mapping[tuple[str, str], float],
        *,
        reviewed_share: float = REVIEWED_SHARE,
        seed: str = SPLIT_SEED,
        strength: float = STRENGTH,
    ) -> HeldOutRecalibration:
        """Split, fit on the reviewed persons' candidates, measure on the others'."""
        # Sorted, so the figures do not depend on the order the pairs came in.
        scored = sorted(
            (m, f, probabilities[(m, f)]) for m, f, _ in pairs if (m, f) in probabilities
        )
        reviewed, held_out = split_by_hash({f for _, f, _ in scored}, share=reviewed_share,
                                           seed=seed)  # fmt: skip
        decided = [(log2_odds(p), (m, f) in truth) for m, f, p in scored if f in reviewed]
        fitted = fit_recalibration([t for t, _ in decided], [y for _, y in decided],
                                   strength=strength)  # fmt: skip
        kept = [(p, (m, f) in truth) for m, f, p in scored if f in held_out]
        before = [p for p, _ in kept]
        after = [fitted.probability(log2_odds(p)) for p in before]
        flags = [y for _, y in kept]
        deciles_before = calibration_table(before, flags, 10)
        deciles_after = calibration_table(after, flags, 10)
        return cls(
            recalibration=fitted,
            reviewed_persons=len(reviewed),
            held_out_persons=len(held_out),
            decisions=len(decided),
            confirmed=sum(1 for _, y in decided if y),
            held_out_pairs=len(kept),
            held_out_true=sum(flags),
            deciles_before=deciles_before,
            deciles_after=deciles_after,
            uniform_before=calibration_table(before, flags, 10, strategy="uniform"),
            uniform_after=calibration_table(after, flags, 10, strategy="uniform"),
            ece_before=expected_calibration_error(deciles_before),
            ece_after=expected_calibration_error(deciles_after),
            max_gap_before=max_calibration_gap(deciles_before),
            max_gap_after=max_calibration_gap(deciles_after),
        )


@dataclass(frozen=True)
class GroupFigures:
    """Threshold figures over the candidates of one group of found persons."""

    true_pairs: int
    reachable_recall: float
    workload_90: float | None
    ece: float | None


def _group_figures(
    pairs: Sequence[Pair],
    truth: set[tuple[str, str]],
    found_refs: set[str],
    probabilities: Mapping[tuple[str, str], float] | None,
) -> GroupFigures:
    # Every candidate of the group's found persons, true or not: what a reviewer would read
    # for them. Found persons without a report have no label and so are in no group.
    chosen = [p for p in pairs if p[1] in found_refs]
    n_true = sum(1 for m, f in truth if f in found_refs)
    flags = [(m, f) in truth for m, f, _ in chosen]
    ece = None
    if probabilities is not None and chosen:
        probs = [probabilities.get((m, f), math.nan) for m, f, _ in chosen]
        kept = [(p, t) for p, t in zip(probs, flags, strict=True) if not math.isnan(p)]
        if kept:
            table = calibration_table([p for p, _ in kept], [t for _, t in kept], 10)
            ece = expected_calibration_error(table)
    return GroupFigures(
        true_pairs=n_true,
        reachable_recall=sum(flags) / n_true if n_true else math.nan,
        workload_90=workload_at_recall([s for _, _, s in chosen], flags, n_true, 0.90)
        if n_true
        else None,
        ece=ece,
    )


@dataclass(frozen=True)
class Scorecard:
    """One method's figures."""

    name: str
    n_pairs: int
    recall_found: RecallAtK
    recall_missing: RecallAtK
    by_label: dict[str, dict[str, RecallAtK]]
    by_label_threshold: dict[str, dict[str, GroupFigures]]
    curve: PrecisionRecallCurve
    max_recall: float
    workload: dict[float, float | None]
    calibration: list[CalibrationBin] | None
    calibration_deciles: list[CalibrationBin] | None
    ece: float | None
    seconds: float
    held_out: HeldOutRecalibration | None = None

    @classmethod
    def from_pairs(
        cls,
        name: str,
        pairs: Sequence[Pair],
        true_pairs: Iterable[tuple[str, str]],
        labels: Mapping[str, Mapping[str, str]],
        *,
        probabilities: Mapping[tuple[str, str], float] | None = None,
        judged: Collection[tuple[str, str]] | None = None,
        seconds: float = 0.0,
        ks: Sequence[int] = DEFAULT_KS,
    ) -> Scorecard:
        """Compute from proposed pairs, the true pairs and each found ref's labels.

        ``judged`` restricts the threshold figures (curve, workload, calibration) to the
        pairs whose truth is known, as with reviewers' decisions; rankings use every pair.
        """
        truth = set(true_pairs)
        by_found_truth: dict[str, set[str]] = defaultdict(set)
        by_missing_truth: dict[str, set[str]] = defaultdict(set)
        for m_ref, f_ref in truth:
            by_found_truth[f_ref].add(m_ref)
            by_missing_truth[m_ref].add(f_ref)
        ranked_found, ranked_missing = rankings(pairs)
        by_label = {
            label: recall_at_k_by(
                ranked_found,
                by_found_truth,
                {f: values[label] for f, values in labels.items()},
                ks,
            )
            for label in LABELS
        }
        judged_set = set(judged) if judged is not None else None
        scored = [p for p in pairs if judged_set is None or (p[0], p[1]) in judged_set]
        scores = [score for _, _, score in scored]
        flags = [(m, f) in truth for m, f, _ in scored]
        curve = PrecisionRecallCurve.from_scores(scores, flags, len(truth))
        calibration = deciles = None
        ece = None
        held_out = None
        if probabilities is not None:
            held_out = HeldOutRecalibration.from_pairs(scored, truth, probabilities)
            probs = [probabilities.get((m, f), math.nan) for m, f, _ in scored]
            kept = [(p, t) for p, t in zip(probs, flags, strict=True) if not math.isnan(p)]
            calibration = calibration_table(
                [p for p, _ in kept], [t for _, t in kept], 10, strategy="uniform"
            )
            deciles = calibration_table([p for p, _ in kept], [t for _, t in kept], 10)
            ece = expected_calibration_error(deciles)
        groups = {
            label: {
                value: _group_figures(pairs, truth, refs, probabilities)
                for value, refs in sorted(
                    group_keys({f: v[label] for f, v in labels.items()}).items()
                )
            }
            for label in LABELS
        }
        return cls(
            name=name,
            n_pairs=len(pairs),
            recall_found=RecallAtK.from_rankings(ranked_found, by_found_truth, ks),
            recall_missing=RecallAtK.from_rankings(ranked_missing, by_missing_truth, ks),
            by_label=by_label,
            by_label_threshold=groups,
            curve=curve,
            max_recall=sum(flags) / len(truth) if truth else math.nan,
            workload={
                t: workload_at_recall(scores, flags, len(truth), t) for t in WORKLOAD_TARGETS
            },
            calibration=calibration,
            calibration_deciles=deciles,
            ece=ece,
            seconds=seconds,
            held_out=held_out,
        )


@dataclass(frozen=True)
class LearningFigures:
    """Figures over the found persons reviewers did not see: before any decision, after
    the decisions with the model unchanged, and after the model learned from them."""

    before: Scorecard
    decided_only: Scorecard
    after: Scorecard
    reviewed_persons: int
    """Reviewed found persons with a report (those without one have nothing to confirm)."""
    held_out_persons: int
    """Found persons with a report whom reviewers did not see."""
    confirmed: int
    rejected: int
    recalibration_slope: float
    recalibration_intercept: float

    @property
    def cards(self) -> tuple[Scorecard, Scorecard, Scorecard]:
        """Before, decisions only, after learning."""
        return self.before, self.decided_only, self.after

    @classmethod
    def from_runs(
        cls,
        runs: Sequence[tuple[Sequence[Pair], Mapping[tuple[str, str], float] | None]],
        truth: Iterable[tuple[str, str]],
        labels: Mapping[str, Mapping[str, str]],
        reviewed: Collection[str],
        *,
        confirmed: int,
        rejected: int,
        slope: float,
        intercept: float,
    ) -> LearningFigures:
        """Scorecards of the three runs' (pairs, probabilities), in the order of
        :attr:`cards`, over the found persons not in ``reviewed``."""
        kept_truth = [(m, f) for m, f in truth if f not in reviewed]
        kept_labels = {f: v for f, v in labels.items() if f not in reviewed}
        names = ("before decisions", "decisions, model unchanged", "after learning")
        before, decided_only, after = (
            Scorecard.from_pairs(
                name, [p for p in pairs if p[1] not in reviewed], kept_truth, kept_labels,
                probabilities=probabilities,
            )
            for name, (pairs, probabilities) in zip(names, runs, strict=True)
        )  # fmt: skip
        return cls(
            before, decided_only, after,
            reviewed_persons=sum(1 for f in labels if f in reviewed),
            held_out_persons=len(kept_labels), confirmed=confirmed, rejected=rejected,
            recalibration_slope=slope, recalibration_intercept=intercept,
        )  # fmt: skip
