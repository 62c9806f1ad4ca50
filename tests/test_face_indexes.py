"""The face indexes kept in step with the store: per-person search with filters inside
the index, closed cases and deleted photos leaving at once, batched saving."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import usecases.erasure as erasure_module
from indexes import FaceIndex, IndexModelMismatchError
from records import (
    AuditEvent,
    Candidate,
    CandidateStatus,
    Database,
    Face,
    FoundPerson,
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
from records.photo_store import PhotoStore
from records.storage.candidate_pairs import upsert_candidate
from records.storage.person_records import (
    PersonRecord,
    get_person,
    set_status,
    upsert_found,
    upsert_missing,
)
from records.storage.photos import FaceFields, PhotoFields, add_photo
from records.storage.record_erasure import closed_refs
from records.storage.reviewer_decisions import record_decision
from usecases.cases import set_record_status
from usecases.erasure import Erasure, erase_record, erase_records
from usecases.face_registry import FACE_ATTRIBUTES, FaceFilter, FaceIndexes
from usecases.record_photos import delete_photo

MODEL = "test-model"


def _vector(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    return vector / np.linalg.norm(vector)


def _add_photo(
    session: Session, owner: PersonRecord, vector: np.ndarray, name: str, path: str | None = None
) -> int:
    """Store a photo with one face; returns the face's id."""
    photo = add_photo(
        session,
        owner,
        PhotoFields(sha256=name.ljust(64, "0"), stored_path=path or f"/nowhere/{name}.jpg",
                    size_bytes=10, width=10, height=10, status=PhotoStatus.ONE_FACE),
        [FaceFields(face_no=0, box=(0, 9, 9, 0), width_px=9, sharpness=None,
                    embedding=vector.astype(np.float32).tobytes(), model=MODEL,
                    searchable=True)],
    )  # fmt: skip
    return photo.faces[0].id


@pytest.fixture
def store(database: Database) -> Database:
    """Three reports (M1 with two photos) and two found persons at two stations."""
    with database.session() as session:
        m1, _ = upsert_missing(session, MissingFields(
            ref="M1", name="刘建华", sex=Sex.MALE, missing_place="广东东莞市长安镇",
            hometown="四川南充"))  # fmt: skip
        m2, _ = upsert_missing(session, MissingFields(
            ref="M2", name="王芳", sex=Sex.FEMALE, hometown="四川省成都市"))  # fmt: skip
        m3, _ = upsert_missing(session, MissingFields(ref="M3", missing_place="陕西西安"))
        _add_photo(session, m1, _vector(1), "m1a")
        _add_photo(session, m1, _vector(1) + 0.05 * _vector(9), "m1b")
        _add_photo(session, m2, _vector(2), "m2")
        _add_photo(session, m3, _vector(3), "m3")
        f1, _ = upsert_found(session, FoundFields(ref="F1", sex=Sex.MALE,
                                                  station="南充市救助管理站"))  # fmt: skip
        f2, _ = upsert_found(session, FoundFields(ref="F2", sex=Sex.MALE, station="西安救助站"))
        _add_photo(session, f1, _vector(1), "f1")
        _add_photo(session, f2, _vector(1) + 0.01 * _vector(8), "f2")
    return database


def _ref(session: Session, side: Side, owner_id: int) -> str:
    row = session.get(MissingReport if side is Side.MISSING else FoundPerson, owner_id)
    assert row is not None
    return row.ref


def _search(indexes: FaceIndexes, database: Database, side: Side, query: np.ndarray,
            where: FaceFilter | None = None, k: int = 10) -> list[tuple[str, float]]:  # fmt: skip
    with database.session() as session:
        hits = indexes.search_persons(side, query, k, model=MODEL, where=where)[0]
        return [(_ref(session, side, h.person), h.distance) for h in hits]


def test_one_hit_a_person_and_filters_inside_the_search(store: Database, tmp_path: Path) -> None:
    indexes = FaceIndexes(tmp_path / "index", model=MODEL)
    assert indexes.open(store) == {Side.MISSING: 4, Side.FOUND: 2}
    query = _vector(1)

    hits = _search(indexes, store, Side.MISSING, query)
    assert [ref for ref, _ in hits][0] == "M1"
    assert sorted(ref for ref, _ in hits) == ["M1", "M2", "M3"]  # two photos, one hit
    assert hits[0][1] == pytest.approx(0.0, abs=1e-5)  # by the nearest photo

    cases = [
        ("sex: unknown sex passes", FaceFilter(sex=Sex.MALE), {"M1", "M3"}),
        ("sex: women", FaceFilter(sex=Sex.FEMALE), {"M2", "M3"}),
        ("hometown: a province", FaceFilter(hometown="四川"), {"M1", "M2"}),
        ("hometown: a city", FaceFilter(hometown="成都"), {"M2"}),
        ("region: a province", FaceFilter(region="广东省"), {"M1"}),
        ("region: a county keeps its city", FaceFilter(region="东莞市长安镇"), {"M1"}),
        ("region: a city", FaceFilter(region="西安"), {"M3"}),
        ("region and sex", FaceFilter(region="陕西", sex=Sex.FEMALE), {"M3"}),
        ("no one", FaceFilter(region="北京"), set()),
    ]
    for description, where, expected in cases:
        found = {ref for ref, _ in _search(indexes, store, Side.MISSING, query, where)}
        assert found == expected, description

    # Inside the search: the one nearest woman is found, not cut from an unfiltered top 1.
    assert [ref for ref, _ in _search(indexes, store, Side.MISSING, query,
                                      FaceFilter(sex=Sex.FEMALE), k=1)] == ["M2"]  # fmt: skip
    stations = _search(indexes, store, Side.FOUND, query, FaceFilter(station=" 西安救助站"))
    assert [ref for ref, _ in stations] == ["F2"]
    assert _search(indexes, store, Side.FOUND, query, FaceFilter(station="别的站")) == []

    with pytest.raises(InvalidRecordError) as caught:
        FaceFilter(region="大山里").filters(Side.MISSING)
    assert caught.value.field == "region"
    with pytest.raises(InvalidRecordError) as caught:
        FaceFilter(station="西安救助站").filters(Side.MISSING)
    assert caught.value.field == "station"


def test_closing_a_case_and_deleting_a_photo_take_faces_out_at_once(
    store: Database, tmp_path: Path
) -> None:
    indexes = FaceIndexes(tmp_path / "index", model=MODEL)
    indexes.open(store)
    query = _vector(1)

    record = set_record_status(store, indexes, Side.MISSING, "M1", MissingStatus.REUNITED,
                               actor="li")  # fmt: skip
    assert record.status is MissingStatus.REUNITED
    assert "M1" not in {ref for ref, _ in _search(indexes, store, Side.MISSING, query)}
    assert len(indexes[Side.MISSING]) == 2
    set_record_status(store, indexes, Side.MISSING, "M1", MissingStatus.OPEN, actor="li")
    assert _search(indexes, store, Side.MISSING, query)[0][0] == "M1"

    set_record_status(store, indexes, Side.FOUND, "F2", FoundStatus.LEFT, actor="li")
    assert len(indexes[Side.FOUND]) == 2  # left care, still unidentified: still searched
    set_record_status(store, indexes, Side.FOUND, "F2", FoundStatus.IDENTIFIED, actor="li")
    assert [ref for ref, _ in _search(indexes, store, Side.FOUND, query)] == ["F1"]

    photos = PhotoStore(tmp_path / "photos")
    _, stored = photos.put(b"jpeg bytes", "JPEG")
    file = photos.locate(stored)
    with store.session() as session:
        m2 = get_person(session, Side.MISSING, "M2")
        face_id = _add_photo(session, m2, _vector(1), "m2b", str(stored))
        photo_id = session.get_one(Face, face_id).photo_id
    indexes.add(Side.MISSING, [face_id], _vector(1).reshape(1, -1), model=MODEL)
    assert face_id in indexes[Side.MISSING].ids().tolist()
    delete_photo(store, indexes, photo_id, actor="li", photo_store=photos)
    assert face_id not in indexes[Side.MISSING].ids().tolist()
    assert len(indexes[Side.MISSING]) == 4
    assert not file.exists()

    with store.session() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        actions = [(e.action, e.subject_kind, e.detail) for e in events]
    assert ("set_status", "missing", {"from": "open", "to": "reunited"}) in actions
    assert ("set_status", "found", {"from": "left", "to": "identified"}) in actions
    assert actions[-1][0] == "delete_photo" and actions[-1][2]["faces"] == 1
    assert all(e.actor == "li" for e in events)

    # Nothing in step is redone on the next start.
    indexes.flush()
    assert FaceIndexes(indexes.folder, model=MODEL).open(store) == {
        Side.MISSING: 0,
        Side.FOUND: 0,
    }


def test_changes_are_saved_in_batches_and_a_crash_between_is_redone(
    store: Database, tmp_path: Path
) -> None:
    indexes = FaceIndexes(tmp_path / "index", model=MODEL, save_every=3)
    indexes.open(store)
    path = indexes.path(Side.MISSING)

    def saved_ids() -> list[int]:
        return sorted(FaceIndex.load(path, model=MODEL).ids().tolist())

    on_disk = saved_ids()
    new_faces = []
    with store.session() as session:
        m3 = get_person(session, Side.MISSING, "M3")
        for seed in range(20, 24):
            new_faces.append(_add_photo(session, m3, _vector(seed), f"n{seed}"))
    vectors = np.stack([_vector(seed) for seed in range(20, 24)])
    indexes.add(Side.MISSING, new_faces[:1], vectors[:1], model=MODEL)
    assert indexes.unsaved(Side.MISSING) == 1
    assert saved_ids() == on_disk  # not written on every add
    indexes.add(Side.MISSING, new_faces[1:3], vectors[1:3], model=MODEL)
    assert indexes.unsaved(Side.MISSING) == 0  # the third change wrote the file
    assert saved_ids() == sorted(on_disk + new_faces[:3])
    indexes.add(Side.MISSING, new_faces[3:], vectors[3:], model=MODEL)
    assert indexes.unsaved(Side.MISSING) == 1

    # A crash now: the next start finds the face missing from the file and adds it.
    after_crash = FaceIndexes(indexes.folder, model=MODEL)
    assert after_crash.open(store) == {Side.MISSING: 1, Side.FOUND: 0}
    assert sorted(after_crash[Side.MISSING].ids().tolist()) == sorted(on_disk + new_faces)
    assert saved_ids() == sorted(on_disk + new_faces)

    indexes.flush()
    assert indexes.unsaved(Side.MISSING) == 0
    assert saved_ids() == sorted(on_disk + new_faces)
    assert not list(indexes.folder.glob(".*"))  # no temporary files left behind

    with pytest.raises(IndexModelMismatchError):
        indexes.add(Side.MISSING, new_faces, vectors, model="other")
    indexes.flush()  # nothing unsaved: nothing written
    assert indexes.unsaved(Side.FOUND) == 0


def test_a_deleted_face_leaves_the_file_at_once_and_never_comes_back_under_its_id(
    store: Database, tmp_path: Path
) -> None:
    indexes = FaceIndexes(tmp_path / "index", model=MODEL, save_every=1000)
    indexes.open(store)
    path = indexes.path(Side.MISSING)
    with store.session() as session:
        m3 = get_person(session, Side.MISSING, "M3")
        old_face = _add_photo(session, m3, _vector(30), "old")
        old_photo = session.get_one(Face, old_face).photo_id
    indexes.add(Side.MISSING, [old_face], _vector(30).reshape(1, -1), model=MODEL)
    indexes.flush()
    delete_photo(store, indexes, old_photo, actor="li")
    assert old_face not in FaceIndex.load(path, model=MODEL).ids().tolist(), "saved at once"
    # A new photo may take the deleted face's id (SQLite reuses the highest); the server
    # crashes before saving it. The next start must search the new face, not the old.
    with store.session() as session:
        new_face = _add_photo(session, get_person(session, Side.MISSING, "M3"), _vector(31), "new")
    indexes.add(Side.MISSING, [new_face], _vector(31).reshape(1, -1), model=MODEL)
    after_crash = FaceIndexes(indexes.folder, model=MODEL)
    after_crash.open(store)
    nearest = after_crash[Side.MISSING].search(_vector(30).reshape(1, -1), k=1)[0][0]
    assert nearest.id != new_face or nearest.distance > 0.1


def test_a_running_server_finds_faces_another_process_stored(
    store: Database, tmp_path: Path
) -> None:
    server = FaceIndexes(tmp_path / "index", model=MODEL)
    server.open(store)
    assert server.catch_up() == 0, "nothing new: nothing added"
    # The nightly import, in its own process, with its own indexes over the same store.
    importer = FaceIndexes(tmp_path / "index", model=MODEL)
    importer.open(store)
    with store.session() as session:
        m3 = get_person(session, Side.MISSING, "M3")
        face = _add_photo(session, m3, _vector(40), "imported")
    importer.add(Side.MISSING, [face], _vector(40).reshape(1, -1), model=MODEL)
    importer.flush()
    hits = server.search_persons(Side.MISSING, _vector(40).reshape(1, -1), 1, model=MODEL)
    assert hits[0][0].distance < 1e-4, "the server's search caught up with the store"
    assert server.catch_up() == 0


def test_erasing_a_record_takes_everything_of_it_and_keeps_a_count(
    store: Database, tmp_path: Path
) -> None:
    indexes = FaceIndexes(tmp_path / "index", model=MODEL, save_every=1000)
    indexes.open(store)
    photos = PhotoStore(tmp_path / "photos")
    _, own = photos.put(b"only M1's photo", "JPEG")
    _, shared = photos.put(b"a photo M1 and M2 both hold", "JPEG")
    with store.session() as session:
        m1, m2 = get_person(session, Side.MISSING, "M1"), get_person(session, Side.MISSING, "M2")
        f1 = get_person(session, Side.FOUND, "F1")
        own_face = _add_photo(session, m1, _vector(50), "own", own)
        _add_photo(session, m1, _vector(51), "shared-1", shared)
        _add_photo(session, m2, _vector(52), "shared-2", shared)
        candidate, _ = upsert_candidate(
            session, missing_id=m1.id, found_id=f1.id, score=2.0, probability=0.5,
            evidence={}, model_version="v",
        )  # fmt: skip
        record_decision(session, candidate.id, reviewer="r", status=CandidateStatus.NEEDS_DNA,
                        reason="送DNA")  # fmt: skip
        m1_id = m1.id
    indexes.refresh_records(Side.MISSING, [m1_id, m2.id])
    indexes.flush()

    erased = erase_record(store, indexes, Side.MISSING, "M1", actor="admin", photo_store=photos)
    assert (len(erased.photos), erased.candidates, erased.decisions) == (4, 1, 1)
    with store.session() as session:
        with pytest.raises(RecordNotFoundError):
            get_person(session, Side.MISSING, "M1")
        assert session.scalars(select(Photo).where(Photo.missing_id == m1_id)).all() == []
        assert session.scalars(select(Candidate)).all() == []
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "erase")).one()
        assert (event.actor, event.subject_id, event.detail) == (
            "admin",
            str(m1_id),
            {"photos": 4, "candidates": 1, "decisions": 1},
        )
    # Out of the search and of the saved file at once.
    assert m1_id not in indexes[Side.MISSING].entries()[1].tolist()
    saved = FaceIndex.load(indexes.path(Side.MISSING), model=MODEL)
    assert own_face not in saved.ids().tolist()
    assert not photos.locate(own).exists(), "M1's own file went"
    assert photos.locate(shared).exists(), "a file M2 still holds stays"
    with pytest.raises(RecordNotFoundError):
        erase_record(store, indexes, Side.MISSING, "M1", actor="admin")


def test_erasing_many_saves_the_index_once_a_chunk_and_reports_what_was_not_there(
    store: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    indexes = FaceIndexes(tmp_path / "index", model=MODEL, save_every=1000)
    indexes.open(store)
    with store.session() as session:
        faces = {ref: _add_photo(session, get_person(session, Side.MISSING, ref),
                                 _vector(60 + n), ref)
                 for n, ref in enumerate(("M1", "M2", "M3"))}  # fmt: skip
        owners = [get_person(session, Side.MISSING, ref).id for ref in faces]
    indexes.refresh_records(Side.MISSING, owners)
    indexes.flush()
    saves: list[Side] = []
    real_save = FaceIndexes._save

    def counted_save(self: FaceIndexes, side: Side) -> None:
        saves.append(side)
        real_save(self, side)

    monkeypatch.setattr(FaceIndexes, "_save", counted_save)
    monkeypatch.setattr(erasure_module, "ERASE_CHUNK", 2)
    seen: list[tuple[int, int]] = []
    refs = ["M1", "M9", "M2", "M3"]
    done = erase_records(store, indexes, Side.MISSING, refs, actor="sweep",
                         progress=lambda n, total: seen.append((n, total)))  # fmt: skip
    assert sorted(done.erased) == ["M1", "M2", "M3"] and done.not_found == ["M9"]
    assert saves == [Side.MISSING, Side.MISSING], "one save for each chunk of two refs"
    assert seen == [(2, 4), (4, 4)]
    saved = FaceIndex.load(indexes.path(Side.MISSING), model=MODEL)
    assert not set(faces.values()) & set(saved.ids().tolist())
    with store.session() as session:
        erased = session.scalars(select(AuditEvent).where(AuditEvent.action == "erase")).all()
        assert len(erased) == 3, "each record erased has its own audit line"


def test_a_batch_stopped_midway_keeps_its_word_on_what_it_erased(
    store: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    indexes = FaceIndexes(tmp_path / "index", model=MODEL, save_every=1000)
    indexes.open(store)
    photos = PhotoStore(tmp_path / "photos")
    _, path = photos.put(b"only M1's photo", "JPEG")
    with store.session() as session:
        m1 = get_person(session, Side.MISSING, "M1")
        face = _add_photo(session, m1, _vector(70), "M1", str(path))
        m1_id = m1.id
    indexes.refresh_records(Side.MISSING, [m1_id])
    indexes.flush()
    real_erase = erasure_module._erase_in_store

    def failing_on_m2(database: Database, side: Side, ref: str, *, actor: str) -> Any:
        if ref == "M2":
            raise OSError("the store went away")
        return real_erase(database, side, ref, actor=actor)

    monkeypatch.setattr(erasure_module, "_erase_in_store", failing_on_m2)
    erasure = Erasure()
    with pytest.raises(OSError, match="went away"):
        erase_records(store, indexes, Side.MISSING, ["M1", "M2", "M3"], actor="sweep",
                      photo_store=photos, erasure=erasure)  # fmt: skip
    assert list(erasure.erased) == ["M1"]
    assert not photos.locate(path).exists(), "M1's file went with M1, not at the end of the chunk"
    saved = FaceIndex.load(indexes.path(Side.MISSING), model=MODEL)
    assert face not in saved.ids().tolist(), "the chunk's faces left the file all the same"

    # Should the index fail as well, the first error is the one raised.
    def index_gone(side: Side, record_ids: list[int]) -> int:
        raise RuntimeError("index gone too")

    monkeypatch.setattr(indexes, "refresh_records", index_gone)
    with pytest.raises(OSError, match="went away"):
        erase_records(store, indexes, Side.MISSING, ["M3", "M2"], actor="sweep")


def test_a_retention_sweep_finds_closed_cases_unchanged_for_long(store: Database) -> None:
    with store.session() as session:
        set_status(session, Side.FOUND, "F2", FoundStatus.IDENTIFIED)
        set_status(session, Side.MISSING, "M3", MissingStatus.REUNITED)
    later = datetime.now(UTC) + timedelta(days=1)
    with store.session() as session:
        assert closed_refs(session, Side.FOUND, unchanged_since=later) == ["F2"]
        assert closed_refs(session, Side.MISSING, unchanged_since=later) == ["M3"]
        earlier = datetime.now(UTC) - timedelta(days=1)
        assert closed_refs(session, Side.MISSING, unchanged_since=earlier) == []


def _server_then_sweep(store: Database, tmp_path: Path) -> tuple[FaceIndexes, set[int]]:
    """A running server's indexes, and M3's faces, which a retention sweep in its own
    process (its own indexes over the same folder) has just erased and saved."""
    server = FaceIndexes(tmp_path / "index", model=MODEL)
    server.open(store)
    with store.session() as session:
        m3_faces = {f.id for p in get_person(session, Side.MISSING, "M3").photos for f in p.faces}
    sweeper = FaceIndexes(tmp_path / "index", model=MODEL)
    sweeper.open(store)
    erase_record(store, sweeper, Side.MISSING, "M3", actor="sweep")
    return server, m3_faces


def test_a_running_server_never_writes_back_a_face_another_process_erased(
    store: Database, tmp_path: Path
) -> None:
    server, m3_faces = _server_then_sweep(store, tmp_path)
    # The server goes on: a search catches up, and its next save keeps M3 out.
    hits = server.search_persons(Side.MISSING, _vector(3).reshape(1, -1), 5, model=MODEL)
    with store.session() as session:
        assert "M3" not in {_ref(session, Side.MISSING, h.person) for h in hits[0]}
    with store.session() as session:
        m2 = get_person(session, Side.MISSING, "M2")
        _add_photo(session, m2, _vector(60), "later")
    server.refresh_records(Side.MISSING, [m2.id])
    server.flush()
    saved = FaceIndex.load(server.path(Side.MISSING), model=MODEL).ids().tolist()
    assert not m3_faces & set(saved)


def test_a_running_server_that_saves_before_searching_keeps_an_erasure(
    store: Database, tmp_path: Path
) -> None:
    server, m3_faces = _server_then_sweep(store, tmp_path)
    # No search in between: the server's own save (closing another case) comes first.
    set_record_status(store, server, Side.MISSING, "M2", MissingStatus.CLOSED, actor="li")
    saved = FaceIndex.load(server.path(Side.MISSING), model=MODEL).ids().tolist()
    assert not m3_faces & set(saved), "the sweeper's removal was not written over"
    assert not m3_faces & set(server[Side.MISSING].ids().tolist())


def test_faces_the_store_does_not_search_are_not_added(store: Database, tmp_path: Path) -> None:
    indexes = FaceIndexes(tmp_path / "index", model=MODEL)
    with pytest.raises(RuntimeError, match="open"):
        indexes.add(Side.MISSING, [1], _vector(1).reshape(1, -1), model=MODEL)
    indexes.open(store)
    with store.session() as session:
        m3 = get_person(session, Side.MISSING, "M3")
        m3.status = MissingStatus.CLOSED
        face_id = _add_photo(session, m3, _vector(30), "closed")
    indexes.add(Side.MISSING, [face_id], _vector(30).reshape(1, -1), model=MODEL)
    assert face_id not in indexes[Side.MISSING].ids().tolist()


def test_opening_redoes_changed_facts_and_rebuilds_an_index_of_other_attributes(
    store: Database, tmp_path: Path
) -> None:
    indexes = FaceIndexes(tmp_path / "index", model=MODEL)
    indexes.open(store)
    with store.session() as session:
        m2 = get_person(session, Side.MISSING, "M2")
        m2.hometown = "广东省广州市"  # changed by another process (an import)
    reopened = FaceIndexes(indexes.folder, model=MODEL)
    assert reopened.open(store) == {Side.MISSING: 1, Side.FOUND: 0}  # updated in place
    assert {ref for ref, _ in _search(reopened, store, Side.MISSING, _vector(1),
                                      FaceFilter(hometown="广东"))} == {"M2"}  # fmt: skip

    old = FaceIndex(model=MODEL)  # an index file from before attributes were kept
    old.add([1], _vector(1).reshape(1, -1))
    old.save(indexes.path(Side.FOUND))
    rebuilt = FaceIndexes(indexes.folder, model=MODEL)
    assert rebuilt.open(store)[Side.FOUND] == 2
    assert rebuilt[Side.FOUND].attributes == FACE_ATTRIBUTES
    assert FaceIndex.load(indexes.path(Side.FOUND), model=MODEL).attributes == FACE_ATTRIBUTES


def test_search_threads_are_capped_in_each_searching_thread(
    store: Database, tmp_path: Path
) -> None:
    import threading

    import faiss

    indexes = FaceIndexes(tmp_path / "index", model=MODEL, search_threads=1)
    indexes.open(store)
    seen: list[int] = []

    def search_in_a_new_thread() -> None:
        before = faiss.omp_get_max_threads()
        indexes.search_persons(Side.MISSING, _vector(1), 1, model=MODEL)
        seen.extend([before, faiss.omp_get_max_threads()])

    worker = threading.Thread(target=search_in_a_new_thread)
    worker.start()
    worker.join()
    assert seen[1] == 1  # whatever the default was (seen[0]), searches here use one thread
    with pytest.raises(ValueError, match="search_threads"):
        FaceIndexes(tmp_path / "index", model=MODEL, search_threads=0)
