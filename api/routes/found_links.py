"""Links between found persons who may be one person: the queue, one link, a verdict."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from api.auth import ActorDep, CallerDep, NotAllowedError, Right, require
from api.deps import ServicesDep, SessionDep
from api.error_responses import COMMON_ERRORS, error_responses
from api.schemas import (
    FoundLinkDecisionCreate,
    FoundLinkDecisionPublic,
    FoundLinkPublic,
    FoundLinksPublic,
    RowId,
    Text,
)
from usecases.found_link_review import decide_link, found_link, links_page
from usecases.vocabulary import MAX_ID, MAX_REF_LENGTH, InvalidRecordError, LinkStatus

router = APIRouter(
    prefix="/found-links", tags=["found links"], responses=error_responses(*COMMON_ERRORS)
)


@router.get(
    "",
    response_model=FoundLinksPublic,
    responses=error_responses(404),
    dependencies=[Depends(require(Right.READ_CANDIDATES))],
)
def read_found_links(
    session: SessionDep,
    actor: ActorDep,
    found: Annotated[
        Text | None,
        Query(
            min_length=1,
            max_length=MAX_REF_LENGTH,
            description="only the links of this found person (ref); 404 if none such",
        ),
    ] = None,  # fmt: skip
    status_filter: Annotated[LinkStatus | None, Query(alias="status")] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> FoundLinksPublic:
    """Found persons who may be one person, best first (those of one person if asked)."""
    rows, total = links_page(session, actor=actor, found_ref=found, status=status_filter,
                             offset=offset, limit=limit)  # fmt: skip
    return FoundLinksPublic(data=[FoundLinkPublic.from_row(row) for row in rows], count=total)


@router.get(
    "/{link_id}",
    responses=error_responses(404),
    response_model=FoundLinkPublic,
    dependencies=[Depends(require(Right.READ_CANDIDATES))],
)
def read_found_link(link_id: RowId, session: SessionDep, actor: ActorDep) -> FoundLinkPublic:
    """One link with its explanation and every decision on it (the read is audited)."""
    return FoundLinkPublic.from_row(found_link(session, link_id, actor=actor), with_decisions=True)


@router.post(
    "/{link_id}/decision",
    responses=error_responses(404, 409),
    status_code=status.HTTP_201_CREATED,
    response_model=FoundLinkDecisionPublic,
    dependencies=[Depends(require(Right.DECIDE))],
)
def decide(
    link_id: RowId, body: FoundLinkDecisionCreate, services: ServicesDep, caller: CallerDep
) -> FoundLinkDecisionPublic:
    """Record a verdict: the same person (confirmed), different people (rejected), or
    back to pending. Confirming leads to DNA or document checks, not closure.

    As for candidates: a signed-in reviewer decides under their own name; the decision
    names the latest decision seen (none: undecided), and a link decided since, or a
    decided one without ``override`` (and a reason), answers 409 naming its latest
    decision. An override is audited as such.
    """
    reviewer = body.reviewer or (caller.name if caller.named else None)
    if reviewer is None:
        raise InvalidRecordError(
            "请说明是谁判定 (say who decides: reviewer, or X-Xunqin-User)", field="reviewer"
        )
    if caller.signed_in and reviewer != caller.name:
        raise NotAllowedError(
            f"判定以登录名 {caller.name} 记录 (decisions are recorded under the signed-in name)"
        )
    seen = (body.found_refs[0], body.found_refs[1]) if body.found_refs is not None else None
    decision = decide_link(
        services.database, link_id, reviewer=reviewer,
        actor=caller.name if caller.named else reviewer, status=LinkStatus(body.status),
        reason=body.reason, seen_refs=seen, seen_decision_id=body.seen_decision_id,
        override=body.override,
    )  # fmt: skip
    return FoundLinkDecisionPublic.from_row(decision)
