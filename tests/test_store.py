"""The store on SQLite and PostgreSQL: upserts, photos, candidates, decisions, audit."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from records import (
    AuditEvent,
    CandidateStatus,
    Database,
    DatePrecision,
    DecisionConflictError,
    DuplicateRecordError,
    Face,
    FoundStatus,
    InvalidRecordError,
    MissingReport,
    MissingStatus,
    Photo,
    PhotoStatus,
    RecordNotFoundError,
    Sex,
    Side,
)
from records.inputs import FoundFields, MissingFields
from records.storage import person_records
from records.storage.audit_log import audit
from records.storage.candidate_pairs import (
    count_candidates,
    get_candidate,
    list_candidates,
    upsert_candidate,
)
from records.storage.person_records import (
    Change,
    all_found,
    all_missing,
    create_missing,
    get_found,
    get_missing,
    set_status,
    upsert_found,
    upsert_missing,
)
from records.storage.photos import (
    FaceFields,
    PhotoFields,
    add_photo,
    delete_photo,
    face_index_rows,
    face_owners,
    searchable_faces,
)
from records.storage.reviewer_decisions import record_decision


def _report(ref: str = "M1", **changes: object) -> MissingFields:
    values: dict[str, object] = {
        "ref": ref, "name": "刘建华", "aliases": ("阿华",), "sex": Sex.MALE,
        "birth_year": 1962, "missing_date": date(2023, 3, 2), "hometown": "四川省南充市",
        "reporter_contact": "138-0000-0000",
    }  # fmt: skip
    values.update(changes)
    return MissingFields(**values)  # type: ignore[arg-type]


def _found(ref: str = "F1", **changes: object) -> FoundFields:
    values: dict[str, object] = {
        "ref": ref, "name": "牛建华", "sex": Sex.MALE, "age_min": 58, "age_max": 66,
        "found_date": date(2024, 5, 11), "accent": "四川口音",
    }  # fmt: skip
    values.update(changes)
    return FoundFields(**values)  # type: ignore[arg-type]


def test_migrations_apply_twice_without_change(database: Database) -> None:
    database.upgrade()
    assert database.has_schema()


def test_the_migrations_build_the_schema_the_models_describe(database: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from records.models import Base

    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_server_default": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], "a model change without its migration"


def test_a_name_the_station_gave_is_stored_and_left_out_of_matching(database: Database) -> None:
    from matching.views import found_view

    with database.session() as session:
        upsert_found(session, _found("F1", name="党新民", aliases=("阿明",), name_assigned=True))
        upsert_found(session, _found("F2", name="党新民"))
    with database.session() as session:
        given, own = get_found(session, "F1"), get_found(session, "F2")
        assert given.name == "党新民" and given.name_assigned and not own.name_assigned
        assert found_view(given).names == ("阿明",), "only the person's own 小名 is compared"
        assert found_view(own).names == ("党新民",)


def test_upsert_is_created_then_unchanged_then_updated(database: Database) -> None:
    with database.session() as session:
        record, change = upsert_missing(session, _report())
        assert change is Change.CREATED
        assert record.birth_precision is DatePrecision.YEAR
    with database.session() as session:
        _, change = upsert_missing(session, _report())
        assert change is Change.UNCHANGED
    with database.session() as session:
        _, change = upsert_missing(session, _report(height_cm=170.0))
        assert change is Change.UPDATED
    with database.session() as session:
        stored = get_missing(session, "M1")
        assert stored.name == "刘建华"
        assert stored.aliases == ["阿华"]
        assert stored.height_cm == 170.0
        assert stored.created_at.tzinfo is UTC


@pytest.mark.parametrize("when", ["before_the_lookup", "during_the_insert"])
def test_a_ref_another_writer_stores_after_the_check_is_a_duplicate(
    database: Database, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    # Two requests for the same ref; the other one commits first: before this one looks
    # the ref up, or between the lookup and the insert.
    race = {"armed": True}

    def other_writer() -> None:
        if race.pop("armed", False):
            with database.session() as other:
                create_missing(other, MissingFields(ref="M1", name="王芳"))

    if when == "before_the_lookup":
        upsert = person_records.upsert_missing

        def upsert_after_other(session: Session, fields: MissingFields, **kw: Any) -> Any:
            other_writer()
            return upsert(session, fields, **kw)

        monkeypatch.setattr(person_records, "upsert_missing", upsert_after_other)
    else:
        applied = person_records._apply

        def apply_then_other(record: Any, fields: Any) -> None:
            applied(record, fields)
            other_writer()

        monkeypatch.setattr(person_records, "_apply", apply_then_other)
    with pytest.raises(DuplicateRecordError), database.session() as session:
        create_missing(session, MissingFields(ref="M1", name="刘建华"))
    with database.session() as session:
        assert get_missing(session, "M1").name == "王芳", "the other writer's record stands"


def test_creating_commits_nothing_before_the_session_does(database: Database) -> None:
    # SQLite's driver would commit a savepoint's work on its release: a create must
    # leave everything to the session's own commit.
    with pytest.raises(RuntimeError), database.session() as session:
        create_missing(session, MissingFields(ref="M1", name="刘建华"))
        raise RuntimeError("the request fails after the create")
    with database.session() as session, pytest.raises(RecordNotFoundError):
        get_missing(session, "M1")


def test_missing_record_raises_not_found(database: Database) -> None:
    with database.session() as session, pytest.raises(RecordNotFoundError):
        get_missing(session, "nope")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ref": ""}, "ref"),
        ({"birth_year": 1800}, "birth_year"),
        ({"height_cm": 900.0}, "height_cm"),
        ({"birth_date": date(1960, 1, 1), "birth_year": 1962}, "birth_year"),
        ({"missing_date": date(2999, 1, 1)}, "missing_date"),
        ({"missing_place": "四川" * 101}, "missing_place"),
        ({"reporter_contact": "1" * 201}, "reporter_contact"),
        ({"dialect": "川" * 65}, "dialect"),
    ],
)
def test_invalid_report_fields_are_refused(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidRecordError) as caught:
        _report(**changes)
    assert caught.value.field == field


def test_found_age_range_must_be_ordered() -> None:
    with pytest.raises(InvalidRecordError, match="age_min"):
        _found(age_min=70, age_max=60)


@pytest.mark.parametrize(
    ("field", "limit"), [("found_place", 200), ("accent", 64), ("station", 200),
                         ("station_case_no", 64), ("hometown", 200)],
)  # fmt: skip
def test_found_texts_longer_than_their_columns_are_refused(
    database: Database, field: str, limit: int
) -> None:
    with pytest.raises(InvalidRecordError) as caught:
        _found(**{field: "字" * (limit + 1)})
    assert caught.value.field == field
    # At the limit the row is stored, on PostgreSQL as on SQLite.
    with database.session() as session:
        upsert_found(session, _found(**{field: "字" * limit}))


def _face(number: int, *, searchable: bool = True) -> FaceFields:
    return FaceFields(
        face_no=number, box=(10, 60, 60, 10), width_px=50, sharpness=12.5,
        embedding=bytes(range(256)) * 2, model="test-model", searchable=searchable,
    )  # fmt: skip


def _photo(sha: str, status: PhotoStatus = PhotoStatus.ONE_FACE) -> PhotoFields:
    return PhotoFields(
        sha256=sha, stored_path=f"/tmp/{sha}.jpg", size_bytes=1000, width=100, height=100,
        status=status, taken_year=2020,
    )  # fmt: skip


def test_photos_and_faces_belong_to_one_record(database: Database) -> None:
    with database.session() as session:
        report, _ = upsert_missing(session, _report())
        person, _ = upsert_found(session, _found())
        add_photo(session, report, _photo("a" * 64), [_face(0)])
        add_photo(session, person, _photo("b" * 64, PhotoStatus.SEVERAL_FACES),
                  [_face(0, searchable=False), _face(1, searchable=False)])  # fmt: skip
        add_photo(session, person, _photo("c" * 64, PhotoStatus.NO_FACE), [])
    with database.session() as session:
        missing_faces = searchable_faces(session, Side.MISSING)
        assert len(missing_faces) == 1
        assert searchable_faces(session, Side.FOUND) == []
        owners = face_owners(session, [missing_faces[0][0]])
        assert owners[missing_faces[0][0]] == (Side.MISSING, report.id)
        statuses = sorted(p.status.value for p in session.scalars(select(Photo)))
        assert statuses == ["no_face", "one_face", "several_faces"]


def test_the_same_photo_cannot_be_stored_twice_for_one_record(database: Database) -> None:
    with pytest.raises(IntegrityError), database.session() as session:
        report, _ = upsert_missing(session, _report())
        add_photo(session, report, _photo("a" * 64), [])
        add_photo(session, report, _photo("a" * 64), [])


def test_rematching_never_overwrites_a_reviewers_decision(database: Database) -> None:
    with database.session() as session:
        report, _ = upsert_missing(session, _report())
        person, _ = upsert_found(session, _found())
        candidate, change = upsert_candidate(
            session, missing_id=report.id, found_id=person.id, score=3.0, probability=0.9,
            evidence={"signals": []}, model_version="v1",
        )  # fmt: skip
        assert change is Change.CREATED
        candidate_id = candidate.id
    with database.session() as session:
        record_decision(session, candidate_id, reviewer="王审核", status=CandidateStatus.REJECTED,
                        reason="不同的人")  # fmt: skip
    with database.session() as session:
        row, change = upsert_candidate(
            session, missing_id=report.id, found_id=person.id, score=5.0, probability=0.97,
            evidence={"signals": []}, model_version="v2",
        )  # fmt: skip
        assert change is Change.UPDATED
        assert row.status is CandidateStatus.REJECTED
    with database.session() as session:
        stored = get_candidate(session, candidate_id)
        assert stored.score == 5.0
        assert [d.reviewer for d in stored.decisions] == ["王审核"]
        assert stored.decisions[0].decided_at <= datetime.now(UTC)


def test_a_decision_on_another_pair_than_seen_or_on_a_closed_case_is_refused(
    database: Database,
) -> None:
    with database.session() as session:
        report, _ = upsert_missing(session, _report())
        person, _ = upsert_found(session, _found())
        candidate, _ = upsert_candidate(
            session, missing_id=report.id, found_id=person.id, score=3.0, probability=0.9,
            evidence={"signals": []}, model_version="v1",
        )  # fmt: skip
        candidate_id = candidate.id
    with database.session() as session:
        with pytest.raises(DecisionConflictError, match="no longer the pair"):
            record_decision(session, candidate_id, reviewer="王", status=CandidateStatus.REJECTED,
                            reason=None, seen=("M1", "F9"))  # fmt: skip
        record_decision(session, candidate_id, reviewer="王", status=CandidateStatus.NEEDS_DNA,
                        reason=None, seen=("M1", "F1"))  # fmt: skip
    with database.session() as session:
        set_status(session, Side.MISSING, "M1", MissingStatus.REUNITED)
    with database.session() as session, pytest.raises(DecisionConflictError, match="closed"):
        record_decision(session, candidate_id, reviewer="王", status=CandidateStatus.CONFIRMED,
                        reason=None)  # fmt: skip
    with database.session() as session:
        stored = get_candidate(session, candidate_id)
        assert stored.status is CandidateStatus.NEEDS_DNA
        assert [d.status for d in stored.decisions] == [CandidateStatus.NEEDS_DNA]


def test_candidates_are_ranked_per_found_person(database: Database) -> None:
    with database.session() as session:
        reports = [upsert_missing(session, _report(f"M{i}"))[0] for i in range(3)]
        people = [upsert_found(session, _found(f"F{i}"))[0] for i in range(2)]
        for j, person in enumerate(people):
            for i, report in enumerate(reports):
                upsert_candidate(
                    session, missing_id=report.id, found_id=person.id, score=float(i - j),
                    probability=None, evidence={}, model_version="v1",
                )  # fmt: skip
    with database.session() as session:
        ranked = list_candidates(session, limit=None)
        assert [r.candidate.score for r in ranked] == sorted(
            (r.candidate.score for r in ranked), reverse=True
        )
        firsts = list_candidates(session, max_rank=1, limit=None)
        assert {(r.candidate.missing.ref, r.candidate.found.ref) for r in firsts} == {
            ("M2", "F0"),
            ("M2", "F1"),
        }
        assert all(r.rank == 1 for r in firsts)
        pending = list_candidates(session, status=CandidateStatus.CONFIRMED)
        assert pending == []


def test_audit_log_keeps_who_did_what(database: Database) -> None:
    with database.session() as session:
        audit(session, actor="reviewer-1", action="decide", subject_kind="candidate",
              subject_id=7, detail={"status": "rejected"})  # fmt: skip
    with database.session() as session:
        event = session.scalars(select(AuditEvent)).one()
        assert (event.actor, event.action, event.subject_id) == ("reviewer-1", "decide", "7")
        assert event.at.tzinfo is UTC


def test_deleting_a_report_removes_its_photos_and_candidates(database: Database) -> None:
    with database.session() as session:
        report, _ = upsert_missing(session, _report())
        person, _ = upsert_found(session, _found())
        add_photo(session, report, _photo("a" * 64), [_face(0)])
        upsert_candidate(session, missing_id=report.id, found_id=person.id, score=1.0,
                         probability=None, evidence={}, model_version="v1")  # fmt: skip
    with database.session() as session:
        session.delete(session.scalars(select(MissingReport)).one())
    with database.session() as session:
        assert session.scalars(select(Photo)).all() == []
        assert list_candidates(session) == []


def test_closed_cases_leave_matching_faces_names_and_candidates(database: Database) -> None:
    with database.session() as session:
        reports = [upsert_missing(session, _report(f"M{i}"))[0] for i in range(2)]
        people = [upsert_found(session, _found(f"F{i}", station="南充救助站"))[0]
                  for i in range(2)]  # fmt: skip
        for i, report in enumerate(reports):
            add_photo(session, report, _photo(f"{i}" * 64), [_face(0)])
            for j, person in enumerate(people):
                upsert_candidate(
                    session, missing_id=report.id, found_id=person.id, score=float(2 * i + j),
                    probability=None, evidence={}, model_version="v1",
                )  # fmt: skip
        for j, person in enumerate(people):
            add_photo(session, person, _photo(f"f{j}" * 32), [_face(0)])
    with database.session() as session:
        assert count_candidates(session) == 4
        record, previous = set_status(session, Side.MISSING, "M1", MissingStatus.REUNITED)
        assert previous is MissingStatus.OPEN and record.status is MissingStatus.REUNITED
        set_status(session, Side.FOUND, "F1", FoundStatus.LEFT)  # left care: still looked for
    with database.session() as session:
        ranked = list_candidates(session, limit=None)
        assert {(r.candidate.missing.ref, r.candidate.found.ref) for r in ranked} == {
            ("M0", "F0"), ("M0", "F1"),
        }  # fmt: skip
        assert all(r.rank == 1 for r in ranked)  # ranked among open cases only
        assert count_candidates(session) == 2
        assert count_candidates(session, include_closed=True) == 4
        assert len(list_candidates(session, include_closed=True, limit=None)) == 4
        assert [r.ref for r in all_missing(session)] == ["M0"]
        assert len(all_missing(session, include_closed=True)) == 2
        assert [p.ref for p in all_found(session)] == ["F0", "F1"]
        assert len(searchable_faces(session, Side.MISSING)) == 1
        rows = face_index_rows(session, Side.FOUND, model="test-model")
        assert [(r.owner_id, r.station, r.sex) for r in rows] == [
            (people[0].id, "南充救助站", Sex.MALE), (people[1].id, "南充救助站", Sex.MALE),
        ]  # fmt: skip
        assert face_index_rows(session, Side.FOUND, model="other") == []
        assert [r.owner_id for r in face_index_rows(
            session, Side.MISSING, model="test-model", owners=[reports[1].id])] == []  # fmt: skip
        set_status(session, Side.FOUND, "F0", FoundStatus.IDENTIFIED)
        assert [p.ref for p in all_found(session)] == ["F1"]
        assert count_candidates(session) == 1
        with pytest.raises(InvalidRecordError, match="status"):
            set_status(session, Side.FOUND, "F0", MissingStatus.CLOSED)
        with pytest.raises(RecordNotFoundError):
            set_status(session, Side.MISSING, "nope", MissingStatus.CLOSED)
        set_status(session, Side.MISSING, "M1", MissingStatus.OPEN)
        assert len(all_missing(session)) == 2


def test_deleting_a_photo_removes_its_faces_and_says_whether_the_file_is_shared(
    database: Database,
) -> None:
    with database.session() as session:
        report, _ = upsert_missing(session, _report())
        person, _ = upsert_found(session, _found())
        kept = add_photo(session, report, _photo("a" * 64), [_face(0), _face(1, searchable=False)])
        shared = add_photo(session, person, _photo("a" * 64), [_face(0)])
        kept_id, shared_id, report_id = kept.id, shared.id, report.id
    with database.session() as session:
        deleted = delete_photo(session, kept_id)
        assert (deleted.side, deleted.owner_id, len(deleted.face_ids)) == (
            Side.MISSING, report_id, 2)  # fmt: skip
        assert not deleted.file_unused  # the found person's photo keeps the same file
    with database.session() as session:
        assert session.get(Photo, kept_id) is None
        assert len(session.scalars(select(Face)).all()) == 1
        assert delete_photo(session, shared_id).file_unused
        with pytest.raises(RecordNotFoundError):
            delete_photo(session, kept_id)


def test_migrations_are_one_line_each_named_by_its_revision() -> None:
    """A store at the newest revision skips the upgrade without loading the migrations,
    which holds only while each file is named by its revision and each follows the one
    before."""
    import re

    from records.database import MIGRATIONS_DIR, newest_revision

    files = sorted((MIGRATIONS_DIR / "versions").glob("[0-9]*_*.py"))
    previous = None
    for path in files:
        text = path.read_text(encoding="utf-8")
        revision = re.search(r'^revision = "(\w+)"', text, re.M)
        down = re.search(r"^down_revision = (None|\"\w+\")", text, re.M)
        assert revision is not None and down is not None, path.name
        assert revision.group(1) == path.name.split("_", 1)[0]
        assert down.group(1) == ("None" if previous is None else f'"{previous}"')
        previous = revision.group(1)
    assert newest_revision() == previous


def test_an_upgraded_store_upgrades_again_to_nothing(database: Database) -> None:
    from records.database import newest_revision

    assert database.revision() == newest_revision()
    database.upgrade()
    assert database.revision() == newest_revision()


def test_open_records_come_in_batches_as_they_come_whole(database: Database) -> None:
    from records.storage.person_records import open_found_in_batches, open_missing_in_batches

    with database.session() as session:
        for k in range(7):
            upsert_missing(session, MissingFields(ref=f"M{k}", name="王芳"))
            upsert_found(session, FoundFields(ref=f"F{k}"))
        set_status(session, Side.MISSING, "M3", MissingStatus.REUNITED)
    with database.session() as session:
        batches = list(open_missing_in_batches(session, size=2))
        assert [len(b) for b in batches] == [2, 2, 2]
        assert [r.id for b in batches for r in b] == [r.id for r in all_missing(session)]
        found = [p.id for b in open_found_in_batches(session, size=3) for p in b]
        assert found == [p.id for p in all_found(session)]
        with pytest.raises(ValueError):
            next(open_missing_in_batches(session, size=0))
