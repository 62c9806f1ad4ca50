"""Reviewers' decisions in the store and through the API, on both back ends: each names the
state it saw, races leave one decision, an override is explicit and audited, and a
candidate's status is its latest decision's."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from records import (
    AlreadyDecidedError,
    AuditEvent,
    Candidate,
    CandidateStatus,
    Database,
    DecisionConflictError,
    InvalidRecordError,
)
from records.database import MIGRATIONS_DIR
from records.inputs import FoundFields, MissingFields
from records.storage import reviewer_decisions
from records.storage.candidate_pairs import (
    get_candidate,
    list_candidates,
    upsert_candidate,
)
from records.storage.person_records import (
    upsert_found,
    upsert_missing,
)
from records.storage.reviewer_decisions import record_decision
from usecases.services import Services

REVIEWERS = ("李审核", "王审核", "赵审核", "陈审核")


def _pair(database: Database, ref: str = "1") -> int:
    with database.session() as session:
        report, _ = upsert_missing(session, MissingFields(ref=f"M{ref}", name="刘建华"))
        person, _ = upsert_found(session, FoundFields(ref=f"F{ref}", name="牛建华"))
        candidate, _ = upsert_candidate(
            session, missing_id=report.id, found_id=person.id, score=3.0, probability=0.9,
            evidence={}, model_version="v1",
        )  # fmt: skip
        return candidate.id


def _decide(database: Database, candidate_id: int, **decision: Any) -> int:
    with database.session() as session:
        return record_decision(session, candidate_id, **decision).id


def _assert_status_is_the_latest_decisions(database: Database, candidate_id: int) -> None:
    with database.session() as session:
        stored = get_candidate(session, candidate_id)
        newest = stored.decisions[-1]
        assert stored.latest_decision_id == newest.id
        assert stored.status is newest.status


@pytest.fixture
def read_together(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Make the next ``n`` decisions all read the candidate before any of them writes:
    each waits after its read until all have read (a race every time, not by luck)."""

    original = reviewer_decisions.get_candidate

    def arm(n: int) -> None:
        barrier = threading.Barrier(n)

        def read_then_wait(session: Any, candidate_id: int) -> Candidate:
            row = original(session, candidate_id)
            barrier.wait(timeout=20)
            return row

        monkeypatch.setattr(reviewer_decisions, "get_candidate", read_then_wait)

    return arm


def _race(
    database: Database, candidate_id: int, decisions: list[dict[str, Any]]
) -> list[int | AlreadyDecidedError]:
    """Each decision in its own thread and session, all at once: the decision id, or the
    conflict it met."""

    def one(decision: dict[str, Any]) -> int | AlreadyDecidedError:
        try:
            return _decide(database, candidate_id, **decision)
        except AlreadyDecidedError as err:
            return err

    with ThreadPoolExecutor(len(decisions)) as pool:
        return list(pool.map(one, decisions))


def _one_winner(
    outcomes: list[int | AlreadyDecidedError], decisions: list[dict[str, Any]]
) -> tuple[int, dict[str, Any]]:
    won = [(o, d) for o, d in zip(outcomes, decisions, strict=True) if isinstance(o, int)]
    assert len(won) == 1, f"one decision of a race is recorded, not {len(won)}"
    winner, decision = won[0]
    for lost in outcomes:
        if isinstance(lost, AlreadyDecidedError):
            assert lost.latest.id == winner
            assert lost.latest.reviewer == decision["reviewer"]
            assert lost.latest.status is decision["status"]
            assert decision["reviewer"] in str(lost) and decision["status"].value in str(lost)
    return winner, decision


def test_of_first_decisions_racing_one_is_recorded_and_the_rest_name_it(
    database: Database, read_together: Callable[[int], None]
) -> None:
    candidate_id = _pair(database)
    decisions = [
        {"reviewer": reviewer, "status": status, "reason": None}
        for reviewer, status in zip(REVIEWERS, [CandidateStatus.CONFIRMED,
                                                CandidateStatus.REJECTED] * 2, strict=True)
    ]  # fmt: skip
    read_together(len(decisions))
    winner, decision = _one_winner(_race(database, candidate_id, decisions), decisions)
    with database.session() as session:
        stored = get_candidate(session, candidate_id)
        assert [d.id for d in stored.decisions] == [winner]
        assert stored.status is decision["status"]
        assert stored.decisions[0].overrides_id is None
    _assert_status_is_the_latest_decisions(database, candidate_id)


def test_of_overrides_racing_one_is_recorded_and_the_status_is_its_own(
    database: Database, read_together: Callable[[int], None]
) -> None:
    candidate_id = _pair(database)
    first = _decide(database, candidate_id, reviewer="李审核", status=CandidateStatus.NEEDS_DNA,
                    reason=None)  # fmt: skip
    seen = first
    for round_no in range(3):
        decisions = [
            {"reviewer": reviewer, "status": status, "reason": f"round {round_no}",
             "seen_decision_id": seen, "override": True}
            for reviewer, status in zip(REVIEWERS, [CandidateStatus.CONFIRMED,
                                                    CandidateStatus.REJECTED] * 2, strict=True)
        ]  # fmt: skip
        read_together(len(decisions))
        winner, _ = _one_winner(_race(database, candidate_id, decisions), decisions)
        _assert_status_is_the_latest_decisions(database, candidate_id)
        with database.session() as session:
            assert get_candidate(session, candidate_id).decisions[-1].overrides_id == seen
        seen = winner
    with database.session() as session:
        assert len(get_candidate(session, candidate_id).decisions) == 4


def test_a_decided_candidate_takes_no_decision_that_does_not_name_and_override_the_latest(
    database: Database,
) -> None:
    candidate_id = _pair(database)
    first = _decide(database, candidate_id, reviewer="李审核", status=CandidateStatus.NEEDS_DNA,
                    reason=None)  # fmt: skip
    attempts: list[tuple[str, dict[str, Any], str]] = [
        ("seen undecided", {}, "was decided since"),
        ("a stale decision", {"seen_decision_id": first + 1000, "override": True},
         "was decided since"),
        ("the latest, not overridden", {"seen_decision_id": first}, "to change it, override"),
    ]  # fmt: skip
    for what, named, message in attempts:
        with pytest.raises(AlreadyDecidedError, match=message) as refused:
            _decide(database, candidate_id, reviewer="王审核", status=CandidateStatus.REJECTED,
                    reason="不是同一人", **named)  # fmt: skip
        latest = refused.value.latest
        assert (latest.id, latest.reviewer, latest.status) == (
            first, "李审核", CandidateStatus.NEEDS_DNA), what  # fmt: skip
        assert "李审核 decided needs_dna at " in str(refused.value)
    for blank in (None, "  "):
        with pytest.raises(InvalidRecordError, match="reason"):
            _decide(database, candidate_id, reviewer="王审核", status=CandidateStatus.REJECTED,
                    reason=blank, seen_decision_id=first, override=True)  # fmt: skip
    with pytest.raises(InvalidRecordError, match="seen_decision_id"):
        _decide(database, candidate_id, reviewer="王审核", status=CandidateStatus.REJECTED,
                reason="不是同一人", override=True)  # fmt: skip
    with database.session() as session:
        stored = get_candidate(session, candidate_id)
        assert [d.id for d in stored.decisions] == [first]
        assert stored.status is CandidateStatus.NEEDS_DNA

    second = _decide(database, candidate_id, reviewer="王审核", status=CandidateStatus.REJECTED,
                     reason="DNA 不符", seen_decision_id=first, override=True)  # fmt: skip
    with database.session() as session:
        stored = get_candidate(session, candidate_id)
        assert [(d.id, d.overrides_id) for d in stored.decisions] == [(first, None),
                                                                     (second, first)]  # fmt: skip
        assert stored.latest_decision is not None and stored.latest_decision.id == second
        assert stored.status is CandidateStatus.REJECTED


def test_an_undecided_candidate_has_nothing_to_override(database: Database) -> None:
    candidate_id = _pair(database)
    with pytest.raises(DecisionConflictError, match="has no decision 7"):
        _decide(database, candidate_id, reviewer="王审核", status=CandidateStatus.REJECTED,
                reason="不是同一人", seen_decision_id=7, override=True)  # fmt: skip
    with database.session() as session:
        assert get_candidate(session, candidate_id).decisions == []


def test_the_status_read_in_the_same_session_is_the_new_decisions(database: Database) -> None:
    candidate_id = _pair(database)
    with database.session() as session:
        before = get_candidate(session, candidate_id)
        decision = record_decision(session, candidate_id, reviewer="李审核",
                                   status=CandidateStatus.CONFIRMED, reason=None)  # fmt: skip
        assert before.status is CandidateStatus.CONFIRMED
        assert before.latest_decision_id == decision.id
        assert [d.id for d in before.decisions] == [decision.id]
        listed = list_candidates(session, status=CandidateStatus.CONFIRMED)
        assert [r.candidate.latest_decision for r in listed] == [decision]


def _downgrade(database: Database, revision: str) -> None:
    with database.engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_the_migration_gives_each_candidate_its_latest_decision_and_that_status(
    database: Database,
) -> None:
    raced, undecided = _pair(database, "1"), _pair(database, "2")
    first = _decide(database, raced, reviewer="李审核", status=CandidateStatus.CONFIRMED,
                    reason=None)  # fmt: skip
    second = _decide(database, raced, reviewer="王审核", status=CandidateStatus.REJECTED,
                     reason="不是同一人", seen_decision_id=first, override=True)  # fmt: skip
    _downgrade(database, "0006")
    # What a race before this revision could leave: the first decision's status.
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE candidates SET status = 'confirmed' WHERE id = :id"),
                           {"id": raced})  # fmt: skip
    database.upgrade()
    with database.session() as session:
        stored = get_candidate(session, raced)
        assert (stored.latest_decision_id, stored.status) == (second, CandidateStatus.REJECTED)
        assert get_candidate(session, undecided).latest_decision_id is None
        assert get_candidate(session, undecided).status is CandidateStatus.PENDING


def _post_at_once(
    http: TestClient, path: str, bodies: list[dict[str, object]]
) -> list[httpx.Response]:
    """Each body posted from its own thread, all released together."""
    start = threading.Barrier(len(bodies))

    def post(body: dict[str, object]) -> httpx.Response:
        start.wait(timeout=20)
        return http.post(path, json=body)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(post, bodies))


def test_reviewers_deciding_at_once_get_one_201_and_409s_naming_who_decided(
    client: tuple[TestClient, Services],
) -> None:
    http, services = client
    reviewers = ["李审核", "王审核", "赵审核", "陈审核"]
    statuses = ["confirmed", "rejected", "needs_dna", "rejected"]
    for candidate_id in [_pair(services.database, str(i)) for i in range(6)]:
        path = f"/candidates/{candidate_id}/decisions"
        seen: int | None = None  # first decisions, then overrides of the one each saw
        for round_no in range(2):
            bodies: list[dict[str, object]] = [
                {"status": status, "reviewer": reviewer, "reason": f"round {round_no}",
                 "seen_decision_id": seen, "override": seen is not None}
                for reviewer, status in zip(reviewers, statuses, strict=True)
            ]  # fmt: skip
            answers = _post_at_once(http, path, bodies)
            won = [a.json() for a in answers if a.status_code == 201]
            assert len(won) == 1, [a.status_code for a in answers]
            winner = won[0]
            assert winner["overrides"] == seen
            for lost in (a for a in answers if a.status_code != 201):
                assert lost.status_code == 409 and lost.json()["error"] == "already_decided"
                named = lost.json()["detail"]["latest_decision"]
                assert (named["id"], named["reviewer"], named["status"]) == (
                    winner["id"], winner["reviewer"], winner["status"])  # fmt: skip
                assert named["decided_at"] and winner["reviewer"] in lost.json()["message"]
            stored = http.get(f"/candidates/{candidate_id}").json()
            assert stored["status"] == stored["decisions"][-1]["status"] == winner["status"]
            assert stored["latest_decision"]["id"] == winner["id"]
            assert len(stored["decisions"]) == round_no + 1
            seen = winner["id"]
    with services.database.session() as session:
        actions = [e.action for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(["decide", "override"])))]  # fmt: skip
    assert sorted(actions) == ["decide"] * 6 + ["override"] * 6


def test_a_decided_candidate_answers_409_naming_its_decision_and_takes_an_audited_override(
    client: tuple[TestClient, Services],
) -> None:
    http, services = client
    candidate_id = _pair(services.database)
    path = f"/candidates/{candidate_id}/decisions"
    listed = http.get("/candidates").json()["data"]
    assert [(c["id"], c["latest_decision"]) for c in listed] == [(candidate_id, None)]
    first = http.post(path, json={"status": "needs_dna", "reviewer": "李审核"})  # seen undecided
    assert first.status_code == 201 and first.json()["overrides"] is None
    first_id = first.json()["id"]
    assert http.get("/candidates").json()["data"][0]["latest_decision"]["reviewer"] == "李审核"

    for seen in ({}, {"seen_decision_id": None}, {"seen_decision_id": first_id},
                 {"seen_decision_id": first_id + 1, "override": True, "reason": "x"}):  # fmt: skip
        again = http.post(path, json={"status": "rejected", "reviewer": "王审核", **seen})
        assert again.status_code == 409 and again.json()["error"] == "already_decided", seen
        body = again.json()
        assert body["detail"]["latest_decision"]["id"] == first_id
        assert body["detail"]["latest_decision"]["reviewer"] == "李审核"
        assert body["detail"]["latest_decision"]["status"] == "needs_dna"
        assert "李审核 decided needs_dna at" in body["message"]
    no_reason = {"status": "rejected", "reviewer": "王审核", "seen_decision_id": first_id,
                 "override": True}  # fmt: skip
    refused = http.post(path, json=no_reason)
    assert refused.status_code == 422 and refused.json()["error"] == "invalid_record"

    override = http.post(path, json={**no_reason, "reason": "DNA 不符"},
                         headers={"X-Xunqin-User": "wang"})  # fmt: skip
    assert override.status_code == 201, override.text
    assert override.json()["overrides"] == first_id
    stored = http.get(f"/candidates/{candidate_id}").json()
    assert stored["status"] == "rejected" and stored["latest_decision"]["reviewer"] == "王审核"
    assert [d["overrides"] for d in stored["decisions"]] == [None, first_id]
    with services.database.session() as session:
        event_ = session.scalars(select(AuditEvent).where(AuditEvent.actor == "wang")).one()
    assert (event_.action, event_.subject_id) == ("override", str(candidate_id))
    assert event_.detail == {"status": "rejected", "decision": override.json()["id"],
                             "overrides": first_id}  # fmt: skip
    page = http.get("/static/review.js").text  # the reviewer page's script
    assert "seen_decision_id" in page and "already_decided" in page and "override" in page, (
        "the reviewer page sends what it saw and offers the override on a 409"
    )
