"""A stored candidate's explanation, built when it is read.

A re-match stores each candidate's score, probability and *explanation basis*: the
calibration of totals and the sharing between rivals its score came from
(:mod:`usecases.rematch_settle`). Everything else an explanation says comes from the two
records and the model, so it is built here when a reviewer, the page or the command line
reads the candidate, the way the re-match weighed the pair: a found person whose stays
at several stations reviewers confirmed to be one person is explained with the stays'
evidence pooled, as it was scored.

The records are read as they are now: a record edited since the last re-match is
explained with its new values until the next run scores it again. Candidates stored by
versions that stored their explanation (``Candidate.evidence``) are read as stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from sqlalchemy.orm import Session

from matching.competition import Competition
from matching.evidence_model import EvidenceModel, EvidenceScore
from matching.evidence_model.recalibration import Recalibration
from matching.pooling import linked_groups, pool_linked_stays
from matching.views import FoundView, found_view, missing_view
from records import Candidate, FoundPerson
from records.storage.same_person_links import confirmed_pairs

FACE_NEAREST_STEP: Final = (
    "proposed for the face alone: among the closest faces to this person's, though the "
    "rest of the evidence does not favour it; compare the photos first (a childhood photo "
    "against a grown-up one is weak evidence either way)"
)
"""What a candidate kept only for its face says first (:mod:`usecases.face_nearest`)."""


class Explanations:
    """Explanations of the candidates read in one session, by one model."""

    def __init__(self, session: Session, model: EvidenceModel) -> None:
        self._session = session
        self._model = model
        self._groups: dict[int, tuple[int, ...]] | None = None

    def of(self, row: Candidate) -> EvidenceScore:
        """The candidate's explained score: the model's terms for its two records, its
        stored calibration and sharing applied, so its probability is the stored one."""
        if row.evidence:
            return EvidenceScore.from_json(row.evidence)
        basis = row.explanation_basis or {}
        model = self._model
        if basis.get("calibration") is not None:
            model = model.with_recalibration(Recalibration.from_json(basis["calibration"]))
        # Not cached: a server reading candidates all day must not keep every record's
        # facts it was ever asked about.
        score = model.score(missing_view(row.missing), self._found_view(row.found), cached=False)
        if basis.get("competition") is not None:
            score = score.shared(Competition.from_json(basis["competition"]))
        if basis.get("face_nearest"):
            score = replace(score, confirm_by=(FACE_NEAREST_STEP, *score.confirm_by))
        return score

    def _found_view(self, person: FoundPerson) -> FoundView:
        group = self._linked().get(person.id)
        if group is None:
            return found_view(person)
        stays = [self._session.get(FoundPerson, member) for member in group]
        open_stays = [found_view(stay) for stay in stays if stay is not None
                      and stay.status.is_open]  # fmt: skip
        for view in pool_linked_stays(open_stays, [group]):
            if view.id == person.id:
                return view
        return found_view(person)

    def _linked(self) -> dict[int, tuple[int, ...]]:
        if self._groups is None:
            groups: Sequence[tuple[int, ...]] = linked_groups(confirmed_pairs(self._session))
            self._groups = {member: group for group in groups for member in group}
        return self._groups
