"""Signing in with access tokens, and what each role may do."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from api.auth import RIGHTS, Right
from records import AuditEvent, InvalidRecordError, Role
from records.storage.candidate_pairs import upsert_candidate
from records.storage.person_records import get_found, get_missing
from records.users import add_user, disable_user, new_token
from usecases.services import Services


@pytest.fixture
def signed(
    database_url: str, make_services: Callable[..., Services]
) -> Iterator[tuple[TestClient, Services, dict[str, dict[str, str]]]]:
    services = make_services(database_url, auth="tokens")
    tokens = {}
    with services.database.session() as session:
        for name, role in (("officer", Role.OFFICER), ("reviewer", Role.REVIEWER),
                           ("admin", Role.ADMIN)):  # fmt: skip
            tokens[name] = {"Authorization": f"Bearer {add_user(session, name, role).token}"}
    with TestClient(create_app(services)) as http:
        yield http, services, tokens


def test_every_request_needs_a_valid_token(
    signed: tuple[TestClient, Services, dict[str, dict[str, str]]],
) -> None:
    http, services, tokens = signed
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"},
                    {"X-Xunqin-User": "admin"}):  # fmt: skip
        answer = http.get("/missing", headers=headers)
        assert answer.status_code == 401 and answer.json()["error"] == "not_signed_in"
        assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert http.get("/missing", headers=tokens["reviewer"]).status_code == 200
    with services.database.session() as session:
        disable_user(session, "reviewer")
    assert http.get("/missing", headers=tokens["reviewer"]).status_code == 401
    assert http.get("/healthz").status_code == 200, "liveness needs no token"


def test_each_role_does_what_it_is_for_and_no_more(
    signed: tuple[TestClient, Services, dict[str, dict[str, str]]],
) -> None:
    http, services, tokens = signed
    officer, reviewer, admin = tokens["officer"], tokens["reviewer"], tokens["admin"]
    report = {"ref": "M1", "name": "刘建华", "sex": "M", "reporter_contact": "138"}
    assert http.post("/missing", json=report, headers=reviewer).status_code == 403
    assert http.post("/missing", json=report, headers=officer).status_code == 201
    assert http.post("/found", json={"ref": "F1", "name": "牛建华"},
                     headers=officer).status_code == 201  # fmt: skip
    assert http.get("/missing/M1", params={"contact": "true"}, headers=reviewer).status_code == 403
    contact = http.get("/missing/M1", params={"contact": "true"}, headers=officer).json()
    assert contact["reporter_contact"] == "138"
    assert http.get("/missing/M1", headers=reviewer).json()["reporter_contact"] is None
    assert http.get("/search/name", params={"name": "刘建华"}, headers=reviewer).status_code == 200

    with services.database.session() as session:
        pair, _ = upsert_candidate(
            session, missing_id=get_missing(session, "M1").id,
            found_id=get_found(session, "F1").id, score=3.0, probability=0.5, evidence={},
            model_version="v",
        )  # fmt: skip
    decide = f"/candidates/{pair.id}/decisions"
    assert http.post(decide, json={"status": "rejected"}, headers=officer).status_code == 403
    posing = http.post(decide, json={"status": "rejected", "reviewer": "someone else"},
                       headers=reviewer)  # fmt: skip
    assert posing.status_code == 403, "a signed-in reviewer decides under their own name"
    made = http.post(decide, json={"status": "needs_dna"}, headers=reviewer)
    assert made.status_code == 201 and made.json()["reviewer"] == "reviewer"

    assert http.put("/missing/M1/status", json={"status": "closed"},
                    headers=reviewer).status_code == 403  # fmt: skip
    assert http.delete("/missing/M1", headers=officer).status_code == 403
    assert http.delete("/missing/M1", headers=admin).status_code == 204
    with services.database.session() as session:
        actors = {(e.actor, e.action) for e in session.scalars(select(AuditEvent))}
    assert {("officer", "create"), ("reviewer", "decide"), ("admin", "erase")} <= actors


def test_only_an_admin_sees_the_rematch_runs(
    signed: tuple[TestClient, Services, dict[str, dict[str, str]]],
) -> None:
    from usecases.rematch_job import RematchSettings, rematch

    http, services, tokens = signed
    assert http.post("/missing", json={"ref": "M1", "name": "刘建华"},
                     headers=tokens["officer"]).status_code == 201  # fmt: skip
    assert http.post("/found", json={"ref": "F1", "name": "牛建华"},
                     headers=tokens["officer"]).status_code == 201  # fmt: skip
    rematch(services.database, face_indexes=None, face_model=None,
            settings=RematchSettings(workers=1))  # fmt: skip
    for role in ("officer", "reviewer"):
        assert http.get("/jobs", headers=tokens[role]).status_code == 403
    answer = http.get("/jobs", headers=tokens["admin"])
    assert answer.status_code == 200
    (job,) = answer.json()["data"]
    assert (job["kind"], job["state"], job["blocks_done"]) == ("full", "done", 1)
    assert job["detail"]["reports"] == 1 and job["seconds_left"] is None
    assert http.get("/jobs", params={"limit": 0}, headers=tokens["admin"]).status_code == 422


def test_rights_are_least_access() -> None:
    assert Right.DECIDE not in RIGHTS[Role.OFFICER]
    assert Right.READ_CONTACT not in RIGHTS[Role.REVIEWER]
    assert Right.WRITE_RECORDS not in RIGHTS[Role.REVIEWER]
    only_admin = {r for r in Right if all(r not in RIGHTS[x] for x in (Role.OFFICER,
                                                                       Role.REVIEWER))}  # fmt: skip
    assert only_admin == {Right.DELETE, Right.READ_JOBS}


def test_a_new_token_replaces_the_old_at_once(
    signed: tuple[TestClient, Services, dict[str, dict[str, str]]],
) -> None:
    http, services, tokens = signed
    with services.database.session() as session:
        renewed = new_token(session, "officer").token
    assert http.get("/missing", headers=tokens["officer"]).status_code == 401
    assert http.get("/missing", headers={"Authorization": f"Bearer {renewed}"}).status_code == 200


def test_a_disabled_user_gets_no_new_token_unless_enabled(
    signed: tuple[TestClient, Services, dict[str, dict[str, str]]],
) -> None:
    _, services, _ = signed
    with services.database.session() as session:
        disable_user(session, "officer")
    with services.database.session() as session, pytest.raises(InvalidRecordError):
        new_token(session, "officer")
    with services.database.session() as session:
        assert new_token(session, "officer", enable=True).user.disabled_at is None
