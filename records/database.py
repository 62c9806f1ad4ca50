"""Connecting to the store and bringing its schema up to date.

A SQLite file is the embedded default; any SQLAlchemy URL (PostgreSQL through psycopg)
works the same. The schema is owned by the Alembic migrations beside this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLite ignores foreign keys unless asked per connection; WAL lets readers (the API)
    # go on while the re-match job writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL never corrupts the file; a power cut may lose the last commits.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Database:
    """An engine, a session factory and the schema's migrations for one store."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # SQLAlchemy's message of a failed statement leaves out its values (names,
        # contacts, health of vulnerable people), which would reach logs. PostgreSQL's
        # own error text may still quote a failing row: the API answers such errors
        # without their text, and callers must not log them whole.
        self.engine: Engine = create_engine(
            url, echo=echo, pool_pre_ping=True, hide_parameters=True
        )
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """The back end's name: ``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def upgrade(self, *, photos_dir: Path | None = None, revision: str = "head") -> None:
        """Apply every migration the store does not have yet (up to ``revision``).

        ``photos_dir`` is the store's photo folder: the migration that makes photo paths
        relative needs it, and refuses a store with absolute paths without it.
        """
        if revision == "head" and self.revision() == newest_revision():
            # Nothing to apply: alembic and the migrations are not even imported, which
            # is most of a command's start.
            return
        from alembic import command
        from alembic.config import Config

        with self.engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS_DIR))
            config.attributes["connection"] = connection
            config.attributes["photos_dir"] = photos_dir
            command.upgrade(config, revision)

    def revision(self) -> str | None:
        """The migration the store is at (None: none applied)."""
        if not self.has_schema():
            return None
        with self.engine.connect() as connection:
            found = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return None if found is None else str(found)

    def has_schema(self) -> bool:
        """Whether the migrations have been applied at least once."""
        return "alembic_version" in inspect(self.engine).get_table_names()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends and rolls back on an error."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def newest_revision() -> str:
    """The newest migration's revision: the migrations are numbered in order, one after
    another, and each file is named by its revision (``0010_explanation_basis.py``)."""
    files = (MIGRATIONS_DIR / "versions").glob("[0-9]*_*.py")
    return max(path.name.split("_", 1)[0] for path in files)
