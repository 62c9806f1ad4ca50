"""Every found person's nearest faces reach review, whatever the other evidence says.

A family's childhood photo against the grown-up in care is weak evidence by itself, and
the rest of the record (a lost child's age, a place decades old) may disagree with it.
Ranked by their total weight such pairs fall out of a found person's best candidates, so
the one photo that was right would never be seen. So the re-match also keeps, for every
found person, the reports whose faces are nearest theirs (``RematchSettings.face_kept``;
the face index's distances, ties by report), scored and shared like any candidate, and
flagged when nothing but the face kept them, so a reviewer knows what they rest on.

The nearest pairs are chosen anew in every run from the index (a new report can push an
old one out), and the stored scored pairs are made to hold exactly the blocked pairs at
or above the cut-off and the nearest ones: an incremental run keeps what a full run would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from records import Side
from records.storage.person_records import record_ids
from records.storage.rematch_state import (
    add_scored_pairs,
    delete_scored_pairs,
    delete_scored_pairs_below,
)

Index = NDArray[np.int64]


def nearest_per_person(
    keys: Index, distances: NDArray[np.float64], n_missing: int, per_person: int
) -> Index:
    """Of neighbour pairs ``keys`` (found position times ``n_missing`` plus report
    position), the ``per_person`` nearest of each found person, nearest first, a tie
    going to the earlier report; as sorted keys."""
    if per_person <= 0 or not len(keys):
        return np.zeros(0, dtype=np.int64)
    found, report = np.divmod(keys, n_missing)
    order = np.lexsort((report, distances, found))
    grouped = found[order]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    return np.sort(keys[order][rank < per_person])


@dataclass(frozen=True)
class NearestFaces:
    """The run's nearest-face pairs, as (report id, found person id), with their weights
    (scored before settling: they are few), and the cut-off below which only they stay."""

    missing_ids: Index
    found_ids: Index
    weights: NDArray[np.float64]
    cutoff: float

    @classmethod
    def of(
        cls,
        keys: Index,
        n_missing: int,
        missing_ids: Index,
        found_ids: Index,
        weigh: Callable[[Index, Index], NDArray[np.float64]],
        cutoff: float,
    ) -> NearestFaces:
        """The pairs at ``keys`` (as :func:`nearest_per_person` gives them), weighed."""
        j, i = np.divmod(keys, n_missing)
        weights = weigh(i, j) if len(keys) else np.zeros(0, dtype=np.float64)
        return cls(missing_ids[i], found_ids[j], weights, cutoff)


def pair_codes(missing_ids: Index, found_ids: Index) -> Index:
    """One int64 a pair, ordered as (report, found person): record ids are far below
    2**31."""
    codes: Index = (missing_ids << 32) | found_ids
    return codes


def hold_nearest(session: Session, nearest: NearestFaces) -> None:
    """Make the stored scored pairs hold every nearest pair, at this run's weight, and,
    below the cut-off, no other (those are the nearest pairs of earlier runs): what a
    full run stores. Its own transaction, before settling, so the settling's stays short."""
    delete_scored_pairs_below(session, nearest.cutoff)
    delete_scored_pairs(session, nearest.missing_ids, nearest.found_ids)
    # A record erased since the run read the store is not stored against (its pair
    # would break the foreign key and stop the run).
    alive = record_ids(session)
    living = np.fromiter(
        (m in alive[Side.MISSING] and f in alive[Side.FOUND]
         for m, f in zip(nearest.missing_ids.tolist(), nearest.found_ids.tolist(), strict=True)),
        dtype=np.bool_, count=len(nearest.weights),
    )  # fmt: skip
    add_scored_pairs(session, nearest.missing_ids[living], nearest.found_ids[living],
                     nearest.weights[living])  # fmt: skip
