"""The one settings object: where data lives, and what production refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from usecases.settings import Settings


@pytest.fixture(autouse=True)
def _no_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("XUNQIN_HOME", "XUNQIN_DATABASE_URL", "XUNQIN_ENVIRONMENT", "XUNQIN_AUTH"):
        monkeypatch.delenv(name, raising=False)


def test_a_relative_home_is_taken_from_where_the_process_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(home=Path("var"))
    # Photo paths stored under it stay valid for a server started in another folder.
    assert settings.home == tmp_path.resolve() / "var"
    assert settings.photos_dir.is_absolute() and settings.index_dir.is_absolute()
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.resolve() / 'var' / 'xunqin.db'}"


def test_production_refuses_sqlite() -> None:
    with pytest.raises(ValidationError, match="PostgreSQL"):
        Settings(environment="production")
    with pytest.raises(ValidationError, match="PostgreSQL"):
        Settings(environment="production", database_url="sqlite:///x.db")
    url = "postgresql+psycopg://u@h/db"
    assert Settings(environment="production", database_url=url).resolved_database_url == url


def test_production_signs_users_in() -> None:
    url = "postgresql+psycopg://u@h/db"
    assert Settings(environment="production", database_url=url).auth_mode == "tokens"
    with pytest.raises(ValidationError, match="XUNQIN_AUTH=tokens"):
        Settings(environment="production", database_url=url, auth="header")
    assert Settings().auth_mode == "header", "one development machine: callers name themselves"
    assert Settings(auth="tokens").auth_mode == "tokens"
    with pytest.raises(ValidationError, match="HTTPS only"):
        Settings(environment="production", database_url=url, secure_cookies=False)


def test_the_rematch_bound_defaults_to_the_jobs_own_and_zero_lifts_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from usecases.rematch_job import PAIRS_PER_PERSON
    from usecases.rematching import rematch_settings

    assert Settings().rematch_pairs_per_person == PAIRS_PER_PERSON
    assert rematch_settings(Settings()).pairs_per_person == PAIRS_PER_PERSON
    monkeypatch.setenv("XUNQIN_REMATCH_PAIRS_PER_PERSON", "0")
    assert rematch_settings(Settings()).pairs_per_person is None
    monkeypatch.setenv("XUNQIN_REMATCH_PAIRS_PER_PERSON", "-1")
    with pytest.raises(ValidationError):
        Settings()
