"""The one settings object: read from ``XUNQIN_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the service keeps its data and how it behaves."""

    model_config = SettingsConfigDict(env_prefix="XUNQIN_", extra="ignore")

    home: Path = Field(default=Path("var"), description="Folder of the database, photos, indexes")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; a SQLite file under home when unset"
    )
    environment: str = Field(default="local", pattern="^(local|test|production)$")
    auth: Literal["tokens", "header"] | None = Field(
        default=None,
        description="tokens: every request carries a user's access token; header: the "
        "caller names themselves (one machine only). Default: tokens in production, "
        "header elsewhere",
    )
    sign_in_hours: float = Field(
        default=8.0, gt=0, description="A browser's sign-in ends this long after it began"
    )
    sign_in_idle_minutes: float = Field(
        default=30.0,
        ge=1,
        description="A browser's sign-in ends after this long unused (at least 1)",
    )
    secure_cookies: bool | None = Field(
        default=None,
        description="Mark the sign-in cookie Secure (HTTPS only). Default: in production, "
        "or when the request came over HTTPS; set true behind a TLS proxy",
    )
    face_workers: int | None = Field(
        default=None,
        ge=0,
        le=64,
        description="Worker processes that read faces in photos (detection, embedding), "
        "shared by uploads, searches and imports. 0: in the calling thread, one photo at "
        "a time. Default: one per core",
    )
    face_queue: int = Field(
        default=8,
        ge=0,
        le=1000,
        description="Photos that may wait for a face worker; past that a request is "
        "answered 503 with Retry-After at once",
    )
    max_upload_bytes: int = 25 * 1024 * 1024
    max_image_pixels: int = 50_000_000
    keep_per_record: int = 20
    weak_name_budget: int = Field(
        default=5_000_000,
        ge=1,
        description="Most pairs the re-match scores for people whose names cannot find "
        "their report (each reaches up to 2,000 reports, fewer when there are many)",
    )
    rematch_pairs_per_person: int = Field(
        default=400,  # usecases.rematch_job.PAIRS_PER_PERSON (a test keeps them one)
        ge=0,
        description="Reports each found person is weighed against in full by the re-match "
        "of a large store (besides face neighbours): the best guessed on everything but "
        "the names and the name keys shared. 0: no bound, every blocked pair is weighed",
    )
    rematch_block_size: int = Field(
        default=200,
        ge=1,
        le=1_000_000,
        description="Found persons per block of the re-match: each block's pairs are "
        "stored with a checkpoint, so a stopped run loses at most the blocks in hand",
    )
    rematch_workers: int = Field(
        default=0,
        ge=0,
        le=256,
        description="Processes that score the re-match's blocks. 0: one per core",
    )
    rematch_executor: Literal["local", "ray"] = Field(
        default="local",
        description="Where the re-match's blocks are scored: local, in processes forked "
        "here; ray, as tasks on the Ray cluster at ray_address (needs the ray extra)",
    )
    ray_address: str | None = Field(
        default=None,
        description="The Ray cluster the re-match's blocks go to (ray://head:10001, auto). "
        "Unset: a Ray instance started for the run, with rematch_workers CPUs",
    )
    model_file: Path | None = Field(
        default=None,
        description="The evidence model's JSON; home/model.json if present, else the shipped one",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    faces_dir: Path = Field(
        default=Path("../shared/faces"),
        description="Development photos for the demo and evaluation, used when present",
    )
    sample_photos_dir: Path = Field(
        default=Path(".cache/face_recognition-1.3.0/tests/test_images"),
        description="face_recognition's test photos from its source distribution",
    )

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, home: Path) -> Path:
        # The database file, the photo folder and the index files are found from the
        # home: a relative home would find them relative to wherever a command ran.
        return home.expanduser().resolve()

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.environment == "production" and (
            self.database_url is None or self.database_url.startswith("sqlite")
        ):
            raise ValueError("production needs XUNQIN_DATABASE_URL pointing at PostgreSQL")
        if self.environment == "production" and self.auth == "header":
            raise ValueError("production needs XUNQIN_AUTH=tokens: users sign in")
        if self.environment == "production" and self.secure_cookies is False:
            raise ValueError("production sends the sign-in cookie over HTTPS only: "
                             "unset XUNQIN_SECURE_COOKIES")  # fmt: skip
        return self

    @property
    def auth_mode(self) -> Literal["tokens", "header"]:
        """How callers are known: by access token, or by the name they give."""
        if self.auth is not None:
            return self.auth
        return "tokens" if self.environment == "production" else "header"

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to ``home/xunqin.db``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'xunqin.db').resolve()}"

    @property
    def photos_dir(self) -> Path:
        """Where photo files are kept; photo rows name their files relative to it."""
        return self.home / "photos"

    @property
    def index_dir(self) -> Path:
        """Where the face index files are kept, beside the database."""
        return self.home / "index"


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once; tests build their own ``Settings``."""
    return Settings()
