"""Public request and response schemas, split by direction (Create / Public)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from usecases.vocabulary import (
    MAX_ID,
    MAX_REF_LENGTH,
    OLDEST_AGE,
    Candidate,
    CandidateStatus,
    Decision,
    EvidenceScore,
    FoundFields,
    FoundLink,
    FoundLinkDecision,
    FoundPerson,
    FoundStatus,
    LinkStatus,
    MissingFields,
    MissingReport,
    MissingStatus,
    Photo,
    PhotoStatus,
    Role,
    Sex,
)

SexIn = Literal["M", "F", "U", "男", "女"]


def _no_nul(value: str) -> str:
    # PostgreSQL keeps no NUL in a text, and no person's name or place holds one: refused
    # here, on both back ends alike, rather than as a store error far from its cause.
    if "\x00" in value:
        raise ValueError("must not contain a NUL character (\\u0000)")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
"""Any text a request brings (body, path, query, form, header): never a NUL."""


def _blank_is_none(value: object) -> object:
    # A form cannot send null: an optional number left out comes as "" or "null".
    return None if isinstance(value, str) and value.strip().lower() in {"", "null"} else value


BlankIsNone = BeforeValidator(_blank_is_none)
"""For an optional form number (``Annotated[Year | None, BlankIsNone, Form()]``): ``""``
and ``"null"`` mean it is not given."""
Year = Annotated[int, Field(ge=1900, le=2100)]
Age = Annotated[int, Field(ge=0, le=OLDEST_AGE)]
FaceNumber = Annotated[int, Field(ge=0, le=1000, description="which face, counted from 0")]

RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="a stored id")]
"""A stored row's id in a path: within the range the store's keys hold."""
Ref = Annotated[Text, Path(min_length=1, max_length=MAX_REF_LENGTH)]
"""A record's reference in a path."""


def _sex(value: str | None) -> Sex:
    if value is None:
        return Sex.UNKNOWN
    return {"男": Sex.MALE, "女": Sex.FEMALE}.get(value) or Sex(value)


class MissingCreate(BaseModel):
    """A family's report as submitted."""

    model_config = ConfigDict(extra="forbid")

    ref: Text = Field(min_length=1, max_length=64)
    name: Text | None = Field(default=None, max_length=64)
    aliases: list[Text] = Field(default_factory=list, description="other names and 小名")
    sex: SexIn | None = None
    birth_year: int | None = None
    birth_date: date | None = None
    missing_date: date | None = None
    missing_place: Text | None = None
    hometown: Text | None = None
    dialect: Text | None = None
    height_cm: float | None = None
    features: list[Text] = Field(default_factory=list)
    health: list[Text] = Field(default_factory=list)
    reporter_contact: Text | None = Field(default=None, description="sensitive; never listed")

    def to_fields(self) -> MissingFields:
        """The validated domain field set."""
        data = self.model_dump()
        data["sex"] = _sex(self.sex)
        for key in ("aliases", "features", "health"):
            data[key] = tuple(data[key])
        return MissingFields(**data)


class FoundCreate(BaseModel):
    """A station's record of a person in its care as submitted."""

    model_config = ConfigDict(extra="forbid")

    ref: Text = Field(min_length=1, max_length=64)
    name: Text | None = Field(default=None, max_length=64)
    aliases: list[Text] = Field(default_factory=list)
    sex: SexIn | None = None
    age_min: int | None = None
    age_max: int | None = None
    found_date: date | None = None
    found_place: Text | None = None
    accent: Text | None = Field(default=None, description="accent heard (口音)")
    hometown: Text | None = Field(default=None, description="stated hometown fragments")
    height_cm: float | None = None
    features: list[Text] = Field(default_factory=list)
    health: list[Text] = Field(default_factory=list)
    station: Text | None = None
    station_case_no: Text | None = None
    name_assigned: bool = Field(
        default=False,
        description="the name is one the station gave, not the person's own; it is never "
        "compared with reports' names",
    )

    def to_fields(self) -> FoundFields:
        """The validated domain field set."""
        data = self.model_dump()
        data["sex"] = _sex(self.sex)
        for key in ("aliases", "features", "health"):
            data[key] = tuple(data[key])
        return FoundFields(**data)


class FacePublic(BaseModel):
    """A face in a stored photo."""

    face_no: int
    box: tuple[int, int, int, int] = Field(description="top, right, bottom, left in pixels")
    width_px: int
    searchable: bool
    quality_note: str | None = Field(default=None, description="why the face is poor, if it is")


class PhotoPublic(BaseModel):
    """A stored photo and what intake made of it."""

    id: int
    status: PhotoStatus
    detail: str | None
    size_bytes: int
    width: int | None
    height: int | None
    taken_year: int | None
    age_at_photo: int | None
    faces: list[FacePublic]

    @classmethod
    def from_row(cls, photo: Photo) -> PhotoPublic:
        """Build from a stored photo (faces loaded)."""
        return cls(
            id=photo.id,
            status=photo.status,
            detail=photo.status_detail,
            size_bytes=photo.size_bytes,
            width=photo.width,
            height=photo.height,
            taken_year=photo.taken_year,
            age_at_photo=photo.age_at_photo,
            faces=[
                FacePublic(
                    face_no=f.face_no,
                    box=(f.box_top, f.box_right, f.box_bottom, f.box_left),
                    width_px=f.width_px,
                    searchable=f.searchable,
                    quality_note=f.quality_note,
                )
                for f in photo.faces
            ],
        )


class _PersonPublic(BaseModel):
    ref: str
    name: str | None
    aliases: list[str]
    sex: Sex
    height_cm: float | None
    features: list[str]
    health: list[str]
    created_at: datetime
    updated_at: datetime
    photos: list[PhotoPublic] = Field(default_factory=list)


class MissingPublic(_PersonPublic):
    """A report as the API shows it; the reporter's contact only on a single read."""

    birth_year: int | None
    birth_date: date | None
    missing_date: date | None
    missing_place: str | None
    hometown: str | None
    dialect: str | None
    status: str
    reporter_contact: str | None = None

    @classmethod
    def from_row(cls, row: MissingReport, *, with_photos: bool = True) -> MissingPublic:
        """Build from a stored report (without the contact)."""
        return cls(
            ref=row.ref, name=row.name, aliases=row.aliases, sex=row.sex,
            height_cm=row.height_cm, features=row.features, health=row.health,
            created_at=row.created_at, updated_at=row.updated_at,
            photos=[PhotoPublic.from_row(p) for p in row.photos] if with_photos else [],
            birth_year=row.birth_year, birth_date=row.birth_date,
            missing_date=row.missing_date, missing_place=row.missing_place,
            hometown=row.hometown, dialect=row.dialect, status=row.status.value,
        )  # fmt: skip


class FoundPublic(_PersonPublic):
    """A found person's record as the API shows it."""

    age_min: int | None
    age_max: int | None
    found_date: date | None
    found_place: str | None
    accent: str | None
    hometown: str | None
    station: str | None
    station_case_no: str | None
    name_assigned: bool
    status: str

    @classmethod
    def from_row(cls, row: FoundPerson, *, with_photos: bool = True) -> FoundPublic:
        """Build from a stored found person."""
        return cls(
            ref=row.ref, name=row.name, aliases=row.aliases, sex=row.sex,
            height_cm=row.height_cm, features=row.features, health=row.health,
            created_at=row.created_at, updated_at=row.updated_at,
            photos=[PhotoPublic.from_row(p) for p in row.photos] if with_photos else [],
            age_min=row.age_min, age_max=row.age_max, found_date=row.found_date,
            found_place=row.found_place, accent=row.accent, hometown=row.hometown,
            station=row.station, station_case_no=row.station_case_no,
            name_assigned=row.name_assigned, status=row.status.value,
        )  # fmt: skip


class MissingStatusUpdate(BaseModel):
    """Where a report stands now. Only ``open`` reports are searched and matched."""

    model_config = ConfigDict(extra="forbid")

    status: MissingStatus


class FoundStatusUpdate(BaseModel):
    """Where a found person's case stands now; ``identified`` and ``closed`` cases are no
    longer searched or matched (a person who has ``left`` care still is)."""

    model_config = ConfigDict(extra="forbid")

    status: FoundStatus


class MissingsPublic(BaseModel):
    """A page of reports."""

    data: list[MissingPublic]
    count: int


class FoundsPublic(BaseModel):
    """A page of found persons."""

    data: list[FoundPublic]
    count: int


class DecisionPublic(BaseModel):
    """A reviewer's decision."""

    id: int
    reviewer: str
    status: CandidateStatus
    reason: str | None
    decided_at: datetime
    overrides: int | None = Field(default=None, description="the decision this one overrode")

    @classmethod
    def from_row(cls, row: Decision) -> DecisionPublic:
        """Build from a stored decision."""
        return cls(id=row.id, reviewer=row.reviewer, status=row.status, reason=row.reason,
                   decided_at=row.decided_at, overrides=row.overrides_id)  # fmt: skip


class CandidatePublic(BaseModel):
    """A candidate pair with its score, rank and evidence."""

    id: int
    missing_ref: str
    found_ref: str
    missing_name: str | None
    found_name: str | None
    found_name_assigned: bool = Field(
        default=False, description="the found person's name is one the station gave"
    )
    score: float = Field(
        description="log2 odds of the probability: the model's total, calibrated and "
        "shared with competing candidates (evidence.total_weight is the plain sum); "
        "higher is more likely"
    )
    probability: float | None = Field(
        description="after the calibration the evidence records (evidence.calibration), "
        "shared with the other candidates for the same people (evidence.competition)"
    )
    rank: int | None = Field(description="rank among this found person's candidates")
    status: CandidateStatus
    model_version: str
    evidence: dict[str, Any]
    summary: str | None = Field(default=None, description="the evidence in one sentence")
    confirm_by: list[str] = Field(default_factory=list, description="what would confirm it")
    updated_at: datetime
    latest_decision: DecisionPublic | None = Field(
        default=None, description="whose status the candidate has; a new decision names its "
        "id as seen_decision_id (None: undecided)",
    )  # fmt: skip
    decisions: list[DecisionPublic] = Field(default_factory=list)

    @classmethod
    def from_row(
        cls,
        row: Candidate,
        *,
        rank: int | None,
        explanation: EvidenceScore,
        with_decisions: bool = False,
    ) -> CandidatePublic:
        """Build from a stored candidate (records loaded) and its explanation."""
        evidence = explanation.to_json()
        return cls(
            id=row.id, missing_ref=row.missing.ref, found_ref=row.found.ref,
            missing_name=row.missing.name, found_name=row.found.name,
            found_name_assigned=row.found.name_assigned, score=row.score,
            probability=row.probability, rank=rank, status=row.status,
            model_version=row.model_version, evidence=evidence, updated_at=row.updated_at,
            summary=evidence.get("summary"), confirm_by=evidence.get("confirm_by", []),
            latest_decision=None if row.latest_decision is None
            else DecisionPublic.from_row(row.latest_decision),
            decisions=[DecisionPublic.from_row(d) for d in row.decisions] if with_decisions
            else [],
        )  # fmt: skip


class CandidatesPublic(BaseModel):
    """A page of candidates and how many there are in all."""

    data: list[CandidatePublic]
    count: int


class DecisionCreate(BaseModel):
    """A reviewer's decision on a candidate."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["confirmed", "rejected", "needs_dna", "pending"]
    reviewer: Annotated[Text, StringConstraints(strip_whitespace=True, min_length=1,
                                                max_length=100)] | None = Field(
        default=None, description="who decides; a signed-in caller's own name when left out",
    )  # fmt: skip
    reason: Text | None = Field(default=None, max_length=2000)
    missing_ref: Text | None = Field(
        default=None, max_length=64, description="the report seen; with found_ref, a "
        "decision on a candidate that has since become another pair answers 409",
    )  # fmt: skip
    found_ref: Text | None = Field(default=None, max_length=64, description="the person seen")
    seen_decision_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="the candidate's latest decision seen "
        "(latest_decision.id); None: seen undecided. A candidate decided otherwise since "
        "answers 409 naming its latest decision",
    )  # fmt: skip
    override: bool = Field(
        default=False, description="replace the decision seen (seen_decision_id), with a "
        "reason; audited as an override. A decided candidate takes no other decision",
    )  # fmt: skip

    @model_validator(mode="after")
    def _both_refs_or_neither(self) -> DecisionCreate:
        if (self.missing_ref is None) != (self.found_ref is None):
            raise ValueError("give both missing_ref and found_ref (the pair seen), or neither")
        return self


class FoundLinkDecisionPublic(BaseModel):
    """A reviewer's verdict on a found link."""

    id: int
    reviewer: str
    status: LinkStatus = Field(description="confirmed: 同一人 the same person; rejected: "
                               "不是同一人 different people; pending: 待定")  # fmt: skip
    verdict: str = Field(description="the status in words, Chinese first")
    reason: str | None
    decided_at: datetime
    overrides: int | None = Field(default=None, description="the decision this one overrode")

    @classmethod
    def from_row(cls, row: FoundLinkDecision) -> FoundLinkDecisionPublic:
        """Build from a stored decision."""
        return cls(id=row.id, reviewer=row.reviewer, status=row.status,
                   verdict=row.status.words, reason=row.reason, decided_at=row.decided_at,
                   overrides=row.overrides_id)  # fmt: skip


class LinkedPersonPublic(BaseModel):
    """One of a link's two found persons, as the queue shows them."""

    ref: str
    name: str | None
    name_assigned: bool = Field(description="the name is one the station gave: never compared")
    station: str | None
    found_date: date | None
    status: FoundStatus

    @classmethod
    def from_row(cls, row: FoundPerson) -> LinkedPersonPublic:
        """Build from a stored found person."""
        return cls(ref=row.ref, name=row.name, name_assigned=row.name_assigned,
                   station=row.station, found_date=row.found_date, status=row.status)  # fmt: skip


class FoundLinkPublic(BaseModel):
    """Two found persons who may be one person, with the score, evidence and verdicts."""

    id: int
    earlier: LinkedPersonPublic = Field(description="the stay weighed as the earlier one")
    later: LinkedPersonPublic
    score: float = Field(
        description="log2 odds: the evidence model's total (after its calibration, if it "
        "has one); higher is more likely the same person"
    )
    probability: float | None = Field(
        description="the evidence model's reading of the evidence (its prior and m and u "
        "are those of reports against found persons)"
    )
    status: LinkStatus
    verdict: str = Field(description="the status in words, Chinese first")
    model_version: str
    evidence: dict[str, Any] = Field(description="every comparison's term, as candidates have")
    summary: str | None = Field(default=None, description="the evidence in one sentence")
    confirm_by: list[str] = Field(default_factory=list, description="what would confirm it")
    updated_at: datetime
    latest_decision: FoundLinkDecisionPublic | None = Field(
        default=None, description="whose status the link has; a new decision names its id "
        "as seen_decision_id (None: undecided)",
    )  # fmt: skip
    decisions: list[FoundLinkDecisionPublic] = Field(default_factory=list)

    @classmethod
    def from_row(cls, row: FoundLink, *, with_decisions: bool = False) -> FoundLinkPublic:
        """Build from a stored link (both people loaded)."""
        earlier, later = row.stays
        return cls(
            id=row.id, earlier=LinkedPersonPublic.from_row(earlier),
            later=LinkedPersonPublic.from_row(later), score=row.score,
            probability=row.probability, status=row.status, verdict=row.status.words,
            model_version=row.model_version, evidence=row.evidence,
            summary=row.evidence.get("summary"), confirm_by=row.evidence.get("confirm_by", []),
            updated_at=row.updated_at,
            latest_decision=None if row.latest_decision is None
            else FoundLinkDecisionPublic.from_row(row.latest_decision),
            decisions=[FoundLinkDecisionPublic.from_row(d) for d in row.decisions]
            if with_decisions else [],
        )  # fmt: skip


class FoundLinksPublic(BaseModel):
    """A page of found links and how many there are in all."""

    data: list[FoundLinkPublic]
    count: int


class FoundLinkDecisionCreate(BaseModel):
    """A reviewer's verdict on a found link: confirmed (同一人, the same person), rejected
    (不是同一人, different people) or pending (待定, to look again)."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["confirmed", "rejected", "pending"]
    reviewer: Annotated[Text, StringConstraints(strip_whitespace=True, min_length=1,
                                                max_length=100)] | None = Field(
        default=None, description="who decides; a signed-in caller's own name when left out",
    )  # fmt: skip
    reason: Text | None = Field(default=None, max_length=2000, description="a note: why")
    found_refs: (
        Annotated[list[Annotated[Text, StringConstraints(min_length=1, max_length=64)]],
                  Field(min_length=2, max_length=2)] | None
    ) = Field(
        default=None, description="the two found persons seen, in either order; a decision "
        "on a link that has since become another pair answers 409",
    )  # fmt: skip
    seen_decision_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="the link's latest decision seen "
        "(latest_decision.id); None: seen undecided. A link decided otherwise since answers "
        "409 naming its latest decision",
    )  # fmt: skip
    override: bool = Field(
        default=False, description="replace the decision seen (seen_decision_id), with a "
        "reason; audited as an override. A decided link takes no other decision",
    )  # fmt: skip


class FaceBoxPublic(BaseModel):
    """A face found in a query photo."""

    face_no: int
    box: tuple[int, int, int, int]
    width_px: int


class PhotoHitPublic(BaseModel):
    """A record that may be the person in the photo (one hit a record), with its evidence."""

    ref: str
    name: str | None
    photo_id: int | None = Field(default=None, description="the photo of the nearest face")
    distance: float = Field(description="of the record's nearest face")
    level: str = Field(description="the face comparison's level")
    weight: float = Field(description="the face comparison's log2 weight")
    detail: str = Field(description="the face comparison in words")
    probability: float = Field(
        description="that this record is the person in the photo, on face, sex and age, "
        "shared with the other hits (the person is at most one of them)"
    )
    summary: str = Field(description="the evidence in one sentence")
    evidence: dict[str, Any] = Field(description="the breakdown, as candidates carry it")


class PhotoSearchPublic(BaseModel):
    """The result of a photo search."""

    side: str
    face: FaceBoxPublic
    faces_in_photo: int
    photo_year: int | None = Field(
        default=None, description="the year the photo was weighed as taken (None: unknown)"
    )
    hits: list[PhotoHitPublic]


class NameHitPublic(BaseModel):
    """A report whose names fit the query, with the level and the reason."""

    ref: str
    name: str | None
    level: str
    reason: str
    weight: float
    sex: str
    birth_year: int | None


class ProblemPublic(BaseModel):
    """One problem of a refused request: where (``["body", "ref"]``, ``["query",
    "offset"]``) and what."""

    loc: list[str]
    msg: str
    type: str


class ErrorPublic(BaseModel):
    """Every error's body: a short code, a message for people, and a detail for some
    codes (``invalid_request``: a list of :class:`ProblemPublic`; ``several_faces``: every
    face with its box)."""

    error: str = Field(description="a short code: invalid_request, not_found, duplicate, ...")
    message: str
    detail: Any = Field(default=None, description="more, for some codes; else null")


class SignInCreate(BaseModel):
    """A browser signing in: the user's access token, traded once for a cookie."""

    model_config = ConfigDict(extra="forbid")

    token: Annotated[Text, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class SignInPublic(BaseModel):
    """Who the browser is signed in as (``auth`` says whether the server asks at all)."""

    auth: Literal["tokens", "header"]
    signed_in: bool
    name: str | None = None
    role: Role | None = None
    expires_at: datetime | None = None


class JobPublic(BaseModel):
    """One run of the re-match: what it covers, how far it got, how it ended."""

    id: int
    kind: str = Field(description="full: every pair scored; incremental: new or changed records")
    state: str = Field(description="running, done, or abandoned (another run took over)")
    actor: str
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    blocks_done: int
    blocks_total: int
    pairs_scored: int
    pairs_per_second: float | None
    seconds_left: float | None
    detail: dict[str, Any]


class JobsPublic(BaseModel):
    """The latest runs, newest first."""

    data: list[JobPublic]
