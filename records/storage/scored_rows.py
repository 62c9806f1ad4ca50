"""A stored pair's numbers (a candidate, or a link between two found persons) refreshed
as every scorer stores them: set only when they change, so a run can tell what it
rewrote."""

from __future__ import annotations

from typing import Any

from records.models import Candidate, FoundLink
from records.storage.person_records import Change


def refresh_scores(
    row: Candidate | FoundLink,
    *,
    score: float,
    probability: float | None,
    evidence: dict[str, Any],
    model_version: str,
) -> Change:
    """UNCHANGED when ``row`` holds these already; else they are set and UPDATED. A
    reviewer's status is never touched."""
    if (
        row.model_version == model_version
        and row.score == score
        and row.probability == probability
        and row.evidence == evidence
    ):
        return Change.UNCHANGED
    row.score = score
    row.probability = probability
    row.evidence = evidence
    row.model_version = model_version
    return Change.UPDATED
