"""Answering a tracing officer at once: reports near a photo, or near a name.

Searching with a photo never guesses which face is meant: several faces raise
``SeveralFacesFoundError`` carrying every face's box, and the caller asks again with
``face_no``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

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
from matching.face_indexes import FaceIndexes
from matching.first_scorer import face_evidence
from records import Database, FoundPerson, MissingReport, Side
from records.repository import face_owners


@dataclass(frozen=True)
class FaceBox:
    """A face found in a query photo."""

    face_no: int
    box: tuple[int, int, int, int]
    width_px: int


@dataclass(frozen=True)
class PhotoHit:
    """A record whose photo is near the query face."""

    side: Side
    ref: str
    name: str | None
    distance: float
    evidence: SignalEvidence


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
    limits: ImageLimits | None = None,
    detection: DetectionSettings | None = None,
) -> PhotoSearchResult:
    """The ``k`` records of ``side`` whose faces are nearest the face in the photo."""
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
    # Several photos of one person take several places; over-fetch, then keep the
    # nearest face per record.
    neighbours = face_indexes.search(side, query, k * 4, model=face_model.name)[0]
    owners = {}
    with database.session() as session:
        by_face = face_owners(session, [n.id for n in neighbours])
        model = MissingReport if side is Side.MISSING else FoundPerson
        ids = {owner for _, owner in by_face.values()}
        for row in session.execute(
            select(model.id, model.ref, model.name).where(model.id.in_(ids))
        ):
            owners[row[0]] = (row[1], row[2])
    best: dict[int, float] = {}
    for neighbour in neighbours:
        owner = by_face.get(neighbour.id)
        if owner is not None and owner[1] in owners:
            best.setdefault(owner[1], neighbour.distance)
    hits = [
        PhotoHit(side, owners[rid][0], owners[rid][1], dist, face_evidence(dist))
        for rid, dist in sorted(best.items(), key=lambda item: item[1])[:k]
    ]
    return PhotoSearchResult(boxes[chosen], len(faces), hits)
