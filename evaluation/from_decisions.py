"""Figures from reviewers' decisions in a store: confirmed pairs are true, rejected false.

Only judged candidates count for the threshold figures; rankings use every stored
candidate, so a confirmed pair's rank is its rank in the reviewer's queue.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from evaluation.scorecard import Scorecard
from records import Candidate, CandidateStatus, Database, FoundPerson, MissingReport


@dataclass(frozen=True)
class DecisionsResult:
    """The scorecard, how many candidates were judged, and the judged pairs' scores."""

    card: Scorecard
    counts: dict[str, int]
    confirmed_scores: list[float]
    rejected_scores: list[float]


def decisions_scorecard(database: Database) -> DecisionsResult:
    """xunqin's scorecard over the labelled pairs of a store."""
    with database.session() as session:
        rows = session.execute(
            select(
                MissingReport.ref,
                FoundPerson.ref,
                Candidate.score,
                Candidate.probability,
                Candidate.status,
            )
            .join(MissingReport, Candidate.missing_id == MissingReport.id)
            .join(FoundPerson, Candidate.found_id == FoundPerson.id)
        ).all()
    pairs = [(m, f, float(s)) for m, f, s, _, _ in rows]
    confirmed = [(m, f) for m, f, _, _, status in rows if status is CandidateStatus.CONFIRMED]
    rejected = [(m, f) for m, f, _, _, status in rows if status is CandidateStatus.REJECTED]
    probabilities = {(m, f): float(p) for m, f, _, p, _ in rows if p is not None}
    card = Scorecard.from_pairs(
        "xunqin (reviewers' decisions)",
        pairs,
        confirmed,
        {},
        probabilities=probabilities,
        judged=set(confirmed) | set(rejected),
    )
    counts = {"candidates": len(rows), "confirmed": len(confirmed), "rejected": len(rejected)}
    scores = {(m, f): float(s) for m, f, s, _, _ in rows}
    return DecisionsResult(
        card, counts, [scores[p] for p in confirmed], [scores[p] for p in rejected]
    )
