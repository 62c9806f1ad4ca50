"""The model's inputs read from a store: every record's view, and reviewers' decisions.

For the CLI: ``xunqin model refit`` reads these, fits, and writes a new model file.
"""

from __future__ import annotations

from dataclasses import dataclass

from matching.evidence_model.decisions import LabelledPair
from matching.views import FoundView, MissingView, found_view, missing_view
from records import Database
from records.repository import all_candidates, all_found, all_missing, labelled_pairs


@dataclass(frozen=True)
class StoreViews:
    """Every report and found person, the stored candidate pairs and the decided ones."""

    missing: list[MissingView]
    found: list[FoundView]
    candidates: list[tuple[int, int]]
    decided: list[LabelledPair]


def read_store(database: Database) -> StoreViews:
    """Views of every record, candidate pairs as list indexes, and labelled pairs."""
    with database.session() as session:
        missing = [missing_view(r) for r in all_missing(session)]
        found = [found_view(p) for p in all_found(session)]
        m_index = {v.id: i for i, v in enumerate(missing)}
        f_index = {v.id: i for i, v in enumerate(found)}
        candidates = [
            (m_index[m], f_index[f])
            for (m, f) in all_candidates(session)
            if m in m_index and f in f_index
        ]
        decided = [
            LabelledPair(missing[m_index[c.missing_id]], found[f_index[c.found_id]], same)
            for c, same in labelled_pairs(session)
            if c.missing_id in m_index and c.found_id in f_index
        ]
    return StoreViews(missing, found, candidates, decided)
