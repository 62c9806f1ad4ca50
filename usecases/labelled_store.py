"""The model's inputs read from a store: every record's view, and reviewers' decisions.

For the CLI: ``xunqin model refit`` reads these, fits, and writes a new model file.
"""

from __future__ import annotations

from dataclasses import dataclass

from matching.evidence_model.decisions import LabelledPair
from matching.views import FoundView, MissingView, found_view, missing_view
from records import Database
from records.storage.candidate_pairs import all_candidates
from records.storage.person_records import all_found, all_missing
from records.storage.reviewer_decisions import labelled_pairs


@dataclass(frozen=True)
class StoreViews:
    """Every report and found person, the stored candidate pairs and the decided ones."""

    missing: list[MissingView]
    found: list[FoundView]
    candidates: list[tuple[int, int]]
    decided: list[LabelledPair]


def read_store(database: Database) -> StoreViews:
    """Views of every open record, candidate pairs among them as list indexes, and the
    labelled pairs, closed cases' included.

    A confirmed pair's case is usually closed (reunited, identified) soon after: leaving
    closed cases out would leave the refit the rejections alone to learn from.
    """
    with database.session() as session:
        every_missing = {r.id: (missing_view(r), r.status.is_open)
                         for r in all_missing(session, include_closed=True)}  # fmt: skip
        every_found = {p.id: (found_view(p), p.status.is_open)
                       for p in all_found(session, include_closed=True)}  # fmt: skip
        missing = [view for view, open_ in every_missing.values() if open_]
        found = [view for view, open_ in every_found.values() if open_]
        m_index = {v.id: i for i, v in enumerate(missing)}
        f_index = {v.id: i for i, v in enumerate(found)}
        candidates = [
            (m_index[m], f_index[f])
            for (m, f) in all_candidates(session)
            if m in m_index and f in f_index
        ]
        decided = [
            LabelledPair(every_missing[c.missing_id][0], every_found[c.found_id][0], same)
            for c, same in labelled_pairs(session)
        ]
    return StoreViews(missing, found, candidates, decided)
