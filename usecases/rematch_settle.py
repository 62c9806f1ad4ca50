"""Settling a re-match: from the stored scored pairs to the stored candidates.

For every found person the best ``keep_per_record`` undecided reports are kept, and for
every report the best undecided found persons, so both directions of the search are
served. A reviewer's decision is never overwritten and takes no place in those lists;
pending candidates that no longer make them are removed so the review queue stays
current (never one that has decisions).

The evidence model's probabilities are calibrated on the plausible pairs, then shared
with every plausible candidate competing for the same found person or report
(:mod:`matching.competition`); a candidate's stored score is the log2 odds of its
stored probability, which orders the review queue.

Everything here is a function of the scored pairs, the decisions and the records, so a
run that scored only the pairs of changed records settles to what a run over everything
settles to. Only candidates whose stored values change are written: a pair whose score
and probability come out as stored keeps its row untouched.

No explanation is built here. A candidate stores its score and its explanation's basis
(the calibration and the sharing its score came from); the explanation is built from
the records when someone reads it (:mod:`usecases.explaining`). Building one for every
kept candidate was most of a run's time and of the store's size, for candidates most of
which no reviewer opens.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from matching.competition import Competition, Sharing, share_between_candidates
from matching.evidence_model import EvidenceModel
from matching.evidence_model.recalibration import WeightTally, label_free_shift
from matching.views import FoundView, MissingView
from records import CandidateStatus, Side
from records.storage.candidate_pairs import (
    StoredScore,
    delete_stale_candidates,
    stored_scores,
    write_candidates,
)
from records.storage.person_records import Change, record_ids
from records.storage.rematch_state import read_scored_pairs
from records.storage.reviewer_decisions import decided_pairs
from usecases.blocking import top_per_group
from usecases.face_nearest import NearestFaces, pair_codes

_DECIDED_ODDS: Final = {CandidateStatus.CONFIRMED: math.inf, CandidateStatus.REJECTED: -math.inf}
"""A confirmed pair outweighs every rival of its two people; a rejected one is no rival."""
_WRITE_BATCH: Final = 20_000
"""Candidates settling holds before it writes them."""
_SAME_SCORE: Final = 1e-6
_SAME_PROBABILITY: Final = 1e-9
"""How near a stored score and probability must be to what the stored weight gives to
count as unchanged (candidates stored by versions that summed the explanation's terms
added them in another order)."""


@dataclass(frozen=True)
class Settled:
    """What settling did."""

    plausible: int
    kept: int
    counts: dict[Change, int]
    removed: int
    calibration: str
    sharing: str


def _positions(ids: NDArray[np.int64], wanted: NDArray[np.int64]) -> NDArray[np.int64]:
    at = np.searchsorted(ids, wanted)
    if len(wanted) and (at.max(initial=0) >= len(ids) or not np.array_equal(ids[at], wanted)):
        raise ValueError("a scored pair names a record that is not open")
    return at.astype(np.int64)


def pair_places(
    pair_missing: NDArray[np.int64],
    pair_found: NDArray[np.int64],
    wanted: Sequence[tuple[int, int]],
) -> NDArray[np.int64]:
    """The position of each wanted (report id, found person id) among the pairs, -1 for
    one that is not there. Found by sorting the pairs' keys once: a national run holds
    tens of millions of pairs, which as a set of tuples would take gigabytes."""
    if not wanted or not len(pair_missing):
        return np.full(len(wanted), -1, dtype=np.int64)
    want = np.asarray(wanted, dtype=np.int64).reshape(-1, 2)
    base = int(max(pair_found.max(), want[:, 1].max())) + 1
    keys = pair_missing * base + pair_found
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    wanted_keys = want[:, 0] * base + want[:, 1]
    at = np.minimum(np.searchsorted(ordered, wanted_keys), len(ordered) - 1)
    return np.where(ordered[at] == wanted_keys, order[at], -1).astype(np.int64)


def _calibrated(model: Any, weights: NDArray[np.float64], reports: int, found: int) -> Any:
    """The evidence model with the probabilities of the plausible pairs adding up to the
    matches its prior expects, unless it has learned a recalibration from reviewers'
    decisions or the store is too small for the sum to mean much; ranks never change."""
    if not isinstance(model, EvidenceModel) or model.params.recalibration.decisions > 0:
        return model
    tally = WeightTally()
    tally.add_weights(weights)
    shift = label_free_shift(tally, model.params.prior, reports, found)
    return model if shift is None else model.with_recalibration(shift)


def _calibration_text(scorer: Any) -> str:
    if isinstance(scorer, EvidenceModel):
        return scorer.params.recalibration.describe()
    return "no recalibration"


def _sharing_text(sharing: Sharing | None, pairs: int) -> str:
    if sharing is None:
        return "not shared"
    return f"shared among {pairs} plausible pairs, raised {sharing.shift:g} bits first"


def _confirmed_unscored(
    decisions: Mapping[tuple[int, int], CandidateStatus],
    scored: set[tuple[int, int]],
    missing_ids: NDArray[np.int64],
    found_ids: NDArray[np.int64],
) -> tuple[list[int], list[int]]:
    """Positions of the confirmed pairs no scored pair carries, as rivals of their open
    side.

    A report reunited (or a person identified) leaves the store's open records, but its
    confirmed pair still says who the other side is: the person in care whose family came
    must not be offered to other families as if nothing were known. Nor must a confirmed
    pair the model now weighs below the cut-off. The closed side takes a place of its own
    past the open records; its odds are the decision's, not a weight.
    """
    missing_at = {int(v): i for i, v in enumerate(missing_ids.tolist())}
    found_at = {int(v): j for j, v in enumerate(found_ids.tolist())}
    beyond_missing, beyond_found = len(missing_ids), len(found_ids)
    rows: tuple[list[int], list[int]] = ([], [])
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
        rows[0].append(i)
        rows[1].append(j)
    return rows


def settle(
    session: Session,
    *,
    scorer: Any,
    missing: Sequence[MissingView],
    found: Sequence[FoundView],
    keep_per_record: int,
    nearest: NearestFaces | None = None,
) -> Settled:
    """Choose, share and store the candidates from the stored scored pairs, in the
    caller's transaction; ``nearest`` are the found persons' nearest-face pairs, kept
    whatever their weight (:mod:`usecases.face_nearest`)."""
    missing_ids = np.fromiter((v.id for v in missing), dtype=np.int64, count=len(missing))
    found_ids = np.fromiter((v.id for v in found), dtype=np.int64, count=len(found))
    pair_missing, pair_found, weights = read_scored_pairs(session)
    is_nearest = np.zeros(len(weights), dtype=np.bool_)
    if nearest is not None:  # held in the store already (hold_nearest)
        is_nearest = np.isin(pair_codes(pair_missing, pair_found),
                             pair_codes(nearest.missing_ids, nearest.found_ids))  # fmt: skip
    i = _positions(missing_ids, pair_missing)
    j = _positions(found_ids, pair_found)
    decisions = decided_pairs(session)
    decided_keys = sorted(decisions)
    at = pair_places(pair_missing, pair_found, decided_keys)
    found_at = zip(decided_keys, at.tolist(), strict=True)
    status = {int(place): decisions[key] for key, place in found_at if place >= 0}
    decided = np.zeros(len(weights), dtype=np.bool_)
    decided[list(status)] = True

    scorer_of_kept = _calibrated(scorer, weights, len(missing), len(found))
    sharing: Sharing | None = None
    plausible = len(weights)
    if isinstance(scorer_of_kept, EvidenceModel):
        recalibration = scorer_of_kept.params.recalibration
        log_odds = recalibration.slope * weights + recalibration.intercept
        for place, decided_status in status.items():
            log_odds[place] = _DECIDED_ODDS.get(decided_status, 0.0)
        scored_keys = {key for key, place in zip(decided_keys, at.tolist(), strict=True)
                       if place >= 0}  # fmt: skip
        extra_i, extra_j = _confirmed_unscored(decisions, scored_keys, missing_ids, found_ids)
        plausible += len(extra_i)
        sharing = share_between_candidates(
            np.concatenate([j, np.asarray(extra_j, dtype=np.int64)]),
            np.concatenate([i, np.asarray(extra_i, dtype=np.int64)]),
            np.concatenate([log_odds, np.full(len(extra_i), math.inf)]),
            fit_shift=recalibration.decisions > 0 or recalibration.expected_matches is not None,
        )

    undecided = ~decided
    # A pair held below the cut-off for its face alone takes no record's best places: it
    # is kept as a nearest face, flagged so.
    rankable = undecided
    if nearest is not None:
        rankable = undecided & ~(is_nearest & (weights < nearest.cutoff))
    best = top_per_group(j, pair_missing, weights, rankable, keep_per_record) | top_per_group(
        i, pair_found, weights, rankable, keep_per_record
    )
    # Kept for the face alone: among the found person's nearest faces, not their best.
    face_only = is_nearest & undecided & ~best
    kept = best | decided | face_only
    places = np.flatnonzero(kept)
    counts, removed = _store(
        session,
        scorer_of_kept=scorer_of_kept,
        version=scorer.version,
        missing=missing,
        found=found,
        places=places,
        i=i,
        j=j,
        weights=weights,
        sharing=sharing,
        face_only=face_only,
    )
    return Settled(plausible, len(places), counts, removed, _calibration_text(scorer_of_kept),
                   _sharing_text(sharing, plausible))  # fmt: skip


def _stored_values(
    scorer: Any, version: str, weight: float, competition: Competition | None
) -> dict[str, Any]:
    """The numbers a candidate of this weight stores: its score (the log2 odds of its
    probability, calibrated and shared), its probability, and the model's version."""
    calibrated = weight
    if isinstance(scorer, EvidenceModel):
        calibrated = scorer.params.recalibration.log_odds(weight)
    final = calibrated if competition is None else competition.log_odds(calibrated)
    # A pair whose rival was confirmed has odds of 2**-1000 or less: 2.0 ** 1024 would
    # overflow, and the probability is 0 to every digit stored anyway.
    probability = 1.0 / (1.0 + 2.0 ** min(-final, 1023.0))
    return {"score": round(final, 6), "probability": float(probability),
            "model_version": version}  # fmt: skip


def _explanation_basis(
    scorer: Any, competition: Competition | None, *, face_only: bool = False
) -> dict[str, Any]:
    """What a written candidate's explanation is built from when read, besides its
    records and the model (:class:`usecases.explaining.Explanations`), and whether only
    its face kept it."""
    calibration = scorer.params.recalibration if isinstance(scorer, EvidenceModel) else None
    basis = {
        "calibration": None if calibration is None else calibration.to_json(),
        "competition": None if competition is None else competition.to_json(),
    }
    return {**basis, "face_nearest": True} if face_only else basis


def _unchanged(
    stored: StoredScore | None, values: Mapping[str, Any], face_only: bool = False
) -> bool:
    """Whether a stored candidate's numbers are what this run gives it.

    The basis is not compared: what it holds beyond the numbers is description (the
    matches the prior expects, which moves with every new record; how many rivals are
    nearly as likely), and rewriting every candidate for it is what a new record must
    not cause. A candidate is written again when its score or probability moves."""
    return (
        stored is not None
        and stored.probability is not None
        and stored.has_basis
        and stored.model_version == values["model_version"]
        and stored.face_nearest == face_only
        and abs(stored.score - values["score"]) <= _SAME_SCORE
        and abs(stored.probability - values["probability"]) <= _SAME_PROBABILITY
    )


def _final_log_odds(
    scorer: Any, weights: NDArray[np.float64], sharing: Sharing | None, places: NDArray[np.int64]
) -> NDArray[np.float64]:
    """:func:`_stored_values`' log2 odds of the pairs at ``places``, all at once."""
    final = weights[places].astype(np.float64)
    if isinstance(scorer, EvidenceModel):
        recalibration = scorer.params.recalibration
        final = recalibration.slope * final + recalibration.intercept
    return final if sharing is None else sharing.log_odds(final, places)


def _unchanged_rows(
    existing: Mapping[tuple[int, int], StoredScore],
    keys: Sequence[tuple[int, int]],
    final: NDArray[np.float64],
    version: str,
    face_only: NDArray[np.bool_],
) -> NDArray[np.bool_]:
    """:func:`_unchanged` for every kept pair at once: most candidates of a run are."""
    usable = np.zeros(len(keys), dtype=np.bool_)
    score = np.full(len(keys), np.nan)
    probability = np.full(len(keys), np.nan)
    for row, key in enumerate(keys):
        stored = existing.get(key)
        if (stored is not None and stored.probability is not None and stored.has_basis
                and stored.model_version == version
                and stored.face_nearest == bool(face_only[row])):  # fmt: skip
            usable[row] = True
            score[row], probability[row] = stored.score, stored.probability
    wanted = 1.0 / (1.0 + np.exp2(np.minimum(-final, 1023.0)))
    return (
        usable
        & (np.abs(score - np.round(final, 6)) <= _SAME_SCORE)
        & (np.abs(probability - wanted) <= _SAME_PROBABILITY)
    )


def _store(
    session: Session,
    *,
    scorer_of_kept: Any,
    version: str,
    missing: Sequence[MissingView],
    found: Sequence[FoundView],
    places: NDArray[np.int64],
    i: NDArray[np.int64],
    j: NDArray[np.int64],
    weights: NDArray[np.float64],
    sharing: Sharing | None,
    face_only: NDArray[np.bool_],
) -> tuple[dict[Change, int], int]:
    counts = dict.fromkeys(Change, 0)
    existing = stored_scores(session)
    # A record erased while this job scored is not stored against: its candidate would
    # break the store's foreign key and roll back every other one.
    alive = record_ids(session)
    keys = [(missing[a].id, found[b].id) for a, b in zip(i[places].tolist(), j[places].tolist(),
                                                         strict=True)]  # fmt: skip
    living = np.fromiter((m in alive[Side.MISSING] and f in alive[Side.FOUND] for m, f in keys),
                         dtype=np.bool_, count=len(keys))  # fmt: skip
    wanted = {key for key, ok in zip(keys, living.tolist(), strict=True) if ok}
    final = _final_log_odds(scorer_of_kept, weights, sharing, places)
    flagged = face_only[places]
    unchanged = living & _unchanged_rows(existing, keys, final, version, flagged)
    counts[Change.UNCHANGED] = int(unchanged.sum())
    new: list[dict[str, Any]] = []
    updated: list[dict[str, Any]] = []
    for row in np.flatnonzero(living & ~unchanged).tolist():
        place, key = int(places[row]), keys[row]
        competition = None if sharing is None else sharing.of(place)
        values = _stored_values(scorer_of_kept, version, float(weights[place]), competition)
        stored = existing.get(key)
        if _unchanged(stored, values, bool(flagged[row])):
            # At the edge of the tolerance, the pair-by-pair numbers decide.
            counts[Change.UNCHANGED] += 1
            continue
        # The basis only for what is written: most candidates of a run are unchanged.
        values["explanation_basis"] = _explanation_basis(
            scorer_of_kept, competition, face_only=bool(flagged[row])
        )
        if stored is None:
            new.append({"missing_id": key[0], "found_id": key[1], "evidence": {}, **values})
            counts[Change.CREATED] += 1
        else:
            # An explanation a version before this one stored is stale from now on.
            updated.append({"id": stored.id, "evidence": {}, **values})
            counts[Change.UPDATED] += 1
        if len(new) + len(updated) >= _WRITE_BATCH:
            # Written as they come: a full run at scale writes millions, each a dict.
            write_candidates(session, new, updated)
            new, updated = [], []
    write_candidates(session, new, updated)
    stale = [
        row.id
        for key, row in existing.items()
        if key not in wanted and row.status is CandidateStatus.PENDING
    ]
    return counts, delete_stale_candidates(session, stale)
