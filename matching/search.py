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
from matching.attributes import compare_sex
from matching.evidence import SignalEvidence
from matching.face_indexes import FaceIndexes
from matching.first_scorer import NAME_WEIGHTS, SEX_WEIGHTS, face_evidence
from matching.simple_names import SimpleNameLevel, compare_simple
from records import Database, FoundPerson, MissingReport, Sex, Side
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


@dataclass(frozen=True)
class NameHit:
    """A report whose names are near the query, with the level and why."""

    ref: str
    name: str | None
    level: str
    reason: str
    weight: float


def search_by_name(
    database: Database,
    name: str,
    *,
    sex: Sex = Sex.UNKNOWN,
    birth_year: int | None = None,
    k: int = 10,
) -> list[NameHit]:
    """The ``k`` reports whose names (and sex and birth year, if given) fit best."""
    if not name.strip():
        raise ValueError("a name to search for is required")
    query = select(
        MissingReport.ref,
        MissingReport.name,
        MissingReport.aliases,
        MissingReport.sex,
        MissingReport.birth_year,
        MissingReport.birth_date,
    )
    hits = []
    with database.session() as session:
        for ref, stored_name, aliases, stored_sex, year, birth_date in session.execute(query):
            names = [n for n in (stored_name, *aliases) if n]
            comparison = compare_simple([name], names)
            if comparison.level in (SimpleNameLevel.NULL, SimpleNameLevel.DIFFERENT):
                continue
            weight = NAME_WEIGHTS[comparison.level] + SEX_WEIGHTS[compare_sex(sex, stored_sex)]
            stored_year = year or (birth_date.year if birth_date else None)
            if birth_year is not None and stored_year is not None:
                gap = abs(birth_year - stored_year)
                weight += 2.0 if gap <= 2 else 0.0 if gap <= 5 else -3.0
            hits.append(
                NameHit(ref, stored_name, comparison.level.name.lower(), comparison.reason, weight)
            )
    hits.sort(key=lambda hit: (-hit.weight, hit.ref))
    return hits[:k]
