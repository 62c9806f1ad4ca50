"""Answering a tracing officer at once: reports near a photo, or near a name.

Searching with a photo never guesses which face is meant: several faces raise
``SeveralFacesFoundError`` carrying every face's box, and the caller asks again with
``face_no``. The answer is one hit per person (several photos of one person count once,
by the nearest), restricted by a ``FaceFilter`` inside the index search, and only open
cases are searched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from indexes import (
    DetectionSettings,
    FaceModel,
    FaceTooPoorError,
    ImageLimits,
    NoFaceFoundError,
    SeveralFacesFoundError,
    decode_image,
    detect_faces,
)
from matching.evidence import SignalEvidence
from matching.face_indexes import FaceFilter, FaceIndexes
from matching.first_scorer import face_evidence
from records import Database, Side
from records.repository import face_index_rows, record_labels

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FaceBox:
    """A face found in a query photo."""

    face_no: int
    box: tuple[int, int, int, int]
    width_px: int


@dataclass(frozen=True)
class PhotoHit:
    """A record whose photo is near the query face: its nearest face and that face's photo."""

    side: Side
    ref: str
    name: str | None
    distance: float
    evidence: SignalEvidence
    photo_id: int | None = None


@dataclass(frozen=True)
class PhotoSearchResult:
    """The face searched with and the nearest records, nearest first."""

    face: FaceBox
    faces_in_photo: int
    hits: list[PhotoHit]


def search_by_photo(
    database: Database,
    face_model: FaceModel,
    face_indexes: FaceIndexes,
    data: bytes,
    *,
    side: Side = Side.MISSING,
    k: int = 10,
    face_no: int | None = None,
    where: FaceFilter | None = None,
    limits: ImageLimits | None = None,
    detection: DetectionSettings | None = None,
) -> PhotoSearchResult:
    """The ``k`` open records of ``side`` whose faces are nearest the face in the photo.

    ``where`` restricts the records (sex, region, hometown, station) inside the search, so
    the ``k`` are the nearest of those passing it. Each hit is checked against the store
    before it is returned; a record the index had wrong is refreshed in it and left out.
    """
    where = where or FaceFilter()
    where.filters(side)  # an unusable filter is refused before any work on the photo
    detection = detection or DetectionSettings()
    image = decode_image(
        data, limits=limits, max_side=detection.max_side * detection.upsample_retry
    )
    faces = detect_faces(image, face_model, settings=detection)
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
    query = faces[chosen].embedding.reshape(1, -1).astype(np.float32)
    persons = face_indexes.search_persons(side, query, k, model=face_model.name, where=where)[0]
    with database.session() as session:
        rows = {
            row.face_id: row
            for row in face_index_rows(
                session, side, model=face_model.name, face_ids=[p.face for p in persons]
            )
        }
        labels = record_labels(session, side, [p.person for p in persons])
    hits: list[PhotoHit] = []
    stale: list[int] = []
    for person in persons:
        row = rows.get(person.face)
        if row is None or row.owner_id != person.person or not where.allows(row, side):
            stale.append(person.person)
            continue
        ref, name = labels[person.person]
        evidence = face_evidence(person.distance)
        hits.append(PhotoHit(side, ref, name, person.distance, evidence, photo_id=row.photo_id))
    if stale:
        # Another process changed the store (the index catches up when it next opens);
        # bring these records in step now so the next search is right.
        logger.info("photo search: %d hit(s) out of step with the store", len(stale))
        face_indexes.refresh_records(side, stale)
    return PhotoSearchResult(boxes[chosen], len(faces), hits)
