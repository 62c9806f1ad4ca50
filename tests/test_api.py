"""The HTTP API with the real store (both back ends) and the real face model."""

from __future__ import annotations

import io
import logging
import socket
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api import access_log
from api.app import create_app
from records import AuditEvent
from usecases.rematch_job import rematch
from usecases.services import Services


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
    assert one["reporter_contact"] is None and len(one["photos"]) == 1  # only when asked
    asked = http.get("/missing/M1", params={"contact": "true"}, headers={"X-Xunqin-User": "li"})
    assert asked.json()["reporter_contact"] == "138"
    assert http.get("/missing", headers={"X-Xunqin-User": "li"}).json()["count"] == 2
    with services.database.session() as session:
        reads = session.scalars(
            select(AuditEvent).where(AuditEvent.actor == "li").order_by(AuditEvent.id)
        ).all()
        assert [(e.action, e.subject_kind, e.detail) for e in reads] == [
            ("read", "missing", {"contact": True}),
            ("list", "missing", {"shown": 2, "offset": 0}),
        ]
    assert http.get("/found/F1").json()["accent"] == "四川口音"
    assert http.get("/missing/NOPE").status_code == 404
    assert http.get(f"/photos/{one['photos'][0]['id']}").content[:2] == b"\xff\xd8"

    with (sample_photos / "obama3.jpg").open("rb") as handle:
        search = http.post("/search/photo", files={"file": ("q.jpg", handle)}, data={"k": "5"})
    assert search.status_code == 200, search.text
    assert search.json()["hits"][0]["ref"] == "M1"
    names = http.get("/search/name", params={"name": "牛建华"}).json()
    for blank in (" ", "\u3000"):  # the full-width space input methods type
        assert http.get("/search/name", params={"name": blank}).status_code == 422
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
    assert "(alone " in best["evidence"]["competition"]["reason"]
    png = http.get(f"/candidates/{best['id']}/waterfall.png")
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    page = http.get(f"/candidates/{best['id']}/waterfall.html").text
    assert "data:image/png;base64," in page and "more likely" in page
    assert "shared with other candidates" in page

    decision = http.post(
        f"/candidates/{best['id']}/decisions",
        json={"status": "needs_dna", "reviewer": "李审核", "reason": "面部相近，送DNA比对"},
        headers={"X-Xunqin-User": "li"},
    )
    assert decision.status_code == 201, decision.text
    assert http.get("/candidates", params={"status": "needs_dna"}).json()["count"] == 1
    detail = http.get(f"/candidates/{best['id']}", headers={"X-Xunqin-User": "zhao"}).json()
    assert detail["decisions"][0]["reviewer"] == "李审核"
    with services.database.session() as session:
        seen = session.scalars(select(AuditEvent).where(AuditEvent.actor == "zhao")).one()
        assert (seen.action, seen.subject_kind, seen.subject_id) == ("read", "candidate",
                                                                     str(best["id"]))  # fmt: skip
    bad_decision = http.post(f"/candidates/{best['id']}/decisions",
                             json={"status": "maybe", "reviewer": "x"})  # fmt: skip
    assert bad_decision.status_code == 422
    seen_other = {"status": "rejected", "reviewer": "x", "missing_ref": best["missing_ref"],
                  "found_ref": "F-other"}  # fmt: skip
    stale = http.post(f"/candidates/{best['id']}/decisions", json=seen_other)
    assert stale.status_code == 409 and stale.json()["error"] == "decision_conflict"
    half = {"status": "rejected", "reviewer": "x", "missing_ref": best["missing_ref"]}
    assert http.post(f"/candidates/{best['id']}/decisions", json=half).status_code == 422
    nobody = http.post(f"/candidates/{best['id']}/decisions", json={"status": "rejected"})
    assert nobody.status_code == 422 and "reviewer" in nobody.json()["message"]
    blank = {"status": "rejected", "reviewer": "   "}
    assert http.post(f"/candidates/{best['id']}/decisions", json=blank).status_code == 422
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


def _upload(http: TestClient, path: str, photo: Path) -> int:
    with photo.open("rb") as handle:
        answer = http.post(path, files={"file": (photo.name, handle)})
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def _photo_search(http: TestClient, photo: Path, **form: str) -> httpx.Response:
    with photo.open("rb") as handle:
        return http.post("/search/photo", files={"file": ("q.jpg", handle)}, data=form)


def _hit_refs(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [hit["ref"] for hit in answer.json()["hits"]]


def test_photo_search_weighs_past_the_nearest_face(
    client: tuple[TestClient, Services], sample_photos: Path
) -> None:
    http, _ = client
    year = date.today().year
    http.post("/missing", json=_report("M1", "刘建华", birth_year=year - 64))
    http.post("/missing", json=_report("M3", "张伟", birth_year=year - 25))
    _upload(http, "/missing/M1/photos", sample_photos / "obama.jpg")
    _upload(http, "/missing/M3/photos", sample_photos / "obama2.jpg")
    query = sample_photos / "obama3.jpg"
    answer = _photo_search(http, query).json()["hits"]
    assert answer[0]["distance"] <= answer[1]["distance"]  # no age: the nearer face first
    nearer, further = answer[0]["ref"], answer[1]["ref"]
    # An age that fits only the further one puts it first, even when one hit is asked for.
    ages = {"M1": ("60", "68"), "M3": ("22", "28")}[further]
    [best] = _hit_refs(_photo_search(http, query, k="1", age_min=ages[0], age_max=ages[1]))
    assert best == further != nearer


def test_photo_search_per_person_with_filters_deletes_and_closed_cases(
    client: tuple[TestClient, Services], sample_photos: Path
) -> None:
    from records import MissingStatus, Side
    from records.storage.person_records import set_status

    http, services = client
    assert services.face_indexes.search_threads == 1
    http.post("/missing", json=_report("M1", "刘建华", hometown="四川南充"))
    http.post("/missing", json=_report("M2", "王芳", sex="F", hometown="广东"))
    http.post("/found", json={"ref": "F1", "name": "牛建华", "sex": "M", "station": "南充救助站"})
    first = _upload(http, "/missing/M1/photos", sample_photos / "obama.jpg")
    second = _upload(http, "/missing/M1/photos", sample_photos / "obama2.jpg")
    _upload(http, "/missing/M2/photos", sample_photos / "biden.jpg")
    _upload(http, "/found/F1/photos", sample_photos / "obama2.jpg")
    query = sample_photos / "obama3.jpg"

    answer = _photo_search(http, query)
    assert _hit_refs(answer) == ["M1", "M2"]  # M1's two photos make one hit
    best, other = answer.json()["hits"]
    assert best["probability"] > other["probability"] and best["summary"]
    assert best["evidence"]["signals"][0]["signal"] == "face" and best["level"] != "null"
    assert sum(hit["probability"] for hit in answer.json()["hits"]) < 1
    assert answer.json()["photo_year"] == date.today().year  # a person in care, now
    # Both born 1962: an estimate that fits raises both; one that does not lowers both.
    age = date.today().year - 1962
    fits = _photo_search(http, query, age_min=str(age - 4), age_max=str(age + 4))
    wrong = _photo_search(http, query, age_min="20", age_max="25").json()["hits"][0]
    assert wrong["probability"] < best["probability"] < fits.json()["hits"][0]["probability"]
    refused = _photo_search(http, query, age_min="40", age_max="30")
    assert refused.status_code == 422 and "age_min" in refused.json()["message"]
    future = _photo_search(http, query, photo_year=str(date.today().year + 1))
    assert future.status_code == 422 and "photo_year" in future.json()["message"]
    with services.database.session() as session:
        searches = session.scalars(select(AuditEvent).where(AuditEvent.action == "search_photo"))
        described = [event.detail["described"] for event in searches]
    assert ["age_min", "age_max"] in described and [] in described  # names, never values
    assert answer.json()["hits"][0]["photo_id"] in {first, second}
    assert _hit_refs(_photo_search(http, query, sex="F")) == ["M2"]
    assert _hit_refs(_photo_search(http, query, hometown="四川")) == ["M1"]
    assert _hit_refs(_photo_search(http, query, region="四川")) == []  # no place written
    stations = _photo_search(http, query, side="found", station="南充救助站")
    assert _hit_refs(stations) == ["F1"]
    refused = _photo_search(http, query, hometown="大山里")
    assert refused.status_code == 422 and refused.json()["error"] == "invalid_record"
    assert _photo_search(http, query, station="南充救助站").status_code == 422

    # Deleting a photo: its face leaves the search, the other photo still answers.
    before = _photo_search(http, query).json()["hits"][0]
    nearest = before["photo_id"]
    assert http.delete(f"/photos/{nearest}").status_code == 204
    after = _photo_search(http, query).json()["hits"][0]
    assert after["ref"] == "M1" and after["photo_id"] == ({first, second} - {nearest}).pop()
    assert after["distance"] >= before["distance"]
    assert http.get(f"/photos/{nearest}").status_code == 404
    assert http.delete(f"/photos/{nearest}").status_code == 404

    # Closing a case: out of photo search and candidates at once.
    rematch(services.database, face_indexes=services.face_indexes,
            face_model=services.face_model.name)  # fmt: skip
    assert "M1" in {c["missing_ref"] for c in http.get("/candidates").json()["data"]}
    closed = http.put("/missing/M1/status", json={"status": "reunited"},
                      headers={"X-Xunqin-User": "li"})  # fmt: skip
    assert closed.status_code == 200 and closed.json()["status"] == "reunited"
    assert "M1" not in _hit_refs(_photo_search(http, query))
    named = http.get("/search/name", params={"name": "刘建华"}).json()
    assert "M1" not in {hit["ref"] for hit in named}
    candidates = http.get("/candidates").json()
    assert "M1" not in {c["missing_ref"] for c in candidates["data"]}
    assert candidates["count"] == len(candidates["data"])
    wrong = http.put("/found/F1/status", json={"status": "reunited"})
    assert wrong.status_code == 422
    assert http.put("/missing/NOPE/status", json={"status": "closed"}).status_code == 404
    reopened = http.put("/missing/M1/status", json={"status": "open"})
    assert reopened.status_code == 200
    assert _hit_refs(_photo_search(http, query))[0] == "M1"
    assert http.get("/search/name", params={"name": "刘建华"}).json()[0]["ref"] == "M1"
    assert http.put("/found/F1/status", json={"status": "identified"}).status_code == 200
    assert _hit_refs(_photo_search(http, query, side="found")) == []

    # A case closed behind the index's back (another process) is left out and caught up.
    with services.database.session() as session:
        set_status(session, Side.MISSING, "M2", MissingStatus.CLOSED)
    assert _hit_refs(_photo_search(http, query, sex="F")) == []
    assert len(services.face_indexes[Side.MISSING]) == 1

    # Erasing a record: it, its photos and candidates go; searches never see it again.
    assert http.delete("/missing/M1", headers={"X-Xunqin-User": "li"}).status_code == 204
    assert http.get("/missing/M1").status_code == 404
    assert "M1" not in _hit_refs(_photo_search(http, query))
    assert "M1" not in {
        h["ref"] for h in http.get("/search/name", params={"name": "刘建华"}).json()
    }
    assert http.delete("/missing/M1").status_code == 404

    with services.database.session() as session:
        actions = [(e.actor, e.action) for e in session.query(AuditEvent).order_by(AuditEvent.id)]
    assert ("li", "set_status") in actions and ("anonymous", "delete_photo") in actions
    assert ("li", "erase") in actions


def test_uploads_are_saved_to_the_index_file_when_the_service_stops(
    sample_photos: Path, make_services: Callable[..., Services]
) -> None:
    from indexes import FaceIndex
    from records import Side

    services = make_services()
    with TestClient(create_app(services)) as http:
        http.post("/missing", json=_report("M1", "刘建华"))
        _upload(http, "/missing/M1/photos", sample_photos / "obama.jpg")
        indexes = services.face_indexes
        path = indexes.path(Side.MISSING)
        assert indexes.unsaved(Side.MISSING) == 1  # not written on every upload
        assert len(FaceIndex.load(path, model=indexes.model)) == 0
    assert indexes.unsaved(Side.MISSING) == 0
    assert len(FaceIndex.load(path, model=indexes.model)) == 1


def test_a_name_the_station_gave_is_kept_and_shown_but_never_compared(
    client: tuple[TestClient, Services],
) -> None:
    http, services = client
    assert http.post("/missing", json=_report("M1", "党新民")).status_code == 201
    given = {"ref": "F1", "name": "党新民", "name_assigned": True, "sex": "M",
             "age_min": 58, "age_max": 66, "found_date": "2024-05-11"}  # fmt: skip
    assert http.post("/found", json=given).status_code == 201, "the station's name is stored"
    shown = http.get("/found/F1").json()
    assert (shown["name"], shown["name_assigned"]) == ("党新民", True)
    nameless = http.post("/found", json={"ref": "F2", "name_assigned": True})
    assert nameless.status_code == 422 and "name_assigned" in nameless.text
    assert http.get("/found/F2").status_code == 404, "a refused record is not half stored"

    rematch(services.database, face_indexes=services.face_indexes,
            face_model=services.face_model.name)  # fmt: skip
    page = http.get("/candidates").json()
    pair = next(c for c in page["data"] if (c["missing_ref"], c["found_ref"]) == ("M1", "F1"))
    assert pair["found_name"] == "党新民" and pair["found_name_assigned"]
    assert "name_assigned" in http.get("/static/review.js").text, "the reviewer's page marks it"
    name = next(s for s in pair["evidence"]["signals"] if s["signal"] == "name")
    assert name["level"] == "null" and name["weight"] == 0.0, "the same name says nothing here"


def test_a_write_whose_commit_fails_is_not_answered_as_a_success(
    database_url: str, make_services: Callable[..., Services]
) -> None:
    services = make_services(database_url)
    failing = {"on": False}

    def refuse_commit(session: Session) -> None:
        if failing["on"]:
            raise RuntimeError("the store refused the commit")

    event.listen(Session, "before_commit", refuse_commit)
    try:
        with TestClient(create_app(services), raise_server_exceptions=False) as http:
            assert http.post("/missing", json=_report("M1", "刘建华")).status_code == 201
            failing["on"] = True
            # The commit runs before the answer: a failed one is an error, not a 201 or a
            # 200 whose audit row was never written.
            assert http.post("/missing", json=_report("M2", "王芳")).status_code == 500
            assert http.get("/missing/M1").status_code == 500
            failing["on"] = False
            assert http.get("/missing/M2").status_code == 404
    finally:
        event.remove(Session, "before_commit", refuse_commit)


def test_access_log_lines_keep_the_path_but_not_the_query(
    make_services: Callable[..., Services],
) -> None:
    create_app(make_services())
    logger = logging.getLogger(access_log.ACCESS_LOGGER)
    # The arguments uvicorn's access logger passes: client, method, path, HTTP version, status.
    record = logger.makeRecord(
        logger.name, logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/search/name?name=%E5%88%98&birth_year=1962", "1.1", 200),
        None,
    )  # fmt: skip
    assert all(f.filter(record) for f in logger.filters)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /search/name HTTP/1.1" 200'


def test_a_store_error_is_answered_and_logged_without_the_row(
    make_services: Callable[..., Services],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import usecases.reading as reading

    def refused(*args: object, **kwargs: object) -> None:
        raise IntegrityError(
            "INSERT INTO audit_events ...", {"name": "刘建华"},
            Exception('new row violates a constraint\nDETAIL: Failing row contains (刘建华, 138)'),
        )  # fmt: skip

    monkeypatch.setattr(reading, "audit", refused)
    with TestClient(create_app(make_services()), raise_server_exceptions=False) as http:
        answer = http.post("/missing", json=_report("M1", "刘建华", reporter_contact="138"))
    assert answer.status_code == 500 and answer.json()["error"] == "store_error"
    assert "刘建华" not in answer.text
    assert "refused a request: Exception" in caplog.text and "刘建华" not in caplog.text
