"""Answer a tracing officer at once: records near a photo or a name."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile

from api.auth import ActorDep, Right, require
from api.deps import ServicesDep
from api.error_responses import COMMON_ERRORS, error_responses
from api.schemas import (
    Age,
    BlankIsNone,
    FaceBoxPublic,
    FaceNumber,
    NameHitPublic,
    PhotoHitPublic,
    PhotoSearchPublic,
    Text,
    Year,
)
from usecases.face_registry import FaceFilter
from usecases.record_photos import read_upload
from usecases.searching import search_by_name, search_by_photo
from usecases.vocabulary import PhotoQuery, Sex, Side

router = APIRouter(prefix="/search", tags=["search"], responses=error_responses(*COMMON_ERRORS))


@router.post(
    "/photo",
    response_model=PhotoSearchPublic,
    dependencies=[Depends(require(Right.SEARCH))],
    responses=error_responses(409, 413, 503),
)
def search_photo(
    file: Annotated[UploadFile, File(description="a photo of the person")],
    services: ServicesDep,
    actor: ActorDep,
    side: Annotated[Literal["missing", "found"], Form()] = "missing",
    k: Annotated[int, Form(ge=1, le=100)] = 10,
    face_no: Annotated[FaceNumber | None, BlankIsNone, Form()] = None,
    sex: Annotated[Literal["M", "F"] | None, Form(description="unknown sex passes")] = None,
    region: Annotated[
        Text | None,
        Form(max_length=200, description="where missing (or found): 四川, 南充市, ..."),
    ] = None,
    hometown: Annotated[Text | None, Form(max_length=200, description="e.g. 四川, 南充市")] = None,
    station: Annotated[Text | None, Form(max_length=200, description="found persons only")] = None,
    age_min: Annotated[
        Age | None,
        BlankIsNone,
        Form(description="estimated age in the photo, lowest (alone: the age)"),
    ] = None,
    age_max: Annotated[
        Age | None,
        BlankIsNone,
        Form(description="estimated age in the photo, highest (alone: the age)"),
    ] = None,
    photo_year: Annotated[
        Year | None,
        BlankIsNone,
        Form(description="when taken; searching reports, this year if left out"),
    ] = None,
    birth_year: Annotated[
        Year | None,
        BlankIsNone,
        Form(description="searching found persons: the birth year the family knows"),
    ] = None,
) -> PhotoSearchPublic:
    """Search the open reports (or found persons) with the face in an uploaded photo.

    One hit a person; ``sex``, ``region``, ``hometown`` and ``station`` restrict the search
    itself. The nearest faces are weighed by the evidence model on face, sex and age
    (``sex``, ``age_min``/``age_max``, ``photo_year`` and, for found persons, ``birth_year``
    describe the person in the photo; ``photo_year`` in the answer is the year assumed),
    and the hits come best first, each with its probability and explained evidence. The
    photo is not kept. A photo with several faces answers 409 with every face's box; ask
    again with ``face_no``.
    """
    where = FaceFilter(sex=Sex(sex) if sex else None, region=region or None,
                       hometown=hometown or None, station=station or None)  # fmt: skip
    query = PhotoQuery(sex=Sex(sex) if sex else Sex.UNKNOWN, age_min=age_min,
                       age_max=age_max, photo_year=photo_year,
                       birth_year=birth_year)  # fmt: skip
    data = read_upload(services, file.file.read)
    result = search_by_photo(services, data, actor=actor, side=Side(side), k=k,
                             face_no=face_no, where=where, query=query)  # fmt: skip
    return PhotoSearchPublic(
        side=side,
        face=FaceBoxPublic(
            face_no=result.face.face_no, box=result.face.box, width_px=result.face.width_px
        ),
        faces_in_photo=result.faces_in_photo,
        photo_year=result.photo_year,
        hits=[
            PhotoHitPublic(
                ref=h.ref,
                name=h.name,
                photo_id=h.photo_id,
                distance=round(h.distance, 4),
                level=h.face.level,
                weight=round(h.face.weight, 4),
                detail=h.face.detail,
                probability=h.score.probability,
                summary=h.score.summary(),
                evidence=h.score.to_json(),
            )
            for h in result.hits
        ],  # fmt: skip
    )


@router.get(
    "/name", response_model=list[NameHitPublic], dependencies=[Depends(require(Right.SEARCH))]
)
def search_name(
    services: ServicesDep,
    actor: ActorDep,
    name: Annotated[
        Text, Query(min_length=1, max_length=64, pattern=r"\S", description="not blank")
    ],  # fmt: skip
    accent: Annotated[Text | None, Query(max_length=64, description="e.g. 四川口音")] = None,
    sex: Annotated[Literal["M", "F"] | None, Query()] = None,
    birth_year: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    k: Annotated[int, Query(ge=1, le=100)] = 10,
) -> list[NameHitPublic]:
    """Reports whose names sound like ``name``, with the level and the reason."""
    known_sex = Sex(sex) if sex else Sex.UNKNOWN
    hits = search_by_name(services, name, actor=actor, accent=accent, sex=known_sex,
                          birth_year=birth_year, k=k)  # fmt: skip
    return [
        NameHitPublic(
            ref=h.ref,
            name=h.name,
            level=h.level,
            reason=h.reason,
            weight=h.weight,
            sex=h.sex,
            birth_year=h.birth_year,
        )
        for h in hits
    ]
