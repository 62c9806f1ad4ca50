"""Photo files named relative to the store's photo folder: reads and deletions never leave
it, a copied store finds its own files, old absolute paths are migrated, and a photo
whose file is gone answers a clear error, not a 500."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update

from api.app import create_app
from indexes import DlibFaceModel
from records import (
    Database,
    Photo,
    PhotoFileChangedError,
    PhotoFileMissingError,
    PhotoPathOutsideError,
    PhotoStatus,
)
from records.database import newest_revision
from records.inputs import MissingFields
from records.photo_store import PhotoStore
from records.storage.person_records import upsert_missing
from records.storage.photos import PhotoFields, add_photo
from tests.conftest import POSTGRES_ADMIN_URL
from usecases.services import Services
from usecases.settings import Settings

_HEAD = newest_revision()


def _upload(http: TestClient, ref: str, photo: Path) -> int:
    assert http.post("/missing", json={"ref": ref, "name": "刘建华"}).status_code == 201
    with photo.open("rb") as handle:
        answer = http.post(f"/missing/{ref}/photos", files={"file": (photo.name, handle)})
    assert answer.status_code == 201, answer.text
    photo_id: int = answer.json()["id"]
    return photo_id


@pytest.mark.parametrize(
    ("description", "stored_path"),
    [
        ("an absolute path (an older store's)", "/srv/old/photos/ab/ab.jpg"),
        ("climbing out by ..", "../xunqin.db"),
        ("climbing out from inside", "ab/../../xunqin.db"),
        ("the folder itself", "."),
        ("nothing", ""),
        ("a symbolic link out of the folder", "ab/link.jpg"),
    ],
)
def test_a_stored_path_never_leads_outside_the_photo_folder(
    tmp_path: Path, description: str, stored_path: str
) -> None:
    store = PhotoStore(tmp_path / "home" / "photos")
    outside = tmp_path / "home" / "xunqin.db"
    (store.root / "ab").mkdir(parents=True)
    outside.write_bytes(b"not a photo")
    (store.root / "ab" / "link.jpg").symlink_to(outside)
    with pytest.raises(PhotoPathOutsideError):
        store.locate(stored_path)
    with pytest.raises(PhotoPathOutsideError):
        store.verified(stored_path, "0" * 64)
    assert store.delete(stored_path) is False, description
    assert outside.read_bytes() == b"not a photo"


def test_a_photo_is_kept_under_a_path_relative_to_the_folder(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path / "photos")
    digest, stored = store.put(b"jpeg bytes", "JPEG")
    assert stored == f"{digest[:2]}/{digest}.jpg"
    assert store.verified(stored, digest).read_bytes() == b"jpeg bytes"
    assert store.delete(stored) is True and store.delete(stored) is False
    with pytest.raises(PhotoFileMissingError):
        store.verified(stored, digest)


def _copy_database(url: str, *, dispose: Callable[[], None]) -> tuple[str, Callable[[], None]]:
    """A copy of a store's database and how to drop it; the original is closed first."""
    dispose()
    if url.startswith("sqlite:///"):
        source = Path(url.removeprefix("sqlite:///"))
        target = source.with_name(f"copy-{source.name}")
        with sqlite3.connect(source) as old, sqlite3.connect(target) as new:
            old.backup(new)
        return f"sqlite:///{target}", lambda: None
    import psycopg

    admin = POSTGRES_ADMIN_URL.replace("+psycopg", "")
    name, original = f"xunqin_copy_{uuid.uuid4().hex[:12]}", url.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{original}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url.rsplit("/", 1)[0] + f"/{name}", drop


def test_a_copied_store_finds_its_photos_and_erasing_there_leaves_the_original(
    database_url: str,
    make_services: Callable[..., Services],
    face_model: DlibFaceModel,
    tmp_path: Path,
    sample_photos: Path,
) -> None:
    original = make_services(database_url)
    with TestClient(create_app(original)) as http:
        photo_id = _upload(http, "M1", sample_photos / "obama.jpg")
    with original.database.session() as session:
        stored_path = session.get_one(Photo, photo_id).stored_path
    assert not Path(stored_path).is_absolute()
    original_file = original.photo_store.locate(stored_path)
    assert original_file.is_relative_to(original.settings.photos_dir.resolve())

    copy_url, drop = _copy_database(database_url, dispose=original.close)
    copy_home = tmp_path / "copy"
    shutil.copytree(original.settings.photos_dir, copy_home / "photos")
    copy = Services(
        Settings(home=copy_home, database_url=copy_url, environment="test"), face_model=face_model
    )
    try:
        with TestClient(create_app(copy)) as http:
            original_file.unlink()  # the copy reads its own file, not the original's
            assert http.get(f"/photos/{photo_id}").content[:2] == b"\xff\xd8"
            original.photo_store.put((sample_photos / "obama.jpg").read_bytes(), "JPEG")
            assert original_file.exists()
            assert http.delete("/missing/M1").status_code == 204
        assert not copy.photo_store.locate(stored_path).exists(), "the copy's file went"
        assert original_file.exists(), "erasing in the copy leaves the original's file"
    finally:
        copy.close()
        drop()


def _old_style_rows(database: Database, paths: list[str]) -> None:
    with database.session() as session:
        report, _ = upsert_missing(session, MissingFields(ref="M1", name="刘建华"))
        for number, path in enumerate(paths):
            add_photo(session, report, PhotoFields(
                sha256=f"{number:064x}", stored_path=path, size_bytes=1, width=1, height=1,
                status=PhotoStatus.NO_FACE), [])  # fmt: skip


def test_the_migration_makes_absolute_paths_under_the_photo_folder_relative(
    database_url: str, tmp_path: Path
) -> None:
    photos = tmp_path / "home" / "photos"
    linked = tmp_path / "linked-photos"
    linked.symlink_to(photos, target_is_directory=True)
    database = Database(database_url)
    database.upgrade(revision="0005")
    outside = "/srv/another-store/photos/cd/cd00.jpg"
    _old_style_rows(database, [
        f"{photos}/ab/ab00.jpg",
        f"{linked}/ab/ab01.png",  # the home reached through a symbolic link
        outside,
        "ef/ef00.jpg",  # already relative
    ])  # fmt: skip
    with pytest.raises(RuntimeError, match="photo folder"):
        database.upgrade()  # absolute paths and no folder to make them relative to
    database.upgrade(photos_dir=linked)
    with database.session() as session:
        paths = list(session.scalars(select(Photo.stored_path).order_by(Photo.id)))
    assert paths == ["ab/ab00.jpg", "ab/ab01.png", outside, "ef/ef00.jpg"]
    with database.engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    database.dispose()
    assert version == _HEAD, "upgraded to the newest revision"


def test_a_photo_whose_file_is_gone_answers_410_not_500(
    database_url: str, make_services: Callable[..., Services], sample_photos: Path
) -> None:
    services = make_services(database_url)
    with TestClient(create_app(services)) as http:
        _answers_for_a_broken_file(http, services, sample_photos)


def _answers_for_a_broken_file(http: TestClient, services: Services, sample_photos: Path) -> None:
    photo_id = _upload(http, "M1", sample_photos / "obama.jpg")
    with services.database.session() as session:
        photo = session.get_one(Photo, photo_id)
    file = services.photo_store.locate(photo.stored_path)
    good = file.read_bytes()

    file.write_bytes(good[:-10])
    changed = http.get(f"/photos/{photo_id}")
    assert (changed.status_code, changed.json()["error"]) == (410, "photo_file_changed")
    file.unlink()
    gone = http.get(f"/photos/{photo_id}")
    assert (gone.status_code, gone.json()["error"]) == (410, "photo_file_missing")
    assert photo.stored_path not in gone.text and photo.sha256 not in gone.text
    with services.database.session() as session:
        session.execute(update(Photo).values(stored_path=f"/elsewhere/{photo.stored_path}"))
    outside = http.get(f"/photos/{photo_id}")
    assert (outside.status_code, outside.json()["error"]) == (409, "photo_file_outside_store")
    assert http.get("/missing/M1").json()["photos"][0]["id"] == photo_id, "the row stays"


def test_a_file_whose_content_changed_is_refused(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path / "photos")
    digest, stored = store.put(b"jpeg bytes", "JPEG")
    store.locate(stored).write_bytes(b"other bytes")
    with pytest.raises(PhotoFileChangedError):
        store.verified(stored, digest)
