"""Answering a tracing officer at once: reports near a photo, or near a name.

Searching with a photo never guesses which face is meant: several faces raise
``SeveralFacesFoundError`` carrying every face's box, and the caller asks again with
``face_no``. The answer is one hit per person (several photos of one person count once,
by the nearest), restricted by a ``FaceFilter`` inside the index search, and only open
cases are searched. The nearest faces are a shortlist, not the answer: the evidence
model weighs each against the photo and what the officer knows of the person in it, and
the answer is in the order of that evidence (:mod:`matching.photo_evidence`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np

from indexes import (
    DetectionSettings,
    FaceReader,
    FaceTooPoorError,
    ImageLimits,
    NoFaceFoundError,
    SeveralFacesFoundError,
)
from matching.evidence import SignalEvidence
from matching.evidence_model import EvidenceModel, EvidenceScore
from matching.photo_evidence import PhotoQuery, weigh_photo_hits
from matching.views import FoundView, MissingView, found_view, missing_view
from records import Database, FoundPerson, MissingReport, Side
from records.storage.person_records import records_by_ids
from records.storage.photos import face_index_rows
from usecases.face_registry import FaceFilter, FaceIndexes

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FaceBox:
    """A face found in a query photo."""

    face_no: int
    box: tuple[int, int, int, int]
    width_px: int


SHORTLIST: Final = 50
"""Records weighed per photo search, nearest faces first: the evidence reorders them (a
recent adult photo a little further away says more than a childhood one), so the best
ten can lie past the nearest ten."""


@dataclass(frozen=True)
class PhotoHit:
    """A record that may be the person in the photo: its explained score against the
    photo, the distance of its nearest face and that face's photo."""

    side: Side
    ref: str
    name: str | None
    distance: float
    score: EvidenceScore
    photo_id: int | None = None

    @property
    def face(self) -> SignalEvidence:
        """The face term of the score."""
        return self.score.signal("face")


@dataclass(frozen=True)
class PhotoSearchResult:
    """The face searched with and the records that fit it, best first.

    ``photo_year`` is the year the photo was weighed as taken (this year for a person in
    care unless the officer said; None: unknown), so the answer says what was assumed.
    """

    face: FaceBox
    faces_in_photo: int
    hits: list[PhotoHit]
    photo_year: int | None = None


def search_by_photo(
    database: Database,
    faces_reader: FaceReader,
    face_indexes: FaceIndexes,
    data: bytes,
    *,
    evidence_model: EvidenceModel | None = None,
    query: PhotoQuery | None = None,
    side: Side = Side.MISSING,
    k: int = 10,
    face_no: int | None = None,
    where: FaceFilter | None = None,
    limits: ImageLimits | None = None,
    detection: DetectionSettings | None = None,
    today: date | None = None,
) -> PhotoSearchResult:
    """The ``k`` open records of ``side`` that best fit the person in the photo, best first.

    The :data:`SHORTLIST` records whose faces are nearest (or ``k``, if more) are weighed
    by the evidence model (the shipped one unless ``evidence_model`` is given) on face,
    sex and age, with what ``query`` says of the person in the photo
    (:mod:`matching.photo_evidence`), and ranked by that. ``where`` restricts the records
    (sex, region, hometown, station) inside the search, so the shortlist holds the
    nearest of those passing it. Each hit is checked against the store before it is
    weighed; a record the index had wrong is refreshed in it and left out.
    """
    where = where or FaceFilter()
    where.filters(side)  # an unusable filter is refused before any work on the photo
    query = query or PhotoQuery()
    today = today or date.today()
    query.check(side, today)  # refused before any work on the photo, like the filter
    detection = detection or DetectionSettings()
    faces = faces_reader.read(data, limits=limits or ImageLimits(), detection=detection).faces
    boxes = [FaceBox(n, face.box, face.width_px) for n, face in enumerate(faces)]
    if not faces:
        raise NoFaceFoundError("no face found in the photo, in any orientation")
    if face_no is None and len(faces) > 1:
        raise SeveralFacesFoundError(boxes)
    chosen = face_no or 0
    if not 0 <= chosen < len(faces):
        raise SeveralFacesFoundError(boxes)
    if not faces[chosen].quality.searchable:
        raise FaceTooPoorError(faces[chosen].quality.problems)
    embedding = faces[chosen].embedding.astype(np.float32)
    persons = face_indexes.search_persons(
        side,
        embedding.reshape(1, -1),
        max(k, SHORTLIST),
        model=faces_reader.model_name,
        where=where,
    )[0]
    with database.session() as session:
        rows = {
            row.face_id: row
            for row in face_index_rows(
                session, side, model=faces_reader.model_name, face_ids=[p.face for p in persons]
            )
        }
        agreeing = [
            p
            for p in persons
            if (row := rows.get(p.face)) is not None
            and row.owner_id == p.person
            and where.allows(row, side)
        ]
        records = records_by_ids(session, side, [p.person for p in agreeing])
        # A record deleted between the two reads is out of step too.
        fresh = [p for p in agreeing if p.person in records]
        views = [_view(records[p.person]) for p in fresh]
    kept = {p.person for p in fresh}
    stale = [p.person for p in persons if p.person not in kept]
    if stale:
        # Another process changed the store (the index catches up when it next opens);
        # bring these records in step now so the next search is right.
        logger.info("photo search: %d hit(s) out of step with the store", len(stale))
        face_indexes.refresh_records(side, stale)
    model = evidence_model or EvidenceModel.default()
    scores = weigh_photo_hits(model, side, embedding, query, views, today=today)
    hits = [
        PhotoHit(side, view.ref, records[p.person].name, p.distance, score,
                 photo_id=rows[p.face].photo_id)
        for p, view, score in zip(fresh, views, scores, strict=True)
    ]  # fmt: skip
    hits.sort(key=lambda hit: (-hit.score.final_weight, hit.distance))
    return PhotoSearchResult(
        boxes[chosen], len(faces), hits[:k], photo_year=query.year_taken(side, today)
    )


def _view(record: MissingReport | FoundPerson) -> MissingView | FoundView:
    return missing_view(record) if isinstance(record, MissingReport) else found_view(record)
