"""The FastAPI application: records, photos, search, candidates and the reviewer page."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api import access_log
from api.error_responses import install_error_handlers
from api.headers import SecurityHeaders
from api.routes import candidates, found_links, jobs, records, search, sign_in
from api.sign_in_refusals import RefusedSignIns
from usecases.services import Services
from usecases.settings import get_settings

logger = logging.getLogger(__name__)


def create_app(services: Services | None = None) -> FastAPI:
    """Build the app; tests pass their own ``Services``."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = services or Services(get_settings())
        if app.state.services.settings.auth_mode == "header":
            # Only `xunqin serve` can refuse a public address; started any other way
            # (uvicorn directly, behind a proxy), this is the one place to say it.
            logger.warning(
                "XUNQIN_AUTH=header: callers only name themselves and may do everything; "
                "serve on 127.0.0.1 only, or set XUNQIN_AUTH=tokens"
            )
        # Heavy parts load here, once, not on the first request: the store is migrated,
        # the face indexes are checked against it, and the face workers load dlib.
        _ = app.state.services.face_indexes
        app.state.services.face_reader.warm()
        yield
        app.state.services.close()

    app = FastAPI(
        title="xunqin 寻亲",
        summary="Candidate pairs between people in rescue stations' care and missing-person "
        "reports, ranked by evidence, for people to decide.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.sign_in_refusals = RefusedSignIns()
    install_error_handlers(app)
    docs = (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url)
    app.add_middleware(SecurityHeaders, docs_paths=docs)
    access_log.install()
    app.include_router(records.router)
    app.include_router(search.router)
    app.include_router(candidates.router)
    app.include_router(found_links.router)
    app.include_router(jobs.router)
    app.include_router(sign_in.router)

    # The reviewer page's script and style: no inline script runs under the page's policy.
    app.mount("/static", StaticFiles(directory=str(files("api").joinpath("static"))),
              name="static")  # fmt: skip

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, str]:
        """Liveness."""
        return {"status": "ok"}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def reviewer_page() -> str:
        """The reviewer's page: pending candidates with their evidence and decisions."""
        return files("api").joinpath("static/review.html").read_text(encoding="utf-8")

    return app
