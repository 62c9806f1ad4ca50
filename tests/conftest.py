"""Shared fixtures: databases on both back ends, sample photos, the real face model."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from indexes import DlibFaceModel
from records import Database
from usecases.services import Services
from usecases.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SAMPLE_PHOTOS = Path(
    os.environ.get(
        "XUNQIN_SAMPLE_PHOTOS_DIR", REPO / ".cache/face_recognition-1.3.0/tests/test_images"
    )
)
SHARED_FACES = Path(os.environ.get("XUNQIN_FACES_DIR", REPO.parent / "shared" / "faces"))
POSTGRES_ADMIN_URL = os.environ.get(
    "XUNQIN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_reachable() -> bool:
    import psycopg

    try:
        with psycopg.connect(
            POSTGRES_ADMIN_URL.replace("+psycopg", ""), connect_timeout=3
        ) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    """Whether the PostgreSQL server answers; CI makes its absence a failure."""
    reachable = _postgres_reachable()
    if not reachable and os.environ.get("XUNQIN_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required but not reachable at {POSTGRES_ADMIN_URL}")
    return reachable


def _fresh_postgres_database() -> tuple[str, str]:
    import psycopg

    name = f"xunqin_test_{uuid.uuid4().hex[:12]}"
    admin = POSTGRES_ADMIN_URL.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name, POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop_postgres_database(name: str) -> None:
    import psycopg

    admin = POSTGRES_ADMIN_URL.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_available: bool
) -> Iterator[str]:
    """A URL of an empty database, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'xunqin.db'}"
        return
    if not postgres_available:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}")
    name, url = _fresh_postgres_database()
    try:
        yield url
    finally:
        _drop_postgres_database(name)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A migrated, empty store on each back end."""
    db = Database(database_url)
    db.upgrade()
    yield db
    db.dispose()


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty SQLite store, for tests that need only one back end."""
    db = Database(f"sqlite:///{tmp_path / 'xunqin.db'}")
    db.upgrade()
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def sample_photos() -> Path:
    """face_recognition's test photos (``make test`` fetches its source distribution)."""
    if not (SAMPLE_PHOTOS / "obama.jpg").is_file():
        message = f"sample photos missing at {SAMPLE_PHOTOS}: run `make test-assets`"
        if os.environ.get("XUNQIN_REQUIRE_SAMPLE_PHOTOS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return SAMPLE_PHOTOS


@pytest.fixture(scope="session")
def shared_faces() -> Path:
    """The development photos beside the project; tests that need them skip without."""
    if not (SHARED_FACES / "MANIFEST.tsv").is_file():
        pytest.skip(f"development photos not present at {SHARED_FACES}")
    return SHARED_FACES


@pytest.fixture(scope="session")
def face_model() -> DlibFaceModel:
    """The real dlib face model, loaded once for the whole run."""
    return DlibFaceModel()


@pytest.fixture
def make_services(tmp_path: Path, face_model: DlibFaceModel) -> Iterator[Callable[..., Services]]:
    """Build ``Services`` on a fresh home for a given database URL."""
    made: list[Services] = []

    def make(database_url: str | None = None, **settings_fields: Any) -> Services:
        # Faces are read in the test's own process (one at a time) unless a test asks
        # for worker processes: each would load dlib again.
        settings_fields.setdefault("face_workers", 0)
        settings = Settings(home=tmp_path / "home", database_url=database_url, environment="test",
                            **settings_fields)  # fmt: skip
        services = Services(settings, face_model=face_model)
        made.append(services)
        return services

    yield make
    for services in made:
        services.close()


@pytest.fixture
def client(
    database_url: str, make_services: Callable[..., Services]
) -> Iterator[tuple[TestClient, Services]]:
    """The API on a fresh home and database (each back end), through a test client."""
    services = make_services(database_url)
    with TestClient(create_app(services)) as test_client:
        yield test_client, services
