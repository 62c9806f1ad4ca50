"""An import file goes in whole or not at all, reads photos only from its folder, and
says which rows it rejected; on both back ends."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

import usecases.intake
from records import AuditEvent, MissingReport, Photo, Side
from records.errors import ImportRefusedError, PhotoFileRefusedError
from records.inputs import MissingFields
from records.storage.person_records import upsert_missing
from usecases.services import Services


def _sheet(folder: Path, rows: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "missing.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def _stored(services: Services) -> tuple[int, int, list[Path]]:
    """Reports and photos in the store, and the files in the photo store."""
    with services.database.session() as session:
        reports = session.scalar(select(func.count(MissingReport.id))) or 0
        photos = session.scalar(select(func.count(Photo.id))) or 0
    root = services.settings.photos_dir
    files = [p for p in root.rglob("*") if p.is_file()] if root.is_dir() else []
    return reports, photos, files


def _audit(services: Services, action: str) -> list[dict[str, Any]]:
    with services.database.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == action))
        return [dict(event.detail) for event in events]


@pytest.fixture
def station(tmp_path: Path, sample_photos: Path) -> Path:
    """A station's folder with two photos, beside another store's photo."""
    folder = tmp_path / "station"
    (folder / "photos").mkdir(parents=True)
    for name in ("obama.jpg", "biden.jpg"):
        shutil.copy(sample_photos / name, folder / "photos" / name)
    (tmp_path / "other_store").mkdir()
    shutil.copy(sample_photos / "obama2.jpg", tmp_path / "other_store" / "theirs.jpg")
    (folder / "photos" / "escape.jpg").symlink_to(tmp_path / "other_store" / "theirs.jpg")
    return folder


def test_photos_outside_the_folder_refuse_the_file_alike_and_nothing_is_stored(
    database_url: str, make_services: Callable[..., Services], station: Path, tmp_path: Path
) -> None:
    services = make_services(database_url)
    sheet = _sheet(station, [
        {"ref": "M1", "photos": ["photos/obama.jpg"]},
        {"ref": "M2", "photos": ["photos/biden.jpg", "../other_store/theirs.jpg"]},
        {"ref": "M3", "photos": [str(tmp_path / "other_store" / "theirs.jpg")]},
        {"ref": "M4", "photos": ["photos/escape.jpg"]},
        {"ref": "M5", "photos": ["photos/gone.jpg"]},
        {"ref": "M6", "photos": ["/dev/zero"]},
    ])  # fmt: skip
    with pytest.raises(ImportRefusedError) as caught:
        services.ingestor.import_file(sheet, "missing", actor="test")
    same = f"photo {{}}: {PhotoFileRefusedError(services.settings.max_upload_bytes)}"
    assert caught.value.rejected == [
        (2, same.format(2)), (3, same.format(1)), (4, same.format(1)), (5, same.format(1)),
        (6, same.format(1)),
    ]  # fmt: skip
    assert caught.value.rows == 6
    assert _stored(services) == (0, 0, [])
    (refused,) = _audit(services, "import_refused")
    assert refused == {"file": "missing.jsonl", "rows": 6, "rejected": 5}
    assert _audit(services, "import") == []


def test_a_photos_folder_given_is_where_relative_paths_start_and_the_only_one_read(
    database_url: str, make_services: Callable[..., Services], station: Path, tmp_path: Path
) -> None:
    services = make_services(database_url)
    sheet = _sheet(tmp_path / "sheets", [{"ref": "M1", "photos": ["obama.jpg"]}])
    report = services.ingestor.import_file(
        sheet, "missing", actor="test", photos_dir=station / "photos"
    )
    assert report.photos == {"one_face": 1}
    beside = _sheet(tmp_path / "sheets", [{"ref": "M2", "photos": [str(station / "x.jpg")]}])
    shutil.copy(station / "photos" / "biden.jpg", station / "x.jpg")
    with pytest.raises(ImportRefusedError) as caught:
        services.ingestor.import_file(
            beside, "missing", actor="test", photos_dir=station / "photos"
        )
    assert [line for line, _ in caught.value.rejected] == [1]


def test_a_bad_row_half_way_stores_nothing_and_every_rejected_row_is_listed(
    database_url: str, make_services: Callable[..., Services], station: Path
) -> None:
    services = make_services(database_url)
    rows: list[dict[str, Any]] = [{"ref": f"M{n}", "name": "王芳"} for n in range(1, 451)]
    rows[0]["photos"] = ["photos/obama.jpg"]
    rows[300]["sex"] = "X"
    rows[420]["ref"] = "M1"
    sheet = _sheet(station, rows)
    with pytest.raises(ImportRefusedError) as caught:
        services.ingestor.import_file(sheet, "missing", actor="test")
    assert [line for line, _ in caught.value.rejected] == [301, 421]
    assert "sex" in caught.value.rejected[0][1] and "line 1" in caught.value.rejected[1][1]
    assert _stored(services) == (0, 0, [])


def test_a_photo_that_is_no_image_found_while_storing_rolls_everything_back(
    database_url: str, make_services: Callable[..., Services], station: Path
) -> None:
    services = make_services(database_url)
    (station / "photos" / "fake.jpg").write_bytes(b"not an image at all" * 10)
    sheet = _sheet(station, [
        {"ref": "M1", "photos": ["photos/obama.jpg"]},
        {"ref": "M2", "photos": ["photos/biden.jpg", "photos/fake.jpg"]},
        {"ref": "M3", "photos": ["photos/obama.jpg"]},
        {"ref": "M4", "photos": ["photos/fake.jpg"]},
    ])  # fmt: skip
    with pytest.raises(ImportRefusedError) as caught:
        services.ingestor.import_file(sheet, "missing", actor="test")
    assert caught.value.rejected == [
        (2, "photo 2: the file is not an image we can read"),
        (4, "photo 1: the file is not an image we can read"),
    ]
    # The photo files written before the refusal are gone with their rows.
    assert _stored(services) == (0, 0, [])
    assert [len(services.face_indexes[side]) for side in Side] == [0, 0]


def test_a_database_error_half_way_stores_nothing(
    database_url: str,
    make_services: Callable[..., Services],
    station: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = make_services(database_url)
    with services.database.session() as session:
        upsert_missing(session, MissingFields(ref="M0", name="早已在"))

    def failing(session: Session, fields: MissingFields) -> Any:
        if fields.ref == "M3":
            session.execute(text("INSERT INTO no_such_table VALUES (1)"))
        return upsert_missing(session, fields)

    monkeypatch.setattr(usecases.intake, "upsert_missing", failing)
    sheet = _sheet(station, [
        {"ref": "M1", "photos": ["photos/obama.jpg"]}, {"ref": "M2"}, {"ref": "M3"},
        {"ref": "M4"},
    ])  # fmt: skip
    # A store error that is not the row's own (here: a table missing) ends the import as
    # it is, rather than being blamed on line 3; nothing of the file is stored either way.
    with pytest.raises(DBAPIError):
        services.ingestor.import_file(sheet, "missing", actor="test")
    assert _stored(services) == (1, 0, [])


def test_a_good_file_goes_in_whole_once_and_again_changes_nothing(
    database_url: str, make_services: Callable[..., Services], station: Path
) -> None:
    services = make_services(database_url)
    sheet = _sheet(station, [
        {"ref": f"M{n}", "photos": ["photos/obama.jpg"] if n == 1 else []}
        for n in range(1, 251)
    ])  # fmt: skip
    seen: list[tuple[int, int | None]] = []
    report = services.ingestor.import_file(
        sheet, "missing", actor="test", progress=lambda done, total: seen.append((done, total))
    )
    assert report.changes == {"created": 250} and report.photos == {"one_face": 1}
    assert seen == [(200, None), (200, 250), (250, 250)]
    reports, photos, files = _stored(services)
    assert (reports, photos, len(files)) == (250, 1, 1)
    again = services.ingestor.import_file(sheet, "missing", actor="test")
    assert again.changes == {"unchanged": 250} and again.photos == {"unchanged": 1}
    assert [d["records"] for d in _audit(services, "import")] == [
        {"created": 250}, {"unchanged": 250}
    ]  # fmt: skip
