"""The re-match job: score reports against found persons and store the best candidates.

For every found person the best ``keep_per_record`` undecided reports are kept, and for
every report the best undecided found persons, so both directions of the search are
served. A reviewer's decision is never overwritten and takes no place in those lists;
pending candidates that no longer make them are removed so the review queue stays
current (never one that has decisions).

The evidence model's probabilities are calibrated on all pairs scored, then shared with
every plausible candidate competing for the same found person or report
(:mod:`matching.competition`); a candidate's stored score is the log2 odds of its
stored probability, which orders the review queue.
"""

from __future__ import annotations

import heapq
import logging
import math
import time
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol, cast

import numpy as np
from sqlalchemy import CursorResult, delete, exists
from sqlalchemy.exc import IntegrityError

from matching.competition import Sharing, share_between_candidates
from matching.evidence import Score
from matching.evidence_model import EvidenceModel
from matching.evidence_model.recalibration import WeightTally, label_free_shift
from matching.views import FoundView, MissingView, found_view, missing_view
from records import Candidate, CandidateStatus, Database, Decision, Side
from records.storage.candidate_pairs import (
    all_candidates,
    upsert_candidate,
)
from records.storage.person_records import Change, all_found, all_missing, record_ids
from records.storage.reviewer_decisions import decided_pairs
from usecases.blocking import (
    all_pairs,
    attribute_pairs,
    blocked_pairs,
    keyed_pairs,
    pair_keys,
    weak_name_keys,
    weak_name_reach,
)
from usecases.face_registry import FaceIndexes

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


class PairScorer(Protocol):
    """What re-matching needs of a scoring model."""

    @property
    def version(self) -> str:
        """Recorded with every candidate the model scored."""
        ...

    @property
    def prior_weight(self) -> float:
        """log2 prior odds of a random pair being the same person."""
        ...

    def total_weight(self, missing: MissingView, found: FoundView) -> float:
        """The pair's total weight, cheaply, for ranking every pair."""
        ...

    def score(self, missing: MissingView, found: FoundView) -> Score:
        """The full explanation, for the pairs that are kept."""
        ...

    def clear_cache(self) -> None:
        """Forget what was cached about records during a run."""
        ...


_DELETE_CHUNK = 5000
"""Stale candidates deleted per statement."""


@dataclass(frozen=True)
class RematchSettings:
    """How many candidates to keep and how pairs are chosen.

    ``min_evidence_weight`` is relative to the prior: pairs whose evidence (all signals
    together) is below it are never candidates, whatever the model's prior.
    ``weak_name_budget`` caps the pairs of the found persons whose names cannot find
    their report (:func:`~usecases.blocking.weak_name_keys`): each reaches up to 2,000
    reports, fewer when there are more than budget / 2,000 such people.
    """

    keep_per_record: int = 20
    min_evidence_weight: float = -2.0
    face_neighbours: int = 50
    all_pairs_limit: int = 4_000_000
    weak_name_budget: int = 5_000_000


@dataclass(frozen=True)
class RematchReport:
    """What a re-match did, with its timings."""

    reports: int
    found_persons: int
    pairs_scored: int
    kept: int
    created: int
    updated: int
    unchanged: int
    removed: int
    seconds_loading: float
    seconds_scoring: float
    seconds_storing: float
    calibration: str = "no recalibration"
    """How the stored probabilities were calibrated (see ``_calibrated``)."""
    sharing: str = "not shared"
    """Among how many plausible pairs the chances were shared, and the raise first."""
    weak_name_reach: int = 0
    """Reports each found person whose names cannot find their report reached at most
    (0: every pair was scored, no blocking)."""


_Kept = tuple[float, int, int, int]
"""A candidate being chosen: total weight, report, found person, place among the
plausible pairs."""


_DECIDED_ODDS: Final = {CandidateStatus.CONFIRMED: math.inf, CandidateStatus.REJECTED: -math.inf}
"""A confirmed pair outweighs every rival of its two people; a rejected one is no rival."""


class _PlausiblePairs:
    """Every pair at or above the cut-off, in columns: the competitors of the kept ones,
    with the log2 odds reviewers' decisions fix for some (by place)."""

    def __init__(self) -> None:
        self.missing = array("q")
        self.found = array("q")
        self.weights = array("d")
        self.decided: dict[int, float] = {}

    def __len__(self) -> int:
        return len(self.weights)

    def add(self, i: int, j: int, weight: float, status: CandidateStatus | None) -> int:
        """Record report ``i`` against found person ``j`` and any reviewer's status of the
        pair; return its place."""
        place = len(self.weights)
        self.missing.append(i)
        self.found.append(j)
        self.weights.append(weight)
        if status in _DECIDED_ODDS:
            self.decided[place] = _DECIDED_ODDS[status]
        return place


def _add_confirmed_unscored(
    plausible: _PlausiblePairs,
    decisions: Mapping[tuple[int, int], CandidateStatus],
    decided_kept: set[tuple[int, int, int]],
    missing: Sequence[MissingView],
    found: Sequence[FoundView],
) -> None:
    """Add the confirmed pairs the loop did not score (not among ``decided_kept``) as
    rivals of their open side.

    A report reunited (or a person identified) leaves the store's open records, but its
    confirmed pair still says who the other side is: the person in care whose family came
    must not be offered to other families as if nothing were known. Nor must a confirmed
    pair the model now weighs below the cut-off. The closed side takes a place of its own
    past the open records; its odds are the decision's, not a weight.
    """
    scored = {(missing[i].id, found[j].id) for i, j, _ in decided_kept}
    missing_at = {view.id: i for i, view in enumerate(missing)}
    found_at = {view.id: j for j, view in enumerate(found)}
    beyond_missing, beyond_found = len(missing), len(found)
    for (missing_id, found_id), status in sorted(decisions.items()):
        if status is not CandidateStatus.CONFIRMED or (missing_id, found_id) in scored:
            continue
        i, j = missing_at.get(missing_id), found_at.get(found_id)
        if i is None and j is None:
            continue  # both closed: a rival of nobody still matched
        if i is None:
            i, beyond_missing = beyond_missing, beyond_missing + 1
        if j is None:
            j, beyond_found = beyond_found, beyond_found + 1
        plausible.add(i, j, 0.0, status)


def _sharing(scorer: PairScorer, plausible: _PlausiblePairs) -> Sharing | None:
    """How the evidence model's plausible pairs share their chances (None for other
    scorers, whose scores are not probabilities to share).

    The raise that keeps the sum of the probabilities is fitted when the calibration is:
    from reviewers' decisions, or label-free on a store large enough.
    """
    if not isinstance(scorer, EvidenceModel):
        return None
    recalibration = scorer.params.recalibration
    missing = np.frombuffer(plausible.missing, dtype=np.int64)
    found = np.frombuffer(plausible.found, dtype=np.int64)
    weights = np.frombuffer(plausible.weights, dtype=np.float64)
    log_odds = recalibration.slope * weights + recalibration.intercept
    for place, odds in plausible.decided.items():
        log_odds[place] = odds
    return share_between_candidates(
        found,
        missing,
        log_odds,
        fit_shift=recalibration.decisions > 0 or recalibration.expected_matches is not None,
    )


def _sharing_text(sharing: Sharing | None, pairs: int) -> str:
    if sharing is None:
        return "not shared"
    return f"shared among {pairs} plausible pairs, raised {sharing.shift:g} bits first"


def _keep(heap: list[_Kept], item: _Kept, size: int) -> None:
    if len(heap) < size:
        heapq.heappush(heap, item)
    elif item > heap[0]:
        heapq.heapreplace(heap, item)


def _calibrated(model: PairScorer, tally: WeightTally, reports: int, found: int) -> PairScorer:
    """The evidence model with the probabilities of all pairs adding up to the matches
    its prior expects, unless it has learned a recalibration from reviewers' decisions
    (``refit_model`` starts that from this shift) or the store is too small for the sum
    to mean much; ranks never change."""
    if not isinstance(model, EvidenceModel) or model.params.recalibration.decisions > 0:
        return model
    shift = label_free_shift(tally, model.params.prior, reports, found)
    return model if shift is None else model.with_recalibration(shift)


def _calibration_text(scorer: PairScorer) -> str:
    if isinstance(scorer, EvidenceModel):
        return scorer.params.recalibration.describe()
    return "no recalibration"


def rematch(
    database: Database,
    *,
    face_indexes: FaceIndexes | None,
    face_model: str | None,
    settings: RematchSettings | None = None,
    scorer: PairScorer | None = None,
    progress: Progress | None = None,
) -> RematchReport:
    """Score, keep the best candidates in both directions, and store them.

    ``scorer`` defaults to the shipped evidence model.
    """
    settings = settings or RematchSettings()
    model = scorer or EvidenceModel.default()
    cutoff = model.prior_weight + settings.min_evidence_weight
    started = time.perf_counter()
    with database.session() as session:
        missing = [missing_view(r) for r in all_missing(session)]
        found = [found_view(p) for p in all_found(session)]
        decisions = decided_pairs(session)
    loaded = time.perf_counter()

    pairs: Iterable[tuple[int, int]]
    reach = 0
    if len(missing) * len(found) <= settings.all_pairs_limit:
        pairs, total = all_pairs(len(missing), len(found)), len(missing) * len(found)
    else:
        n = len(missing)
        named = blocked_pairs(
            missing, found, face_indexes, face_neighbours=settings.face_neighbours,
            model=face_model,
        )  # fmt: skip
        reach = weak_name_reach(found, budget=settings.weak_name_budget)
        # As int64 keys: the weak-name pairs alone may be millions (155 MB a million as
        # a set of tuples; 8 MB as keys).
        chosen = np.unique(np.concatenate([
            pair_keys(named, n),
            pair_keys(attribute_pairs(missing, found), n),
            weak_name_keys(missing, found, per_person=reach),
        ]))  # fmt: skip
        del named
        pairs, total = keyed_pairs(chosen, n), len(chosen)
    best_for_found: dict[int, list[_Kept]] = {}
    best_for_missing: dict[int, list[_Kept]] = {}
    plausible = _PlausiblePairs()
    tally = WeightTally()
    decided_kept: set[tuple[int, int, int]] = set()
    for done, (i, j) in enumerate(pairs, start=1):
        weight = model.total_weight(missing[i], found[j])
        tally.add(weight)
        if weight >= cutoff:
            status = decisions.get((missing[i].id, found[j].id))
            item = (weight, i, j, plausible.add(i, j, weight, status))
            if status is not None:
                # A decided pair is kept up to date but takes no place among the best
                # per record: rejecting the best few must bring the next ones forward.
                decided_kept.add(item[1:])
            else:
                _keep(best_for_found.setdefault(j, []), item, settings.keep_per_record)
                _keep(best_for_missing.setdefault(i, []), item, settings.keep_per_record)
        if progress is not None and (done % 5000 == 0 or done == total):
            progress(done, total)
    kept = {item[1:] for heap in best_for_found.values() for item in heap}
    kept |= {item[1:] for heap in best_for_missing.values() for item in heap}
    kept |= decided_kept
    _add_confirmed_unscored(plausible, decisions, decided_kept, missing, found)
    scorer_of_kept = _calibrated(model, tally, len(missing), len(found))
    sharing = _sharing(scorer_of_kept, plausible)
    scored = time.perf_counter()

    def store() -> tuple[dict[Change, int], int]:
        counts = dict.fromkeys(Change, 0)
        with database.session() as session:
            existing = all_candidates(session)
            # A record erased while this job scored is not stored against: its candidate
            # would break the store's foreign key and roll back every other one.
            alive = record_ids(session)
            wanted = set()
            for i, j, position in sorted(kept):
                if missing[i].id not in alive[Side.MISSING] or found[j].id not in alive[Side.FOUND]:
                    continue
                result = scorer_of_kept.score(missing[i], found[j])
                if sharing is not None:
                    result = result.shared(sharing.of(position))
                key = (missing[i].id, found[j].id)
                wanted.add(key)
                _, change = upsert_candidate(
                    session,
                    missing_id=key[0],
                    found_id=key[1],
                    score=round(result.final_weight, 6),
                    probability=result.probability,
                    evidence=result.to_json(),
                    model_version=model.version,
                    existing=existing,
                )
                counts[change] += 1
            stale = [
                row.id
                for key, row in existing.items()
                if key not in wanted
                and row.status is CandidateStatus.PENDING
                and row.id is not None
            ]
            removed = 0
            # In chunks (SQLite caps bound parameters) and without matching the session's
            # objects against the list in Python, which is quadratic: the evaluation replaces
            # a hundred thousand candidates at once. The statement checks again that a row is
            # pending and undecided: a reviewer may have decided it while this job scored,
            # and a decision (even one set back to pending) is history never to delete.
            # latest_decision_id is on the row itself, which PostgreSQL checks again once
            # a deciding transaction that held it commits.
            for start in range(0, len(stale), _DELETE_CHUNK):
                deleted = cast(
                    "CursorResult[Any]",
                    session.execute(
                        delete(Candidate)
                        .where(
                            Candidate.id.in_(stale[start : start + _DELETE_CHUNK]),
                            Candidate.status == CandidateStatus.PENDING,
                            Candidate.latest_decision_id.is_(None),
                            ~exists().where(Decision.candidate_id == Candidate.id),
                        )
                        .execution_options(synchronize_session=False)
                    ),
                )
                removed += deleted.rowcount
        return counts, removed

    # A record erased after the ids were read breaks the foreign key and rolls back the
    # whole store: then once more, reading the ids again.
    try:
        counts, removed = store()
    except IntegrityError:
        logger.warning("re-match: a record went while storing; storing again")
        counts, removed = store()
    model.clear_cache()
    stored = time.perf_counter()
    report = RematchReport(
        reports=len(missing),
        found_persons=len(found),
        pairs_scored=total,
        kept=len(kept),
        created=counts[Change.CREATED],
        updated=counts[Change.UPDATED],
        unchanged=counts[Change.UNCHANGED],
        removed=removed,
        seconds_loading=loaded - started,
        seconds_scoring=scored - loaded,
        seconds_storing=stored - scored,
        calibration=_calibration_text(scorer_of_kept),
        sharing=_sharing_text(sharing, len(plausible)),
        weak_name_reach=reach,
    )
    logger.info("re-match: %s", report)
    return report
