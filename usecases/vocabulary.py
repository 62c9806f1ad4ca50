"""The domain's words the interfaces speak: the types, bounds and errors a route or a
command shows, takes or tells, as the layers below define them.

The interfaces (``api/``: the routes, their schemas, the command line) call nothing below
the use cases, yet they must name what the use cases take and give: a side, a sex, a
status, a role, a record or candidate as a type, the bounds an input is checked against
at the edge (``MAX_ID``, ``MAX_REF_LENGTH``, ``OLDEST_AGE``), the fields a record is
filed with, a photo search's query, a candidate's explained score, and the errors a use
case raises. This module is where they reach them: re-exports only, nothing that reads
or writes the store. A new word goes here when an interface needs it; a new thing to do
goes in a use case.
"""

from __future__ import annotations

from indexes import SeveralFacesFoundError
from matching.evidence_model import EvidenceScore
from matching.photo_evidence import OLDEST_AGE, PhotoQuery
from records import (
    Candidate,
    CandidateStatus,
    Decision,
    FoundLink,
    FoundLinkDecision,
    FoundPerson,
    FoundStatus,
    InvalidRecordError,
    LinkStatus,
    MissingReport,
    MissingStatus,
    Photo,
    PhotoStatus,
    RecordsError,
    Role,
    Sex,
    Side,
)
from records.errors import ImportRefusedError
from records.importing import parse_sex
from records.inputs import MAX_REF_LENGTH, FoundFields, MissingFields
from records.models import MAX_ID

__all__ = [
    "MAX_ID",
    "MAX_REF_LENGTH",
    "OLDEST_AGE",
    "Candidate",
    "CandidateStatus",
    "Decision",
    "EvidenceScore",
    "FoundFields",
    "FoundLink",
    "FoundLinkDecision",
    "FoundPerson",
    "FoundStatus",
    "ImportRefusedError",
    "InvalidRecordError",
    "LinkStatus",
    "MissingFields",
    "MissingReport",
    "MissingStatus",
    "Photo",
    "PhotoQuery",
    "PhotoStatus",
    "RecordsError",
    "Role",
    "SeveralFacesFoundError",
    "Sex",
    "Side",
    "parse_sex",
]
