"""Searching: an officer asks which open records fit a photo, or a name.

Each search is audited once, with counts and which fields were given, never the name or
the photo searched with. The photo is not kept.
"""

from __future__ import annotations

from matching.photo_evidence import PhotoQuery
from records import Sex, Side
from usecases.auditing import audit_once
from usecases.face_registry import FaceFilter
from usecases.name_search import NameSearchHit
from usecases.photo_search import PhotoSearchResult
from usecases.photo_search import search_by_photo as weigh_photo
from usecases.services import Services


def search_by_photo(
    services: Services,
    data: bytes,
    *,
    actor: str,
    side: Side = Side.MISSING,
    k: int = 10,
    face_no: int | None = None,
    where: FaceFilter | None = None,
    query: PhotoQuery | None = None,
) -> PhotoSearchResult:
    """The ``k`` open records of ``side`` that best fit the person in the photo.

    ``where`` restricts the search (sex, region, hometown, station); ``query`` says what
    the officer knows of the person in the photo. See ``usecases.photo_search.search_by_photo``
    for how the hits are weighed; the face intake's errors (no face, several faces, a
    face too poor, an image refused, the face workers busy) reach the caller as they are.
    """
    where = where or FaceFilter()
    query = query or PhotoQuery()
    result = weigh_photo(
        services.database,
        services.face_reader,
        services.face_indexes,
        data,
        evidence_model=services.evidence_model,
        query=query,
        side=side,
        k=k,
        face_no=face_no,
        where=where,
        limits=services.image_limits,
    )
    audit_once(services.database, actor=actor, action="search_photo", subject_kind=side.value,
               detail={"hits": len(result.hits), "filters": where.given(),
                       "described": query.asked()})  # fmt: skip
    return result


def search_by_name(
    services: Services,
    name: str,
    *,
    actor: str,
    accent: str | None = None,
    sex: Sex = Sex.UNKNOWN,
    birth_year: int | None = None,
    k: int = 10,
) -> list[NameSearchHit]:
    """The open reports whose names fit ``name`` best (as heard or written), with why."""
    hits = services.name_searcher().search(name, accent=accent, sex=sex, birth_year=birth_year, k=k)
    audit_once(services.database, actor=actor, action="search_name", subject_kind="missing",
               detail={"hits": len(hits)})  # fmt: skip
    return hits
