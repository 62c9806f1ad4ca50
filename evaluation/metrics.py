"""Evaluation metrics as small pure functions: ranking recall, precision/recall over a score
threshold, reviewer workload, calibration, and per-label breakdowns.

Conventions:

- A *query* is whatever is searched with (a found record, say); a *candidate* what comes
  back (a report). ``truth`` maps each query to its true candidates.
- A true pair the system never proposed still counts: functions over scored pairs take
  ``n_positives_total``, the number of true pairs that exist, so recall is out of all of
  them and not just out of those that were scored.
- A score threshold ``t`` selects every pair with ``score >= t``; tied scores are selected
  or left out together, because a reviewer cannot read half of a tie.
- An undefined share (no queries, no positives) is ``nan``; an unreachable target is
  ``None``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

Q = TypeVar("Q", bound=Hashable)
C = TypeVar("C", bound=Hashable)
K = TypeVar("K", bound=Hashable)
R = TypeVar("R")

DEFAULT_KS: tuple[int, ...] = (1, 5, 10, 50)


def _check_ks(ks: Sequence[int]) -> None:
    if not ks:
        raise ValueError("ks must not be empty")
    for k in ks:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")


def _check_scored(scores: Sequence[float], labels: Sequence[bool], n_positives_total: int) -> None:
    if len(scores) != len(labels):
        raise ValueError(f"{len(scores)} scores but {len(labels)} labels")
    if any(math.isnan(s) for s in scores):
        raise ValueError("scores must not be NaN")
    n_true = sum(1 for label in labels if label)
    if n_positives_total < n_true:
        raise ValueError(
            f"n_positives_total={n_positives_total} is below the {n_true} true pairs scored"
        )


def first_true_rank(ranking: Sequence[C], answers: Collection[C]) -> int | None:
    """The 1-based rank of the first true candidate in ``ranking``, or None."""
    for rank, candidate in enumerate(ranking, start=1):
        if candidate in answers:
            return rank
    return None


@dataclass(frozen=True, slots=True)
class RecallAtK:
    """Share of answerable queries with a true candidate in the top k, for each k."""

    n_queries: int
    recall: dict[int, float]

    @classmethod
    def from_rankings(
        cls,
        rankings: Mapping[Q, Sequence[C]],
        truth: Mapping[Q, Collection[C]],
        ks: Sequence[int] = DEFAULT_KS,
    ) -> RecallAtK:
        """Compute from ranked candidates per query and the true candidates per query.

        Queries with no true candidate are left out; a query with a true candidate but no
        ranking counts as a miss.
        """
        _check_ks(ks)
        queries = [q for q, answers in truth.items() if answers]
        if not queries:
            return cls(0, dict.fromkeys(ks, math.nan))
        hits = dict.fromkeys(ks, 0)
        for query in queries:
            rank = first_true_rank(rankings.get(query, ()), set(truth[query]))
            if rank is None:
                continue
            for k in ks:
                if rank <= k:
                    hits[k] += 1
        return cls(len(queries), {k: hits[k] / len(queries) for k in ks})


def recall_at_k(
    rankings: Mapping[Q, Sequence[C]],
    truth: Mapping[Q, Collection[C]],
    ks: Sequence[int] = DEFAULT_KS,
) -> dict[int, float]:
    """Share of queries that have a true answer for which one is within the top k.

    >>> recall_at_k({"f1": ["m9", "m1"], "f2": ["m2"]}, {"f1": {"m1"}, "f2": {"m3"}}, ks=(1, 2))
    {1: 0.0, 2: 0.5}
    """
    return RecallAtK.from_rankings(rankings, truth, ks).recall


@dataclass(frozen=True, slots=True)
class PrecisionRecallPoint:
    """What a threshold selects: pairs with ``score >= threshold``."""

    threshold: float
    n_selected: int
    n_true: int
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall (0 when both are 0, nan when undefined)."""
        if math.isnan(self.recall):
            return math.nan
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


@dataclass(frozen=True, slots=True)
class PrecisionRecallCurve:
    """One point per distinct score, from the highest threshold down."""

    points: tuple[PrecisionRecallPoint, ...]
    n_positives_total: int

    @classmethod
    def from_scores(
        cls, scores: Sequence[float], labels: Sequence[bool], n_positives_total: int
    ) -> PrecisionRecallCurve:
        """Build from pair scores, whether each pair is true, and how many true pairs exist.

        Raises ``ValueError`` when lengths differ, a score is NaN, or fewer true pairs are
        said to exist than are labelled true.
        """
        _check_scored(scores, labels, n_positives_total)
        order = sorted(range(len(scores)), key=lambda i: -scores[i])
        points = []
        n_selected = n_true = 0
        i = 0
        while i < len(order):
            threshold = scores[order[i]]
            while i < len(order) and scores[order[i]] == threshold:
                n_selected += 1
                n_true += 1 if labels[order[i]] else 0
                i += 1
            recall = n_true / n_positives_total if n_positives_total else math.nan
            points.append(
                PrecisionRecallPoint(threshold, n_selected, n_true, n_true / n_selected, recall)
            )
        return cls(tuple(points), n_positives_total)

    def at_threshold(self, threshold: float) -> PrecisionRecallPoint | None:
        """The point for ``score >= threshold``; None when that selects nothing."""
        chosen = None
        for point in self.points:
            if point.threshold < threshold:
                break
            chosen = point
        return chosen


def precision_recall_curve(
    scores: Sequence[float], labels: Sequence[bool], n_positives_total: int
) -> PrecisionRecallCurve:
    """Precision and recall at every distinct score threshold (see ``PrecisionRecallCurve``).

    ``n_positives_total`` counts every true pair that exists, so pairs never scored (never
    generated as candidates) are missed at every threshold.
    """
    return PrecisionRecallCurve.from_scores(scores, labels, n_positives_total)


def workload_at_recall(
    scores: Sequence[float],
    labels: Sequence[bool],
    n_positives_total: int,
    target_recall: float,
) -> float | None:
    """Candidates a reviewer reads per true pair found, to reach ``target_recall``.

    The reviewer reads all candidates in score order (globally, across queries) down to the
    highest threshold whose selection reaches the target recall, ties included. Returns
    ``n_selected / n_true`` there, or None when the target cannot be reached (too few true
    pairs scored, or no true pairs at all).
    """
    if not 0.0 < target_recall <= 1.0:
        raise ValueError(f"target_recall must be in (0, 1], got {target_recall}")
    curve = PrecisionRecallCurve.from_scores(scores, labels, n_positives_total)
    if n_positives_total == 0:
        return None
    # Integers avoid 0.7 * 10 = 7.000000000000001 asking for an eighth pair.
    needed = max(1, math.ceil(target_recall * n_positives_total - 1e-9))
    for point in curve.points:
        if point.n_true >= needed:
            return point.n_selected / point.n_true
    return None


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    """Predicted probabilities in ``[lo, hi]`` against how often the pairs were true."""

    lo: float
    hi: float
    mean_predicted: float
    observed_share: float
    count: int


BinStrategy = Literal["quantile", "uniform"]


def _bin(
    probabilities: Sequence[float],
    labels: Sequence[bool],
    members: Sequence[int],
    lo: float,
    hi: float,
) -> CalibrationBin:
    n = len(members)
    mean = sum(probabilities[i] for i in members) / n
    observed = sum(1 for i in members if labels[i]) / n
    return CalibrationBin(lo, hi, mean, observed, n)


def calibration_table(
    probabilities: Sequence[float],
    labels: Sequence[bool],
    bins: int = 10,
    *,
    strategy: BinStrategy = "quantile",
) -> list[CalibrationBin]:
    """Mean predicted probability against the observed share of true pairs, per bin.

    ``strategy="quantile"`` makes ``bins`` equal-count bins (deciles by default) over the
    sorted probabilities, with ``lo``/``hi`` the smallest and largest probability in the
    bin; tied probabilities stay in one bin, so bins can be unequal and fewer than asked.
    ``strategy="uniform"`` makes fixed-width bins ``[i/bins, (i+1)/bins)`` (the last one
    closed), with ``lo``/``hi`` the bin edges. Empty bins are left out either way.
    """
    if len(probabilities) != len(labels):
        raise ValueError(f"{len(probabilities)} probabilities but {len(labels)} labels")
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    if any(not 0.0 <= p <= 1.0 for p in probabilities):  # also rejects NaN
        raise ValueError("probabilities must be in [0, 1]")
    n = len(probabilities)
    if n == 0:
        return []
    if strategy == "uniform":
        members: list[list[int]] = [[] for _ in range(bins)]
        for i, p in enumerate(probabilities):
            members[min(int(p * bins), bins - 1)].append(i)
        return [
            _bin(probabilities, labels, m, b / bins, (b + 1) / bins)
            for b, m in enumerate(members)
            if m
        ]
    if strategy != "quantile":
        raise ValueError(f"strategy must be 'quantile' or 'uniform', got {strategy!r}")
    order = sorted(range(n), key=lambda i: probabilities[i])
    cuts = [0]
    for b in range(1, bins):
        cut = max(round(b * n / bins), cuts[-1])
        # Move the cut past a run of equal probabilities so a tie is never split.
        while 0 < cut < n and probabilities[order[cut]] == probabilities[order[cut - 1]]:
            cut += 1
        cuts.append(cut)
    cuts.append(n)
    table = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        if end > start:
            chunk = order[start:end]
            lo, hi = probabilities[chunk[0]], probabilities[chunk[-1]]
            table.append(_bin(probabilities, labels, chunk, lo, hi))
    return table


def expected_calibration_error(table: Sequence[CalibrationBin]) -> float:
    """Count-weighted mean gap between predicted and observed, over a calibration table."""
    total = sum(b.count for b in table)
    if total == 0:
        return math.nan
    return sum(b.count * abs(b.mean_predicted - b.observed_share) for b in table) / total


def max_calibration_gap(table: Sequence[CalibrationBin]) -> float:
    """The largest gap between predicted and observed in any bin (nan for no bins)."""
    if not table:
        return math.nan
    return max(abs(b.mean_predicted - b.observed_share) for b in table)


def hashed_share(key: str, *, seed: str) -> float:
    """A number in [0, 1) fixed by the key and the seed: a split that needs no state."""
    digest = hashlib.blake2b(f"{seed}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def split_by_hash(
    keys: Iterable[str], *, share: float, seed: str
) -> tuple[frozenset[str], frozenset[str]]:
    """Keys split into (about ``share`` of them, the rest) by a seeded hash of each key.

    Each key's side depends only on the key and the seed, never on which other keys are
    there, so the same record falls on the same side in every run.
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be in [0, 1], got {share}")
    chosen: set[str] = set()
    rest: set[str] = set()
    for key in keys:
        (chosen if hashed_share(key, seed=seed) < share else rest).add(key)
    return frozenset(chosen), frozenset(rest)


def group_keys(group_of: Mapping[K, str]) -> dict[str, set[K]]:
    """Keys by their label: ``{"dialect": {"F001", "F007"}, "exact": {...}}``."""
    groups: dict[str, set[K]] = {}
    for key, label in group_of.items():
        groups.setdefault(label, set()).add(key)
    return groups


def breakdown(group_of: Mapping[K, str], compute: Callable[[set[K]], R]) -> dict[str, R]:
    """Run ``compute`` once per label on the keys carrying that label, labels sorted."""
    groups = group_keys(group_of)
    return {label: compute(groups[label]) for label in sorted(groups)}


def recall_at_k_by(
    rankings: Mapping[Q, Sequence[C]],
    truth: Mapping[Q, Collection[C]],
    group_of: Mapping[Q, str],
    ks: Sequence[int] = DEFAULT_KS,
) -> dict[str, RecallAtK]:
    """``RecallAtK`` per label (per scenario, say), over the queries with that label."""

    def compute(queries: set[Q]) -> RecallAtK:
        subset = {q: truth[q] for q in queries if q in truth}
        return RecallAtK.from_rankings(rankings, subset, ks)

    return breakdown(group_of, compute)


def recall_at_threshold_by(
    scores: Mapping[K, float],
    group_of: Mapping[K, str],
    threshold: float,
) -> dict[str, float]:
    """Share of the true pairs of each label scored at or above ``threshold``.

    ``scores`` holds the scores of the pairs the system proposed; ``group_of`` labels every
    true pair that exists. A true pair absent from ``scores`` was never proposed: a miss.
    """

    def compute(pairs: set[K]) -> float:
        hit = sum(1 for pair in pairs if pair in scores and scores[pair] >= threshold)
        return hit / len(pairs)

    return breakdown(group_of, compute)
