"""The domain model of xunqin and its storage.

Missing-person reports filed by families, found persons in the care of rescue stations,
their photos and faces, the candidate pairs between them, the links between found
persons who may be one person, reviewers' decisions and the audit log. SQLAlchemy 2
models, Alembic migrations, a SQLite file by default and PostgreSQL when asked. This
package imports nothing else of the project.
"""

from records.database import Database
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
from records.errors import (
    AlreadyDecidedError,
    DecisionConflictError,
    DuplicateRecordError,
    InvalidRecordError,
    LatestDecision,
    LinkAlreadyDecidedError,
    PhotoFileChangedError,
    PhotoFileError,
    PhotoFileMissingError,
    PhotoPathOutsideError,
    RecordNotFoundError,
    RecordsError,
)
from records.models import (
    AuditEvent,
    Base,
    Candidate,
    Decision,
    Face,
    FoundLink,
    FoundLinkDecision,
    FoundPerson,
    MissingReport,
    Photo,
    SignInSession,
    User,
)

__all__ = [
    "AlreadyDecidedError",
    "AuditEvent",
    "Base",
    "Candidate",
    "CandidateStatus",
    "Database",
    "DatePrecision",
    "Decision",
    "DecisionConflictError",
    "DuplicateRecordError",
    "Face",
    "FoundLink",
    "FoundLinkDecision",
    "FoundPerson",
    "FoundStatus",
    "InvalidRecordError",
    "LatestDecision",
    "LinkAlreadyDecidedError",
    "LinkStatus",
    "MissingReport",
    "MissingStatus",
    "Photo",
    "PhotoFileChangedError",
    "PhotoFileError",
    "PhotoFileMissingError",
    "PhotoPathOutsideError",
    "PhotoStatus",
    "RecordNotFoundError",
    "RecordsError",
    "Role",
    "Sex",
    "Side",
    "SignInSession",
    "User",
]
