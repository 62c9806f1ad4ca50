"""The HTTP API with the real store (both back ends) and the real face model."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from PIL import Image

from api.app import create_app
from api.services import Services
from matching.rematch import rematch


@pytest.fixture
def client(
    database_url: str, make_services: Callable[..., Services]
) -> Iterator[tuple[TestClient, Services]]:
    services = make_services(database_url)
    with TestClient(create_app(services)) as test_client:
        yield test_client, services


def _report(ref: str, name: str, **extra: object) -> dict[str, object]:
    return {"ref": ref, "name": name, "sex": "M", "birth_year": 1962, **extra}


def test_records_photos_search_candidates_and_decisions(
    client: tuple[TestClient, Services], sample_photos: Path
) -> None:
    http, services = client
    created = http.post("/missing", json=_report("M1", "刘建华", reporter_contact="138"))
    assert created.status_code == 201, created.text
    assert created.json()["reporter_contact"] is None  # never echoed in bulk views
    assert http.post("/missing", json=_report("M1", "刘建华")).status_code == 409
    assert http.post("/missing", json=_report("M2", "王芳", sex="女")).status_code == 201
    found = {"ref": "F1", "name": "牛建华", "sex": "男", "age_min": 58, "age_max": 66,
             "found_date": "2024-05-11", "accent": "四川口音"}  # fmt: skip
    assert http.post("/found", json=found).status_code == 201

    with (sample_photos / "obama.jpg").open("rb") as handle:
        photo = http.post("/missing/M1/photos", files={"file": ("o.jpg", handle, "image/jpeg")},
                          data={"taken_year": "2015"})  # fmt: skip
    assert photo.status_code == 201, photo.text
    assert photo.json()["status"] == "one_face" and photo.json()["faces"][0]["searchable"]
    with (sample_photos / "obama2.jpg").open("rb") as handle:
        assert http.post("/found/F1/photos", files={"file": ("o2.jpg", handle)}).status_code == 201

    bad = http.post("/missing/M1/photos", files={"file": ("x.jpg", b"not an image")})
    assert bad.status_code == 422 and bad.json()["error"] == "image_not_an_image"
    assert http.post("/missing/NOPE/photos", files={"file": ("x.jpg", b"x")}).status_code == 404

    one = http.get("/missing/M1").json()
    assert one["reporter_contact"] == "138" and len(one["photos"]) == 1
    assert http.get("/missing").json()["count"] == 2
    assert http.get("/found/F1").json()["accent"] == "四川口音"
    assert http.get("/missing/NOPE").status_code == 404
    assert http.get(f"/photos/{one['photos'][0]['id']}").content[:2] == b"\xff\xd8"

    with (sample_photos / "obama3.jpg").open("rb") as handle:
        search = http.post("/search/photo", files={"file": ("q.jpg", handle)}, data={"k": "5"})
    assert search.status_code == 200, search.text
    assert search.json()["hits"][0]["ref"] == "M1"
    names = http.get("/search/name", params={"name": "牛建华"}).json()
    assert names[0]["ref"] == "M1"

    rematch(services.database, face_indexes=services.face_indexes,
            face_model=services.face_model.name)  # fmt: skip
    page = http.get("/candidates", params={"status": "pending"}).json()
    assert page["count"] >= 1
    best = page["data"][0]
    assert (best["missing_ref"], best["found_ref"], best["rank"]) == ("M1", "F1", 1)
    signals = {s["signal"] for s in best["evidence"]["signals"]}
    assert {"face", "name", "sex", "age", "time", "place", "hometown"} <= signals
    assert best["summary"] and "more likely" in best["summary"]
    png = http.get(f"/candidates/{best['id']}/waterfall.png")
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    page = http.get(f"/candidates/{best['id']}/waterfall.html").text
    assert "data:image/png;base64," in page and "more likely" in page

    decision = http.post(
        f"/candidates/{best['id']}/decisions",
        json={"status": "needs_dna", "reviewer": "李审核", "reason": "面部相近，送DNA比对"},
        headers={"X-Xunqin-User": "li"},
    )
    assert decision.status_code == 201, decision.text
    assert http.get("/candidates", params={"status": "needs_dna"}).json()["count"] == 1
    detail = http.get(f"/candidates/{best['id']}").json()
    assert detail["decisions"][0]["reviewer"] == "李审核"
    bad_decision = http.post(f"/candidates/{best['id']}/decisions",
                             json={"status": "maybe", "reviewer": "x"})  # fmt: skip
    assert bad_decision.status_code == 422
    assert http.get("/candidates/999999").status_code == 404

    # A re-match keeps the reviewer's decision.
    rematch(services.database, face_indexes=services.face_indexes,
            face_model=services.face_model.name)  # fmt: skip
    assert http.get(f"/candidates/{best['id']}").json()["status"] == "needs_dna"


def _group_photo(sample_photos: Path) -> bytes:
    """Two people side by side, made from the registry's sample photos."""
    left = Image.open(sample_photos / "obama.jpg").convert("RGB")
    right = Image.open(sample_photos / "biden.jpg").convert("RGB")
    right = right.resize((right.width * left.height // right.height, left.height))
    group = Image.new("RGB", (left.width + right.width, left.height))
    group.paste(left, (0, 0))
    group.paste(right, (left.width, 0))
    buffer = io.BytesIO()
    group.save(buffer, format="JPEG")
    return buffer.getvalue()


def test_several_faces_are_returned_for_the_caller_to_choose(
    sample_photos: Path, make_services: Callable[..., Services]
) -> None:
    services = make_services()
    with TestClient(create_app(services)) as http:
        http.post("/missing", json=_report("M1", "刘建华"))
        group = _group_photo(sample_photos)
        stored = http.post("/missing/M1/photos", files={"file": ("g.jpg", group)}).json()
        assert stored["status"] == "several_faces"
        assert not any(face["searchable"] for face in stored["faces"])
        chosen = http.post("/missing/M1/photos", files={"file": ("g.jpg", group)},
                           data={"face_no": "1"}).json()  # fmt: skip
        assert [f["searchable"] for f in chosen["faces"]] == [False, True]
        search = http.post("/search/photo", files={"file": ("g.jpg", group)})
        assert search.status_code == 409
        assert len(search.json()["detail"]) == 2
        again = http.post("/search/photo", files={"file": ("g.jpg", group)}, data={"face_no": "1"})
        assert again.status_code == 200 and again.json()["hits"][0]["distance"] < 0.01


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_served_over_real_http_with_openapi_docs(make_services: Callable[..., Services]) -> None:
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(make_services()), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        assert httpx.get(f"{base}/docs").status_code == 200
        spec = httpx.get(f"{base}/openapi.json").json()
        assert "/candidates/{candidate_id}/decisions" in spec["paths"]
        assert "候选核对" in httpx.get(f"{base}/").text
        created = httpx.post(f"{base}/found", json={"ref": "F9", "name": "阿明", "sex": "M"})
        assert created.status_code == 201
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_searching_with_a_face_too_small_says_why(
    sample_photos: Path, make_services: Callable[..., Services]
) -> None:
    tiny = Image.open(sample_photos / "obama.jpg").convert("RGB").resize((91, 114))
    buffer = io.BytesIO()
    tiny.save(buffer, format="JPEG")
    with TestClient(create_app(make_services())) as http:
        answer = http.post("/search/photo", files={"file": ("t.jpg", buffer.getvalue())})
    if answer.status_code == 422 and answer.json()["error"] == "no_face":
        pytest.skip("the detector found no face at this size; nothing to judge")
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "face_too_poor"
    assert "px wide" in answer.json()["message"]
