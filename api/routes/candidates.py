"""List candidates for review and record reviewers' decisions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from fastapi.responses import HTMLResponse

from api.auth import ActorDep, CallerDep, NotAllowedError, Right, require
from api.deps import ServicesDep, SessionDep
from api.error_responses import COMMON_ERRORS, error_responses
from api.schemas import (
    CandidatePublic,
    CandidatesPublic,
    DecisionCreate,
    DecisionPublic,
    RowId,
)
from usecases.charts import candidate_chart_html, candidate_chart_png
from usecases.explaining import Explanations
from usecases.reading import candidate, candidates_page
from usecases.reviewing import decide as decide_candidate
from usecases.vocabulary import MAX_ID, CandidateStatus, InvalidRecordError

router = APIRouter(
    prefix="/candidates", tags=["candidates"], responses=error_responses(*COMMON_ERRORS)
)


@router.get(
    "", response_model=CandidatesPublic, dependencies=[Depends(require(Right.READ_CANDIDATES))]
)
def read_candidates(
    session: SessionDep,
    services: ServicesDep,
    actor: ActorDep,
    status_filter: Annotated[CandidateStatus | None, Query(alias="status")] = None,
    max_rank: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> CandidatesPublic:
    """Candidates, best first, optionally of one status and up to a rank."""
    rows, total = candidates_page(session, actor=actor, status=status_filter,
                                  max_rank=max_rank, offset=offset, limit=limit)  # fmt: skip
    explanations = Explanations(session, services.evidence_model)
    return CandidatesPublic(
        data=[CandidatePublic.from_row(r.candidate, rank=r.rank,
                                       explanation=explanations.of(r.candidate))
              for r in rows],
        count=total,
    )  # fmt: skip


@router.get(
    "/{candidate_id}",
    responses=error_responses(404),
    response_model=CandidatePublic,
    dependencies=[Depends(require(Right.READ_CANDIDATES))],
)
def read_candidate(
    candidate_id: RowId, session: SessionDep, services: ServicesDep, actor: ActorDep
) -> CandidatePublic:
    """One candidate with its evidence and every decision on it (the read is audited)."""
    row = candidate(session, candidate_id, actor=actor)
    explanation = Explanations(session, services.evidence_model).of(row)
    return CandidatePublic.from_row(row, rank=None, explanation=explanation,
                                    with_decisions=True)  # fmt: skip


@router.get(
    "/{candidate_id}/waterfall.png",
    responses={
        200: {"content": {"image/png": {}}, "description": "a PNG chart"},
        **error_responses(404),
    },  # fmt: skip
    response_class=Response,
    dependencies=[Depends(require(Right.READ_CANDIDATES))],
)
def read_waterfall_png(
    candidate_id: RowId, session: SessionDep, services: ServicesDep, actor: ActorDep
) -> Response:
    """The candidate's evidence as a waterfall chart: prior, each comparison, total."""
    png = candidate_chart_png(session, candidate_id, actor=actor, model=services.evidence_model)
    return Response(png, media_type="image/png")


@router.get(
    "/{candidate_id}/waterfall.html",
    responses=error_responses(404),
    response_class=HTMLResponse,
    dependencies=[Depends(require(Right.READ_CANDIDATES))],
)
def read_waterfall_html(
    candidate_id: RowId, session: SessionDep, services: ServicesDep, actor: ActorDep
) -> str:
    """The waterfall chart in a self-contained page with the evidence table."""
    return candidate_chart_html(session, candidate_id, actor=actor, model=services.evidence_model)


@router.post(
    "/{candidate_id}/decisions",
    responses=error_responses(404, 409),
    status_code=status.HTTP_201_CREATED,
    response_model=DecisionPublic,
    dependencies=[Depends(require(Right.DECIDE))],
)
def decide(
    candidate_id: RowId, body: DecisionCreate, services: ServicesDep, caller: CallerDep
) -> DecisionPublic:
    """Record a reviewer's decision. Confirming leads to DNA or document checks, not closure.

    A signed-in reviewer's decision is recorded under their own name. The decision names
    the latest decision seen (none: undecided); a candidate decided since, or a decided
    one without ``override``, answers 409 naming its latest decision. An override is
    audited as such.
    """
    reviewer = body.reviewer or (caller.name if caller.named else None)
    if reviewer is None:
        raise InvalidRecordError("say who decides (reviewer, or X-Xunqin-User)", field="reviewer")
    if caller.signed_in and reviewer != caller.name:
        raise NotAllowedError(f"decisions are recorded under the signed-in name {caller.name}")
    seen_pair = (
        (body.missing_ref, body.found_ref)
        if body.missing_ref is not None and body.found_ref is not None
        else None
    )
    decision = decide_candidate(
        services.database, candidate_id, reviewer=reviewer,
        actor=caller.name if caller.named else reviewer, status=CandidateStatus(body.status),
        reason=body.reason, seen_pair=seen_pair, seen_decision_id=body.seen_decision_id,
        override=body.override,
    )  # fmt: skip
    return DecisionPublic.from_row(decision)
