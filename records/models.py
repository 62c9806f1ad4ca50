"""SQLAlchemy 2 typed models of the domain.

Both kinds of person record keep what was written down as it was written (names are
never overwritten by a normalised form) plus a ``content_hash`` of the imported row, so
a re-import of the same file changes nothing. The reporter's contact is sensitive and
never leaves through list endpoints or exports.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy import (
    Enum as SAEnum,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from records.enums import (
    CandidateStatus,
    DatePrecision,
    FoundStatus,
    LinkStatus,
    MissingStatus,
    PhotoStatus,
    Role,
    Sex,
    Side,
)

MAX_ID: Final = 2**31 - 1
"""The largest id an ``Integer`` key holds on every back end (PostgreSQL's ``integer``)."""


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as naive UTC and always read back as aware UTC.

    SQLite has no time zones; normalising on the way in and out keeps both back ends
    returning the same values.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _enum(enum_type: type[enum.Enum], length: int = 16) -> SAEnum:
    # Stored as the enum's string value in a plain VARCHAR, no native type: migrations
    # stay simple and both back ends agree.
    return SAEnum(
        enum_type,
        native_enum=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    """Declarative base of every model; constraint names follow one convention."""

    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[str]: JSON}


Base.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class _PersonColumns:
    """Columns shared by reports and found persons."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(64))
    aliases: Mapped[list[str]] = mapped_column(default=list)
    sex: Mapped[Sex] = mapped_column(_enum(Sex, 1), default=Sex.UNKNOWN)
    height_cm: Mapped[float | None] = mapped_column(Float)
    features: Mapped[list[str]] = mapped_column(default=list)
    health: Mapped[list[str]] = mapped_column(default=list)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MissingReport(_PersonColumns, Base):
    """A missing-person report (寻亲登记) filed by a family."""

    __tablename__ = "missing_reports"

    birth_date: Mapped[date | None]
    birth_year: Mapped[int | None]
    birth_precision: Mapped[DatePrecision] = mapped_column(
        _enum(DatePrecision), default=DatePrecision.UNKNOWN
    )
    missing_date: Mapped[date | None]
    missing_place: Mapped[str | None] = mapped_column(String(200))
    hometown: Mapped[str | None] = mapped_column(String(200))
    dialect: Mapped[str | None] = mapped_column(String(64))
    # Sensitive: the family's phone or address. Only the record's own read returns it.
    reporter_contact: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[MissingStatus] = mapped_column(_enum(MissingStatus), default=MissingStatus.OPEN)

    photos: Mapped[list[Photo]] = relationship(
        back_populates="missing", cascade="all, delete-orphan", order_by="Photo.id"
    )


class FoundPerson(_PersonColumns, Base):
    """An unidentified person in the care of a rescue station."""

    __tablename__ = "found_persons"

    station: Mapped[str | None] = mapped_column(String(200))
    station_case_no: Mapped[str | None] = mapped_column(String(64))
    age_min: Mapped[int | None]
    age_max: Mapped[int | None]
    found_date: Mapped[date | None]
    found_place: Mapped[str | None] = mapped_column(String(200))
    accent: Mapped[str | None] = mapped_column(String(64))
    hometown: Mapped[str | None] = mapped_column(String(200))
    # The stated name is one the station gave (党新民), not the person's own: kept for
    # the staff who use it, never compared with reports' names.
    name_assigned: Mapped[bool] = mapped_column(default=False, server_default=false())
    status: Mapped[FoundStatus] = mapped_column(_enum(FoundStatus), default=FoundStatus.IN_CARE)

    photos: Mapped[list[Photo]] = relationship(
        back_populates="found", cascade="all, delete-orphan", order_by="Photo.id"
    )

    __table_args__ = (
        CheckConstraint(
            "age_min IS NULL OR age_max IS NULL OR age_min <= age_max", name="age_range"
        ),
    )


class Photo(Base):
    """A photo of a report's or a found person's subject, kept whatever intake made of it."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    side: Mapped[Side] = mapped_column(_enum(Side))
    missing_id: Mapped[int | None] = mapped_column(
        ForeignKey("missing_reports.id", ondelete="CASCADE")
    )
    found_id: Mapped[int | None] = mapped_column(ForeignKey("found_persons.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64))
    stored_path: Mapped[str] = mapped_column(String(500))
    size_bytes: Mapped[int]
    width: Mapped[int | None]
    height: Mapped[int | None]
    taken_date: Mapped[date | None]
    taken_year: Mapped[int | None]
    age_at_photo: Mapped[int | None]
    status: Mapped[PhotoStatus] = mapped_column(_enum(PhotoStatus))
    status_detail: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    missing: Mapped[MissingReport | None] = relationship(back_populates="photos")
    found: Mapped[FoundPerson | None] = relationship(back_populates="photos")
    faces: Mapped[list[Face]] = relationship(
        back_populates="photo", cascade="all, delete-orphan", order_by="Face.face_no"
    )

    __table_args__ = (
        CheckConstraint(
            "(side = 'missing' AND missing_id IS NOT NULL AND found_id IS NULL) OR "
            "(side = 'found' AND found_id IS NOT NULL AND missing_id IS NULL)",
            name="one_owner",
        ),
        UniqueConstraint("missing_id", "sha256", name="uq_photos_missing_sha256"),
        UniqueConstraint("found_id", "sha256", name="uq_photos_found_sha256"),
    )

    @property
    def owner_id(self) -> int:
        """The id of the report or found person the photo belongs to."""
        owner = self.missing_id if self.side is Side.MISSING else self.found_id
        assert owner is not None  # guaranteed by the one_owner constraint
        return owner


class Face(Base):
    """One face detected in a photo, with its box, quality and embedding.

    The id is the face's stable id in the FAISS index. ``searchable`` is false for the
    faces of a photo with several faces until someone says which face is the subject.
    """

    __tablename__ = "faces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"))
    face_no: Mapped[int]
    box_top: Mapped[int]
    box_right: Mapped[int]
    box_bottom: Mapped[int]
    box_left: Mapped[int]
    width_px: Mapped[int]
    sharpness: Mapped[float | None]
    yaw: Mapped[float | None]
    roll: Mapped[float | None]
    quality_note: Mapped[str | None] = mapped_column(String(300))
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    model: Mapped[str] = mapped_column(String(100))
    searchable: Mapped[bool] = mapped_column(default=True)

    photo: Mapped[Photo] = relationship(back_populates="faces")

    __table_args__ = (UniqueConstraint("photo_id", "face_no", name="uq_faces_photo_face_no"),)


class Candidate(Base):
    """A candidate pair of a report and a found person, with its score.

    Its explanation is built when it is read, from the two records, the model and
    ``explanation_basis`` (the calibration and the sharing between rivals its score came
    from): a re-match keeps hundreds of thousands of candidates and reviewers open a few.
    ``evidence`` holds the explanation stored by versions that stored one (empty: none).
    Re-matching updates score and basis but never a reviewer's status. ``status`` is
    always the status of ``latest_decision`` (pending while there is none): both change in
    one conditional update, so the store is the state a reviewer's next decision names.
    """

    __tablename__ = "candidates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    missing_id: Mapped[int] = mapped_column(
        ForeignKey("missing_reports.id", ondelete="CASCADE"), index=True
    )
    found_id: Mapped[int] = mapped_column(
        ForeignKey("found_persons.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[float]
    probability: Mapped[float | None]
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # None is SQL NULL, not JSON null, so "has none" is one test in every back end.
    explanation_basis: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True), default=None
    )
    status: Mapped[CandidateStatus] = mapped_column(
        _enum(CandidateStatus), default=CandidateStatus.PENDING, index=True
    )
    model_version: Mapped[str] = mapped_column(String(64))
    # No foreign key: decisions reference their candidate, and a key each way would be a
    # cycle that inserts and deletes must then order by hand. Only record_decision sets it.
    latest_decision_id: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    missing: Mapped[MissingReport] = relationship()
    found: Mapped[FoundPerson] = relationship()
    decisions: Mapped[list[Decision]] = relationship(
        back_populates="candidate", cascade="all, delete-orphan", order_by="Decision.id"
    )
    latest_decision: Mapped[Decision | None] = relationship(
        primaryjoin="foreign(Candidate.latest_decision_id) == Decision.id", viewonly=True
    )

    __table_args__ = (
        UniqueConstraint("missing_id", "found_id", name="uq_candidates_pair"),
        Index("ix_candidates_score", "score"),
    )


class Decision(Base):
    """A reviewer's decision on a candidate: who, what, when and why.

    ``overrides_id`` is the decision this one replaced, named by the reviewer who saw it
    (None for the candidate's first decision).
    """

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidates.id", ondelete="CASCADE"), index=True
    )
    reviewer: Mapped[str] = mapped_column(String(100))
    status: Mapped[CandidateStatus] = mapped_column(_enum(CandidateStatus))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Not a foreign key: a candidate's decisions go all at once, with the candidate.
    overrides_id: Mapped[int | None] = mapped_column(Integer, default=None)

    candidate: Mapped[Candidate] = relationship(back_populates="decisions")


class FoundLink(Base):
    """A pair of found persons the matcher thinks may be one person, seen at two stations
    or twice at one: its score, evidence and reviewers' verdict.

    The pair is stored once, the smaller id first (``found_a_id < found_b_id``); the
    evidence says which stay it weighed as the earlier. As with a ``Candidate``,
    re-matching updates score and evidence but never the status, which is always the
    status of ``latest_decision`` (pending while there is none).
    """

    __tablename__ = "found_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    found_a_id: Mapped[int] = mapped_column(
        ForeignKey("found_persons.id", ondelete="CASCADE"), index=True
    )
    found_b_id: Mapped[int] = mapped_column(
        ForeignKey("found_persons.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[float]
    probability: Mapped[float | None]
    evidence: Mapped[dict[str, Any]]
    status: Mapped[LinkStatus] = mapped_column(
        _enum(LinkStatus), default=LinkStatus.PENDING, index=True
    )
    model_version: Mapped[str] = mapped_column(String(64))
    # No foreign key, as on candidates: decisions reference their link.
    latest_decision_id: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    found_a: Mapped[FoundPerson] = relationship(foreign_keys=[found_a_id])
    found_b: Mapped[FoundPerson] = relationship(foreign_keys=[found_b_id])
    decisions: Mapped[list[FoundLinkDecision]] = relationship(
        back_populates="link", cascade="all, delete-orphan", order_by="FoundLinkDecision.id"
    )
    latest_decision: Mapped[FoundLinkDecision | None] = relationship(
        primaryjoin="foreign(FoundLink.latest_decision_id) == FoundLinkDecision.id",
        viewonly=True,
    )

    EARLIER_KEY: Final = "earlier_found_id"
    """The key of ``evidence`` naming the stay the evidence weighed as the earlier."""

    @property
    def stays(self) -> tuple[FoundPerson, FoundPerson]:
        """The two people as (earlier stay, later stay), as the evidence weighed them
        (both loaded)."""
        a, b = self.found_a, self.found_b
        return (b, a) if self.evidence.get(self.EARLIER_KEY) == b.id else (a, b)

    __table_args__ = (
        UniqueConstraint("found_a_id", "found_b_id", name="uq_found_links_pair"),
        CheckConstraint("found_a_id < found_b_id", name="ordered_pair"),
        Index("ix_found_links_score", "score"),
    )


class FoundLinkDecision(Base):
    """A reviewer's verdict on a found link (the same person, or different people), who
    gave it, when and why. Kept for good: a later decision overrides it
    (``overrides_id``), never deletes it."""

    __tablename__ = "found_link_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    link_id: Mapped[int] = mapped_column(
        ForeignKey("found_links.id", ondelete="CASCADE"), index=True
    )
    reviewer: Mapped[str] = mapped_column(String(100))
    status: Mapped[LinkStatus] = mapped_column(_enum(LinkStatus))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    overrides_id: Mapped[int | None] = mapped_column(Integer, default=None)

    link: Mapped[FoundLink] = relationship(back_populates="decisions")


class AuditEvent(Base):
    """One line of the audit log: who did what to which record, never personal data."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    subject_kind: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class User(Base):
    """Someone allowed to use the API, with one role. Only a digest of the access token
    is kept: the token itself is shown once, when the user is added."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[Role] = mapped_column(_enum(Role))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(default=None)


class SignInSession(Base):
    """A browser's sign-in. The reviewer page trades a user's access token for a cookie
    once, so the token is never kept in the browser; only a digest of the cookie's
    secret is kept here. A session ends when its user signs out, after an idle spell, at
    the end of its life, or when its user is disabled or given a new token."""

    __tablename__ = "sign_in_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship()


class ScoredPair(Base):
    """A report and a found person the re-match scored at or above its cut-off, with the
    total weight (log2 odds): the competitors every candidate's chance is shared with,
    kept between runs so that a run scores only the pairs of new or changed records."""

    __tablename__ = "scored_pairs"

    missing_id: Mapped[int] = mapped_column(
        ForeignKey("missing_reports.id", ondelete="CASCADE"), primary_key=True
    )
    found_id: Mapped[int] = mapped_column(
        ForeignKey("found_persons.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    weight: Mapped[float]


class ScoredRecord(Base):
    """What a record was when the re-match last scored its pairs: a digest of everything
    the matcher reads of it (fields and faces), to tell a changed record from one that
    is not. No foreign key: it names a record of either side."""

    __tablename__ = "scored_records"

    side: Mapped[Side] = mapped_column(_enum(Side, 8), primary_key=True)
    record_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(32))


class BlockingBound(Base):
    """The weakest guess a found person's bounded blocking kept when it last chose among
    every report: a report that arrives later joins the person's pairs when its guess
    reaches it. No foreign key, as for :class:`ScoredRecord`."""

    __tablename__ = "blocking_bounds"

    found_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    weight: Mapped[float]


class RematchRun(Base):
    """One run of the re-match: what it covers, how far it got, how it ended.

    ``basis`` names the scorer version and the settings its weights depend on; stored
    pairs of another basis are scored again (a full run). A run that did not finish
    (``state`` running) is taken up again by the next start on the same basis.
    """

    __tablename__ = "rematch_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    basis: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(100))
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int]
    blocks_total: Mapped[int] = mapped_column(default=0)
    blocks_done: Mapped[int] = mapped_column(default=0)
    pairs_scored: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class RematchBlock(Base):
    """A block of a run's work that is done: its scored pairs are stored with it, in
    the same transaction, so a run stopped at any point loses at most the blocks in hand."""

    __tablename__ = "rematch_blocks"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("rematch_runs.id", ondelete="CASCADE"), primary_key=True
    )
    block: Mapped[int] = mapped_column(Integer, primary_key=True)
    pairs_scored: Mapped[int]
    pairs_kept: Mapped[int]
