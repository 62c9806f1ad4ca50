"""``xunqin doctor``: the store, its photo files and its face index checked against each
other (both back ends), and ``--fix`` repairing what it can."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from sqlalchemy import delete, select

from records import AuditEvent, Database, Face, Photo, PhotoStatus, Side
from records.inputs import MissingFields
from records.photo_store import INCOMING_PREFIX, PhotoStore, sha256_hex
from records.storage.person_records import upsert_missing
from records.storage.photos import FaceFields, PhotoFields, add_photo
from usecases.doctor import DoctorReport, run_doctor
from usecases.face_registry import FaceIndexes

MODEL = "test-model"
TWO_HOURS_AGO = time.time() - 2 * 3600


def _vector(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    return vector / np.linalg.norm(vector)


def _photo(database: Database, ref: str, data: bytes, stored_path: str, seed: int) -> int:
    """A report's photo row with one searchable face; returns the photo's id."""
    with database.session() as session:
        report, _ = upsert_missing(session, MissingFields(ref=ref, name="刘建华"))
        photo = add_photo(session, report, PhotoFields(
            sha256=sha256_hex(data), stored_path=stored_path, size_bytes=len(data), width=9,
            height=9, status=PhotoStatus.ONE_FACE),
            [FaceFields(face_no=0, box=(0, 9, 9, 0), width_px=9, sharpness=None,
                        embedding=_vector(seed).tobytes(), model=MODEL, searchable=True)],
        )  # fmt: skip
        return photo.id


def _old(path: Path) -> Path:
    os.utime(path, (TWO_HOURS_AGO, TWO_HOURS_AGO))
    return path


def _doctor(
    database: Database, photos: PhotoStore, folder: Path, *, fix: bool, check_content: bool = True
) -> DoctorReport:
    return run_doctor(database, photos, FaceIndexes(folder, model=MODEL), actor="admin",
                      fix=fix, check_content=check_content)  # fmt: skip


def test_doctor_finds_each_kind_of_problem_and_fix_repairs_what_it_can(
    database: Database, tmp_path: Path
) -> None:
    photos = PhotoStore(tmp_path / "photos")
    index_folder = tmp_path / "index"
    sound = _photo(database, "M1", b"sound", photos.put(b"sound", "JPEG")[1], 1)
    _, gone = photos.put(b"gone", "JPEG")
    missing = _photo(database, "M2", b"gone", gone, 2)
    photos.locate(gone).unlink()
    _, altered = photos.put(b"altered", "PNG")
    changed = _photo(database, "M3", b"altered", altered, 3)
    photos.locate(altered).write_bytes(b"damaged")
    # An older store's absolute paths: one whose photo this store holds too, one not.
    _, own_copy = photos.put(b"kept here too", "JPEG")
    _old(photos.locate(own_copy))
    outside = _photo(database, "M4", b"kept here too", f"/old-store/photos/{own_copy}", 4)
    lost = _photo(database, "M5", b"elsewhere only", "/old-store/photos/ab/ab.jpg", 5)
    # Files no row names: from a crash before a commit (old), and one in flight (new).
    _, crashed = photos.put(b"written, never committed", "JPEG")
    _old(photos.locate(crashed))
    half = photos.root / "ab" / f"{INCOMING_PREFIX}x1y2"
    half.parent.mkdir(exist_ok=True)
    half.write_bytes(b"half")
    _old(half)
    _, in_flight = photos.put(b"an upload being committed", "JPEG")

    indexes = FaceIndexes(index_folder, model=MODEL)
    indexes.open(database)
    indexes.flush()
    lagging = _photo(database, "M6", b"lag", photos.put(b"lag", "JPEG")[1], 6)
    with database.session() as session:  # a face taken out of the store, not the index
        session.get_one(Face, session.scalars(select(Face.id).where(
            Face.photo_id == sound)).one()).searchable = False  # fmt: skip

    report = _doctor(database, photos, index_folder, fix=False)
    assert report.missing == [missing] and report.changed == [changed]
    assert report.outside == [outside, lost]
    assert sorted(report.orphans) == sorted([crashed, f"ab/{half.name}", own_copy])
    assert report.recent == [in_flight]
    lag = report.index[Side.MISSING]
    assert (lag.missing, lag.extra, lag.unreadable) == (1, 1, None) and lagging
    assert report.problems_left() == 1 + 1 + 2 + 3 + 1
    assert photos.locate(crashed).exists(), "without --fix nothing changes"
    assert FaceIndexes(index_folder, model=MODEL).inspect(database)[Side.MISSING] == lag
    quick = _doctor(database, photos, index_folder, fix=False, check_content=False)
    assert quick.missing == [missing] and quick.changed == []

    fixed = _doctor(database, photos, index_folder, fix=True)
    assert fixed.repointed == [outside]
    assert sorted(fixed.deleted) == sorted([crashed, f"ab/{half.name}"])
    assert not photos.locate(crashed).exists() and not half.exists()
    assert photos.locate(in_flight).exists(), "a file younger than the grace period stays"
    assert photos.locate(own_copy).exists(), "the file a row now names stays"
    assert fixed.index_fixed[Side.MISSING].in_step
    # What --fix cannot do: bring back a file, or find one only the old store holds.
    assert fixed.problems_left() == 3
    with database.session() as session:
        assert session.get_one(Photo, outside).stored_path == own_copy
        assert session.get_one(Photo, missing).stored_path == gone, "the row is kept"
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "doctor")).one()
        assert (event.actor, event.detail) == ("admin", {
            "orphans_deleted": 2, "photos_repointed": 1, "index_entries_redone": 2})  # fmt: skip

    again = _doctor(database, photos, index_folder, fix=True)
    assert again.problems_left() == 3 and again.deleted == []
    with database.session() as session:
        doctor_lines = select(AuditEvent).where(AuditEvent.action == "doctor")
        assert len(session.scalars(doctor_lines).all()) == 1, "a run that changed nothing"


def test_an_unreadable_index_file_is_reported_and_rebuilt(
    database: Database, tmp_path: Path
) -> None:
    photos = PhotoStore(tmp_path / "photos")
    _photo(database, "M1", b"face", photos.put(b"face", "JPEG")[1], 1)
    indexes = FaceIndexes(tmp_path / "index", model=MODEL)
    indexes.open(database)
    indexes.path(Side.FOUND).write_bytes(b"not an index")
    indexes.path(Side.MISSING).write_bytes(b"not an index either")

    report = _doctor(database, photos, tmp_path / "index", fix=False)
    states = report.index
    assert states[Side.MISSING].unreadable and states[Side.MISSING].missing == 1
    assert states[Side.FOUND].unreadable, "no face to index, yet the file is unusable"
    assert report.problems_left() == 2
    fixed = _doctor(database, photos, tmp_path / "index", fix=True)
    assert all(s.in_step for s in fixed.index_fixed.values())
    assert fixed.problems_left() == 0


def _xunqin(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XUNQIN_HOME": str(home)}
    env.pop("XUNQIN_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "api", *args], capture_output=True, text=True,
                          env=env, timeout=300, check=False)  # fmt: skip


def test_the_doctor_command_says_what_it_found_and_exits_1_while_problems_remain(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    database = Database(f"sqlite:///{home / 'xunqin.db'}")
    database.upgrade(photos_dir=home / "photos")
    photos = PhotoStore(home / "photos")
    with database.session() as session:
        report, _ = upsert_missing(session, MissingFields(ref="M1", name="刘建华"))
        add_photo(session, report, PhotoFields(
            sha256="0" * 64, stored_path="00/gone.jpg", size_bytes=1, width=1, height=1,
            status=PhotoStatus.NO_FACE), [])  # fmt: skip
    database.dispose()
    _, orphan = photos.put(b"never committed", "JPEG")
    _old(photos.locate(orphan))

    checked = _xunqin(home, "doctor")
    assert checked.returncode == 1, checked.stderr
    assert "照片文件缺失 1 个 (missing photo files)" in checked.stdout
    assert "多余文件 1 个 (orphan files no photo names)" in checked.stdout
    assert "xunqin doctor --fix" in checked.stdout

    fixed = _xunqin(home, "doctor", "--fix", "--json")
    assert fixed.returncode == 1, "the missing file remains"
    answer = json.loads(fixed.stdout)
    assert answer["deleted_orphans"] == [orphan] and answer["missing_files"] == [1]
    assert answer["problems_left"] == 1 and answer["fixed"] is True

    database = Database(f"sqlite:///{home / 'xunqin.db'}")
    with database.session() as session:
        session.execute(delete(Photo))
    database.dispose()
    clean = _xunqin(home, "doctor")
    assert clean.returncode == 0, clean.stdout
    assert "一切正常 (all in order)" in clean.stdout
