"""The re-match's runs, for administrators: how far the overnight job got."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth import ActorDep, Right, require
from api.deps import SessionDep
from api.error_responses import COMMON_ERRORS, error_responses
from api.schemas import JobPublic, JobsPublic
from usecases.jobs import rematch_jobs

router = APIRouter(prefix="/jobs", tags=["jobs"], responses=error_responses(*COMMON_ERRORS))


@router.get("", response_model=JobsPublic, dependencies=[Depends(require(Right.READ_JOBS))])
def read_jobs(
    session: SessionDep,
    actor: ActorDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> JobsPublic:
    """The latest re-match runs, newest first, with their progress (rate, time left)."""
    states = rematch_jobs(session, actor=actor, limit=limit)
    return JobsPublic(data=[JobPublic(**state.__dict__) for state in states])
