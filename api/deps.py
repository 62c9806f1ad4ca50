"""Dependencies declared once and reused by every route."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from usecases.services import Services


def get_services(request: Request) -> Services:
    """The service container the app was started with."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    """A session for one request, committed when the route succeeds."""
    with services.database.session() as session:
        yield session


# Committed before the response is sent ("function" scope): a write or an audited read
# whose commit fails must answer an error, not a success the store never kept.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
