"""Security headers on every response: pages, API answers, errors, static files, docs.

The reviewer page loads its script and style from ``/static`` and shows photos and the
waterfall page from blob URLs; the waterfall page (opened from a blob, so under the
page's policy) has one inline style, allowed by its hash, and its chart as a data URL.
Nothing may frame a page, sniff a type, or learn where a request came from, and no
answer (personal data, mostly) is kept in a cache unless it says otherwise.

``/docs`` and ``/redoc`` load their scripts from a CDN, with an inline start-up script:
their own policy allows that, and only there.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from typing import Final

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from usecases.charts import CHART_STYLE


def _hash_source(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


PAGE_POLICY: Final = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        f"style-src 'self' {_hash_source(CHART_STYLE)}",
        "img-src 'self' blob: data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
"""The policy of every response but the API docs."""

_CDN: Final = "https://cdn.jsdelivr.net"
DOCS_POLICY: Final = "; ".join(
    [
        "default-src 'none'",
        f"script-src 'unsafe-inline' {_CDN}",
        f"style-src 'unsafe-inline' {_CDN} https://fonts.googleapis.com",
        "font-src https://fonts.gstatic.com",
        "img-src 'self' data: https://fastapi.tiangolo.com",
        "worker-src blob:",
        "connect-src 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
"""Swagger UI and ReDoc as FastAPI serves them, from a CDN, until they are served here."""

HEADERS: Final = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class SecurityHeaders:
    """ASGI middleware that adds the headers to every HTTP response."""

    def __init__(self, app: ASGIApp, *, docs_paths: Iterable[str | None] = ()) -> None:
        self.app = app
        self.docs_paths = frozenset(path for path in docs_paths if path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers as the response starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_POLICY if scope["path"] in self.docs_paths else PAGE_POLICY

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = policy
                for name, value in HEADERS.items():
                    headers[name] = value
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
