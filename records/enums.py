"""Closed vocabularies of the domain model, stored as their string values."""

from __future__ import annotations

from enum import StrEnum


class Sex(StrEnum):
    """Sex as recorded. ``UNKNOWN`` is missing data, never a disagreement."""

    MALE = "M"
    FEMALE = "F"
    UNKNOWN = "U"


class DatePrecision(StrEnum):
    """How much of a birth date is known."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"
    UNKNOWN = "unknown"


class Side(StrEnum):
    """Which kind of record a photo (or a search) belongs to."""

    MISSING = "missing"
    FOUND = "found"


class MissingStatus(StrEnum):
    """Where a missing-person report stands. Only an open report is searched and matched."""

    OPEN = "open"
    REUNITED = "reunited"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        """Whether the report is still looked for (its faces searched, its candidates listed)."""
        return self is MissingStatus.OPEN


class FoundStatus(StrEnum):
    """Where a found person's case stands.

    A person who has ``LEFT`` the station's care is still unidentified, so still searched
    and matched; ``IDENTIFIED`` and ``CLOSED`` cases are not.
    """

    IN_CARE = "in_care"
    IDENTIFIED = "identified"
    LEFT = "left"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        """Whether the person is still to be identified (searched, matched, listed)."""
        return self in (FoundStatus.IN_CARE, FoundStatus.LEFT)


class CandidateStatus(StrEnum):
    """A candidate pair's review state. Nothing becomes ``CONFIRMED`` without a person."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    NEEDS_DNA = "needs_dna"


class LinkStatus(StrEnum):
    """A link between two found persons: are they one person who passed through two
    stations (or one station twice)? Nothing becomes ``CONFIRMED`` without a person."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    """The same person (同一人)."""
    REJECTED = "rejected"
    """Different people (不是同一人)."""

    @property
    def words(self) -> str:
        """The verdict as a reviewer reads it, Chinese first."""
        return _LINK_WORDS[self]


_LINK_WORDS = {
    LinkStatus.PENDING: "待定 (pending)",
    LinkStatus.CONFIRMED: "同一人 (the same person)",
    LinkStatus.REJECTED: "不是同一人 (different people)",
}


class PhotoStatus(StrEnum):
    """What face detection found in a kept photo (unreadable files are refused, not kept)."""

    ONE_FACE = "one_face"
    NO_FACE = "no_face"
    SEVERAL_FACES = "several_faces"


class Role(StrEnum):
    """What a user of the API may do (see ``api.auth`` for each role's rights)."""

    OFFICER = "officer"
    """A tracing officer or station worker: records, photos, searches, closing cases."""
    REVIEWER = "reviewer"
    """Reads candidates and the records behind them, and decides."""
    ADMIN = "admin"
    """Everything, including erasing records and deleting photos."""
