"""Found against found in the store, the use cases, the API and the command line: the same
person at two stations is proposed; reviewers' verdicts persist across re-matches while
stale pending links go; erasure takes a person's links; confirmed links make groups."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.app import create_app
from matching.pooling import pooled_view
from matching.views import found_view
from records import (
    AuditEvent,
    Database,
    DecisionConflictError,
    FoundLink,
    FoundLinkDecision,
    FoundStatus,
    InvalidRecordError,
    LinkAlreadyDecidedError,
    LinkStatus,
    PhotoStatus,
    Role,
    Sex,
    Side,
)
from records.inputs import FoundFields
from records.storage.person_records import get_found, set_status, upsert_found
from records.storage.photos import FaceFields, PhotoFields, add_photo
from records.storage.same_person_links import get_link, list_links, upsert_link
from records.users import add_user
from usecases.erasure import erase_record
from usecases.face_registry import FaceIndexes
from usecases.found_link_review import decide_link
from usecases.found_links import FoundLinkSettings, linked_found_groups, rematch_found
from usecases.services import Services

MODEL = "test-model"


def _vector(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    return vector / np.linalg.norm(vector)


def _near(vector: np.ndarray, distance: float, seed: int) -> np.ndarray:
    """A vector ``distance`` away from ``vector``: another photo of the same face."""
    step = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    step -= step.dot(vector) * vector
    return (vector + distance * step / np.linalg.norm(step)).astype(np.float32)


def _photo(session: Session, ref: str, vector: np.ndarray, year: int) -> None:
    add_photo(
        session,
        get_found(session, ref),
        PhotoFields(sha256=f"{ref}{year}".ljust(64, "0"), stored_path=f"x/{ref}.jpg",
                    size_bytes=10, width=10, height=10, taken_year=year,
                    status=PhotoStatus.ONE_FACE),
        [FaceFields(face_no=0, box=(0, 9, 9, 0), width_px=9, sharpness=None,
                    embedding=vector.astype(np.float32).tobytes(), model=MODEL,
                    searchable=True)],
    )  # fmt: skip


_STAYS: dict[str, dict[str, Any]] = {
    # 刘建华 in Chengdu in 2015; heard as 牛建华 in Chongqing in 2023 (Sichuan n/l).
    "F1": {"name": "刘建华", "sex": Sex.MALE, "age_min": 30, "age_max": 35,
           "found_date": date(2015, 3, 1), "found_place": "四川省成都市", "accent": "四川口音",
           "station": "成都市救助管理站"},
    "F2": {"name": "牛建华", "sex": Sex.MALE, "age_min": 38, "age_max": 45,
           "found_date": date(2023, 6, 1), "found_place": "重庆市", "accent": "四川话",
           "station": "重庆市救助管理站"},
    # The same station, the same day, the same age: another man.
    "F3": {"name": "赵国强", "sex": Sex.MALE, "age_min": 38, "age_max": 45,
           "found_date": date(2023, 6, 1), "found_place": "重庆市", "station": "重庆市救助管理站"},
    # Both stations called an unknown man 党新民.
    "F4": {"name": "党新民", "name_assigned": True, "sex": Sex.MALE, "age_min": 60,
           "age_max": 70, "found_date": date(2019, 1, 1), "found_place": "广东省东莞市"},
    "F5": {"name": "党新民", "name_assigned": True, "sex": Sex.MALE, "age_min": 20,
           "age_max": 25, "found_date": date(2020, 1, 1), "found_place": "黑龙江省哈尔滨市"},
    "F6": {"name": "王芳", "sex": Sex.FEMALE, "age_min": 70, "age_max": 80,
           "found_date": date(2020, 6, 1), "found_place": "广东省广州市"},
}  # fmt: skip


def _load(database: Database, *, faces: bool = True) -> None:
    with database.session() as session:
        for ref, fields in _STAYS.items():
            upsert_found(session, FoundFields(ref=ref, **fields))
        if faces:
            face = _vector(1)
            _photo(session, "F1", face, 2015)
            _photo(session, "F2", _near(face, 0.33, 2), 2023)
            _photo(session, "F3", _vector(3), 2023)


def _ids(database: Database) -> dict[str, int]:
    with database.session() as session:
        return {ref: get_found(session, ref).id for ref in _STAYS}


def _refs(link: FoundLink) -> tuple[str, str]:
    a, b = sorted((link.found_a.ref, link.found_b.ref))
    return a, b


def _pairs(database: Database, **filters: Any) -> list[tuple[str, str]]:
    with database.session() as session:
        return [_refs(link) for link in list_links(session, limit=None, **filters)]


@pytest.fixture
def indexes(database: Database, tmp_path: Path) -> FaceIndexes:
    _load(database)
    face_indexes = FaceIndexes(tmp_path / "index", model=MODEL)
    face_indexes.open(database)
    return face_indexes


@pytest.mark.parametrize("all_pairs_limit", [2_000_000, 0], ids=["all pairs", "blocked"])
def test_the_same_person_at_two_stations_is_proposed_above_others(
    database: Database, indexes: FaceIndexes, all_pairs_limit: int
) -> None:
    # Every pair weighed is kept, however weak: the queue's order is what is tested.
    settings = FoundLinkSettings(all_pairs_limit=all_pairs_limit, min_evidence_weight=-1000.0)
    report = rematch_found(database, face_indexes=indexes, face_model=MODEL, settings=settings)
    assert report.blocked is (all_pairs_limit == 0)
    assert (report.pairs_scored == 15) is not report.blocked, "blocking leaves pairs out"
    queue = _pairs(database)
    assert queue[0] == ("F1", "F2"), queue
    assert _pairs(database, found_id=_ids(database)["F1"])[0] == ("F1", "F2")
    with database.session() as session:
        best = list_links(session, limit=1)[0]
        earlier, later = best.stays
        assert (earlier.ref, later.ref) == ("F1", "F2"), "the earlier stay plays the report"
        signals = {s["signal"]: s for s in best.evidence["signals"]}
        assert signals["name"]["level"] == "dialect_speaker"
        assert signals["age"]["level"] == "within"
        assert signals["face"]["weight"] > 3
        assert best.probability is not None and best.probability > 0.9
        if not report.blocked:
            # Names a station gave never agree (both called 党新民 by their stations).
            (given,) = [link for link in list_links(session, limit=None)
                        if {link.found_a.ref, link.found_b.ref} == {"F4", "F5"}]  # fmt: skip
            name = {s["signal"]: s for s in given.evidence["signals"]}["name"]
            assert name["level"] == "null"


def test_verdicts_persist_across_re_matches_and_stale_pending_links_go(
    database: Database, indexes: FaceIndexes
) -> None:
    run: dict[str, Any] = {"face_indexes": indexes, "face_model": MODEL}
    everything = FoundLinkSettings(min_evidence_weight=-1000.0)  # every pair is a link
    first = rematch_found(database, settings=everything, **run)
    assert first.created == first.kept == first.pairs_scored == 15
    with database.session() as session:
        links = {_refs(link): link.id for link in list_links(session, limit=None)}
    same, different = links[("F1", "F2")], links[("F2", "F3")]
    decide_link(database, same, reviewer="李审核", actor="李审核", status=LinkStatus.CONFIRMED,
                reason="DNA 比对一致")  # fmt: skip
    rejected = decide_link(database, different, reviewer="李审核", actor="李审核",
                           status=LinkStatus.REJECTED)  # fmt: skip
    # Rejected, then set back to pending: pending again, but with a history.
    decide_link(database, different, reviewer="王审核", actor="王审核",
                status=LinkStatus.PENDING, reason="再看看", seen_decision_id=rejected.id,
                override=True)  # fmt: skip
    steady = rematch_found(database, settings=everything, **run)
    assert steady.created == 0 and steady.removed == 0 and steady.unchanged == steady.kept
    narrow = rematch_found(
        database,
        settings=FoundLinkSettings(keep_per_record=1, min_evidence_weight=-1000.0),
        **run,
    )
    assert narrow.removed > 0, "pending links no longer among the best go"
    with database.session() as session:
        stored = {_refs(link): link for link in list_links(session, limit=None)}
        assert stored[("F1", "F2")].status is LinkStatus.CONFIRMED
        assert ("F2", "F3") in stored, "a link with decisions is never removed"
        assert len(get_link(session, different).decisions) == 2, "history is never deleted"
        assert len(stored) < first.kept
        jobs = session.scalars(select(AuditEvent).where(AuditEvent.action == "decide")).all()
        assert {(e.subject_kind, e.detail["status"]) for e in jobs} == {
            ("found_link", "confirmed"), ("found_link", "rejected"),
        }  # fmt: skip


def test_a_person_identified_elsewhere_is_still_linked_but_two_closed_cases_are_not(
    database: Database, indexes: FaceIndexes
) -> None:
    with database.session() as session:
        set_status(session, Side.FOUND, "F1", FoundStatus.IDENTIFIED)
    rematch_found(database, face_indexes=indexes, face_model=MODEL)
    assert _pairs(database)[0] == ("F1", "F2"), "F2 may be the man already identified"
    with database.session() as session:
        set_status(session, Side.FOUND, "F2", FoundStatus.CLOSED)
    rematch_found(database, face_indexes=indexes, face_model=MODEL)
    gone = _pairs(database, include_closed=True)
    assert ("F1", "F2") not in gone, "a pending link of two closed cases goes"


def test_a_verdict_names_what_was_seen_and_an_override_says_why(database: Database) -> None:
    _load(database, faces=False)
    ids = _ids(database)
    with database.session() as session:
        link, _ = upsert_link(session, found_ids=(ids["F2"], ids["F1"]), score=5.0,
                              probability=0.9, evidence={}, model_version="v")  # fmt: skip
        assert (link.found_a_id, link.found_b_id) == (ids["F1"], ids["F2"]), "smaller id first"
        link_id = link.id
    with pytest.raises(DecisionConflictError, match="不是您看到的那一对"):
        decide_link(database, link_id, reviewer="r", actor="r", status=LinkStatus.CONFIRMED,
                    seen_refs=("F1", "F3"))  # fmt: skip
    first = decide_link(database, link_id, reviewer="r", actor="r",
                        status=LinkStatus.CONFIRMED, seen_refs=("F2", "F1"))  # fmt: skip
    with pytest.raises(LinkAlreadyDecidedError, match="^关联 .* 在您查看之后已被判定") as raised:
        decide_link(database, link_id, reviewer="s", actor="s", status=LinkStatus.REJECTED)
    assert raised.value.latest.id == first.id and "同一人" in str(raised.value)
    with pytest.raises(InvalidRecordError, match="理由"):
        decide_link(database, link_id, reviewer="s", actor="s", status=LinkStatus.REJECTED,
                    seen_decision_id=first.id, override=True)  # fmt: skip
    second = decide_link(database, link_id, reviewer="s", actor="s",
                         status=LinkStatus.REJECTED, reason="照片不是同一人",
                         seen_decision_id=first.id, override=True)  # fmt: skip
    assert second.overrides_id == first.id
    with database.session() as session:
        stored = get_link(session, link_id)
        assert stored.status is LinkStatus.REJECTED and stored.latest_decision_id == second.id
        actions = [e.action for e in session.scalars(
            select(AuditEvent).where(AuditEvent.subject_kind == "found_link"))]  # fmt: skip
        assert actions == ["decide", "override"]
        set_status(session, Side.FOUND, "F1", FoundStatus.IDENTIFIED)
        set_status(session, Side.FOUND, "F2", FoundStatus.CLOSED)
    with pytest.raises(DecisionConflictError, match="都已结案"):
        decide_link(database, link_id, reviewer="s", actor="s", status=LinkStatus.PENDING,
                    reason="x", seen_decision_id=second.id, override=True)  # fmt: skip


def test_the_store_keeps_each_pair_once_and_in_order(database: Database) -> None:
    _load(database, faces=False)
    ids = _ids(database)
    with database.session() as session, pytest.raises(InvalidRecordError):
        upsert_link(session, found_ids=(ids["F1"], ids["F1"]), score=0.0, probability=None,
                    evidence={}, model_version="v")  # fmt: skip
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(FoundLink(found_a_id=ids["F2"], found_b_id=ids["F1"], score=0.0,
                              evidence={}, model_version="v"))  # fmt: skip
    with database.session() as session:
        upsert_link(session, found_ids=(ids["F1"], ids["F2"]), score=0.0, probability=None,
                    evidence={}, model_version="v")  # fmt: skip
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(FoundLink(found_a_id=ids["F1"], found_b_id=ids["F2"], score=1.0,
                              evidence={}, model_version="v"))  # fmt: skip


def test_erasing_a_found_person_takes_its_links_and_their_decisions(
    database: Database, indexes: FaceIndexes
) -> None:
    rematch_found(database, face_indexes=indexes, face_model=MODEL)
    ids = _ids(database)
    with database.session() as session:
        mine = [link.id for link in list_links(session, found_id=ids["F2"], limit=None)]
        others = [link.id for link in list_links(session, limit=None) if link.id not in mine]
    assert mine and others
    decide_link(database, mine[0], reviewer="r", actor="r", status=LinkStatus.CONFIRMED)
    erased = erase_record(database, indexes, Side.FOUND, "F2", actor="admin")
    assert (erased.links, erased.link_decisions) == (len(mine), 1)
    with database.session() as session:
        left = set(session.scalars(select(FoundLink.id)))
        assert left == set(others)
        assert session.scalars(select(FoundLinkDecision)).all() == []
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "erase")).one()
        assert event.detail["links"] == len(mine) and event.detail["link_decisions"] == 1


def test_confirmed_links_make_groups_that_pool_into_one_view(database: Database) -> None:
    _load(database, faces=False)
    ids = _ids(database)
    verdicts = [("F1", "F2", LinkStatus.CONFIRMED), ("F2", "F6", LinkStatus.CONFIRMED),
                ("F4", "F5", LinkStatus.REJECTED), ("F3", "F4", LinkStatus.PENDING)]  # fmt: skip
    for a, b, verdict in verdicts:
        with database.session() as session:
            link, _ = upsert_link(session, found_ids=(ids[a], ids[b]), score=1.0,
                                  probability=None, evidence={}, model_version="v")  # fmt: skip
            link_id = link.id
        if verdict is not LinkStatus.PENDING:
            decide_link(database, link_id, reviewer="r", actor="r", status=verdict)
    groups = linked_found_groups(database)
    assert groups == [tuple(sorted((ids["F1"], ids["F2"], ids["F6"])))]
    with database.session() as session:
        views = [found_view(get_found(session, ref)) for ref in ("F6", "F2", "F1")]
    pooled = pooled_view(views)
    assert pooled.ref == "F1" and pooled.names == ("刘建华", "王芳", "牛建华")
    assert pooled.found_date == date(2015, 3, 1)


# --- the API ----------------------------------------------------------------------------


@pytest.fixture
def signed(
    database_url: str, make_services: Callable[..., Services]
) -> Iterator[tuple[TestClient, Services, dict[str, dict[str, str]]]]:
    services = make_services(database_url, auth="tokens")
    _load(services.database, faces=False)
    rematch_found(services.database, face_indexes=None, face_model=None)
    tokens = {}
    with services.database.session() as session:
        for role in Role:
            user = add_user(session, role.value, role)
            tokens[role.value] = {"Authorization": f"Bearer {user.token}"}
    with TestClient(create_app(services)) as http:
        yield http, services, tokens


def test_the_queue_a_link_and_a_verdict_over_http(
    signed: tuple[TestClient, Services, dict[str, dict[str, str]]],
) -> None:
    http, services, tokens = signed
    officer, reviewer = tokens["officer"], tokens["reviewer"]
    queue = http.get("/found-links", headers=officer)
    assert queue.status_code == 200
    body = queue.json()
    assert body["count"] == len(body["data"]) > 0
    best = body["data"][0]
    assert (best["earlier"]["ref"], best["later"]["ref"]) == ("F1", "F2")
    assert best["verdict"].startswith("待定")
    scores = [link["score"] for link in body["data"]]
    assert scores == sorted(scores, reverse=True)
    mine = http.get("/found-links", params={"found": "F6"}, headers=reviewer).json()
    assert mine["data"] and all("F6" in (link["earlier"]["ref"], link["later"]["ref"])
                                for link in mine["data"])  # fmt: skip

    one = http.get(f"/found-links/{best['id']}", headers=reviewer).json()
    assert [s["signal"] for s in one["evidence"]["signals"]][:2] == ["face", "name"]
    assert one["summary"] and one["decisions"] == [] and any("DNA" in s for s in one["confirm_by"])

    decide = f"/found-links/{best['id']}/decision"
    seen = {"found_refs": ["F2", "F1"]}
    assert http.post(decide, json={"status": "confirmed", **seen},
                     headers=officer).status_code == 403  # fmt: skip
    posing = http.post(decide, json={"status": "confirmed", "reviewer": "别人"}, headers=reviewer)
    assert posing.status_code == 403
    made = http.post(decide, json={"status": "confirmed", "reason": "同一人", **seen},
                     headers=reviewer)  # fmt: skip
    assert made.status_code == 201, made.text
    assert made.json()["reviewer"] == "reviewer" and made.json()["verdict"].startswith("同一人")
    again = http.post(decide, json={"status": "rejected"}, headers=reviewer)
    assert again.status_code == 409 and again.json()["error"] == "already_decided"
    assert again.json()["detail"]["latest_decision"]["id"] == made.json()["id"]
    assert again.json()["message"].startswith("关联")
    with services.database.session() as session:
        seen_by = {(e.actor, e.action, e.subject_kind) for e in session.scalars(select(AuditEvent))}
    assert {("officer", "list", "found_link"), ("reviewer", "read", "found_link"),
            ("reviewer", "decide", "found_link")} <= seen_by  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error"),
    [
        ("get", "/found-links?found=NOBODY", None, 404, "not_found"),
        ("get", "/found-links?status=maybe", None, 422, "invalid_request"),
        ("get", "/found-links?limit=0", None, 422, "invalid_request"),
        ("get", "/found-links/0", None, 422, "invalid_request"),
        ("get", "/found-links/99999", None, 404, "not_found"),
        ("get", "/found-links/abc", None, 422, "invalid_request"),
        ("post", "/found-links/99999/decision", {"status": "confirmed"}, 404, "not_found"),
        ("post", "/found-links/1/decision", {"status": "same"}, 422, "invalid_request"),
        ("post", "/found-links/1/decision", {"status": "rejected", "found_refs": ["F1"]}, 422,
         "invalid_request"),
        ("post", "/found-links/1/decision", {"status": "rejected", "found_refs": ["F1", "F6"]},
         409, "decision_conflict"),
        ("post", "/found-links/1/decision", {"status": "rejected", "override": True}, 422,
         "invalid_record"),
        ("post", "/found-links/1/decision", {"status": "rejected", "extra": 1}, 422,
         "invalid_request"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_a_reason_never_a_server_error(
    signed: tuple[TestClient, Services, dict[str, dict[str, str]]],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
    error: str,
) -> None:
    http, _, tokens = signed
    answer = http.request(method.upper(), path, json=body, headers=tokens["reviewer"])
    assert (answer.status_code, answer.json()["error"]) == (status, error), answer.text
    assert answer.json()["message"]


def test_the_command_line_rematches_found_persons_and_lists_their_links(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "XUNQIN_HOME": str(home)}
    env.pop("XUNQIN_DATABASE_URL", None)
    database = Database(f"sqlite:///{home / 'xunqin.db'}")
    database.upgrade()
    _load(database, faces=False)
    database.dispose()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "api", *args], capture_output=True,
                              text=True, env=env, timeout=300, check=False)  # fmt: skip

    done = run("rematch-found", "--actor", "夜间任务")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["found_persons"] == len(_STAYS) and report["created"] == report["kept"] > 0
    listed = run("found-links", "--found", "F1")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (rows[0]["earlier_ref"], rows[0]["later_ref"]) == ("F1", "F2")
    assert all("F1" in (r["earlier_ref"], r["later_ref"]) for r in rows)
    unknown = run("found-links", "--found", "NOBODY")
    assert unknown.returncode == 1 and "NOBODY" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    database = Database(f"sqlite:///{home / 'xunqin.db'}")
    with database.session() as session:
        job = session.scalars(select(AuditEvent).where(AuditEvent.action == "rematch_found")).one()
        assert (job.actor, job.subject_kind) == ("夜间任务", "job")
    database.dispose()
