"""Inputs checked at the edge: one error body, numbers in the store's range, no NUL in
any text, a form's "null" for a number left out; security headers on every response."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api.app import create_app
from api.headers import DOCS_POLICY, PAGE_POLICY
from matching.evidence_model import WATERFALL_STYLE
from usecases.services import Services

USER = {"X-Xunqin-User": "li"}


@pytest.fixture
def http(database_url: str, make_services: Callable[..., Services]) -> Iterator[TestClient]:
    with TestClient(create_app(make_services(database_url))) as client:
        assert client.post("/missing", json={"ref": "M1", "name": "刘建华"}).status_code == 201
        yield client


def _faceless_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 180, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def _refused(response: object, *where: str) -> None:
    """A 422 with the one error body, naming where the problem is."""
    assert getattr(response, "status_code", None) == 422, getattr(response, "text", response)
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error", "message", "detail"} and body["error"] == "invalid_request"
    # (A header that two dependencies read is named twice.)
    assert {tuple(problem["loc"]) for problem in body["detail"]} == {where}
    assert set(body["detail"][0]) == {"loc", "msg", "type"}, "the input is not echoed"


NUL_CASES = [
    ("a path", "get", "/missing/M%001", {}, ("path", "ref")),
    ("a query", "get", "/search/name", {"params": {"name": "刘\x00"}}, ("query", "name")),
    ("a JSON body", "post", "/missing", {"json": {"ref": "M2", "name": "王\x00芳"}},
     ("body", "name")),
    ("a list in a body", "post", "/found", {"json": {"ref": "F2", "aliases": ["a", "b\x00"]}},
     ("body", "aliases", "1")),
    ("a form", "post", "/search/photo",
     {"files": {"file": ("q.png", b"x")}, "data": {"region": "四川\x00"}}, ("body", "region")),
    ("a header", "get", "/missing", {"headers": {"X-Xunqin-User": "li\x00"}},
     ("header", "x-xunqin-user")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "where"),
    [case[1:] for case in NUL_CASES],
    ids=[case[0] for case in NUL_CASES],
)
def test_a_nul_character_in_any_text_is_refused_on_both_back_ends(
    http: TestClient, method: str, url: str, kwargs: dict[str, object], where: tuple[str, ...]
) -> None:
    _refused(http.request(method, url, **kwargs), *where)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "where"),
    [
        ("/missing?offset=9223372036854775808", ("query", "offset")),
        ("/found?offset=2147483648", ("query", "offset")),
        ("/candidates?max_rank=5631221717", ("query", "max_rank")),
        ("/photos/2147483648", ("path", "photo_id")),
        ("/candidates/1036847051139044", ("path", "candidate_id")),
        ("/candidates/0/waterfall.png", ("path", "candidate_id")),
    ],
)
def test_numbers_past_the_stores_range_are_refused(
    http: TestClient, url: str, where: tuple[str, ...]
) -> None:
    _refused(http.get(url), *where)


def test_the_largest_id_the_store_holds_is_only_not_found(http: TestClient) -> None:
    answer = http.get(f"/photos/{2**31 - 1}")
    assert answer.status_code == 404 and answer.json()["error"] == "not_found"


@pytest.mark.parametrize("left_out", ["null", "", "NULL"])
def test_a_form_number_left_out_may_say_null(http: TestClient, left_out: str) -> None:
    form = {"taken_year": left_out, "age": left_out, "face_no": left_out}
    answer = http.post("/missing/M1/photos", files={"file": ("a.png", _faceless_png())}, data=form)
    assert answer.status_code == 201, answer.text
    assert answer.json()["taken_year"] is None and answer.json()["age_at_photo"] is None
    _refused(http.post("/missing/M1/photos", files={"file": ("a.png", b"x")},
                       data={"taken_year": "1850"}), "body", "taken_year")  # fmt: skip


def test_every_error_has_the_one_body(http: TestClient) -> None:
    assert http.get("/nowhere").json() == {"error": "not_found", "message": "Not Found",
                                           "detail": None}  # fmt: skip
    missing = http.get("/missing/NOPE")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    duplicate = http.post("/missing", json={"ref": "M1", "name": "别人"})
    assert duplicate.status_code == 409 and duplicate.json()["error"] == "duplicate"
    unreadable = http.post(
        "/missing", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert unreadable.status_code == 422 and unreadable.json()["error"] == "invalid_request"
    wrong = http.patch("/missing/M1")
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"
    assert wrong.headers["Allow"] == "DELETE, GET", "every method the path takes"
    long = http.get("/missing", params={"limit": 501})
    assert long.json()["message"] == "query.limit: Input should be less than or equal to 500"


def test_every_4xx_is_documented_as_the_one_body(http: TestClient) -> None:
    spec = http.get("/openapi.json").json()
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorPublic"}}}
    errors = [
        (path, method, status, answer.get("content"))
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        for status, answer in operation["responses"].items()
        if status.startswith("4")
    ]
    assert len(errors) > 50 and all(content == body for *_, content in errors)
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_security_headers_on_every_kind_of_response(http: TestClient) -> None:
    photo = http.post("/missing/M1/photos", files={"file": ("a.png", _faceless_png())}).json()
    answers = {
        "page": http.get("/"),
        "script": http.get("/static/review.js"),
        "style": http.get("/static/review.css"),
        "json": http.get("/missing/M1", headers=USER),
        "photo": http.get(f"/photos/{photo['id']}"),
        "not found": http.get("/missing/NOPE"),
        "invalid": http.get("/missing?offset=-1"),
        "no route": http.get("/nowhere"),
        "openapi": http.get("/openapi.json"),
        "docs": http.get("/docs"),
    }
    for kind, answer in answers.items():
        assert answer.status_code in {200, 404, 422}, kind
        headers = answer.headers
        assert headers["X-Frame-Options"] == "DENY", kind
        assert headers["X-Content-Type-Options"] == "nosniff", kind
        assert headers["Referrer-Policy"] == "no-referrer", kind
        assert headers["Cache-Control"] == "no-store", kind
        policy = DOCS_POLICY if kind == "docs" else PAGE_POLICY
        assert headers["Content-Security-Policy"] == policy, kind
        assert "frame-ancestors 'none'" in policy


def test_the_page_runs_under_its_policy(http: TestClient) -> None:
    page = http.get("/").text
    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts == [' src="/static/review.js"'], "no inline script: script-src 'self'"
    assert "<style" not in page and " style=" not in page
    assert not re.search(r"<[^>]+\son[a-z]+=", page), "no inline event handler"
    digest = hashlib.sha256(WATERFALL_STYLE.encode("utf-8")).digest()
    # The waterfall page opens from a blob URL, under the page's policy: its one style
    # element is allowed by hash, and its chart is a data URL.
    assert f"'sha256-{base64.b64encode(digest).decode()}'" in PAGE_POLICY
    assert "img-src 'self' blob: data:" in PAGE_POLICY
