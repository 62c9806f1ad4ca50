"""Create and read reports and found persons, add and delete their photos, close cases."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile, status
from fastapi.responses import FileResponse

from api.auth import ActorDep, CallerDep, Right, require
from api.deps import ServicesDep, SessionDep
from api.error_responses import COMMON_ERRORS, error_responses
from api.schemas import (
    Age,
    BlankIsNone,
    FaceNumber,
    FoundCreate,
    FoundPublic,
    FoundsPublic,
    FoundStatusUpdate,
    MissingCreate,
    MissingPublic,
    MissingsPublic,
    MissingStatusUpdate,
    PhotoPublic,
    Ref,
    RowId,
    Year,
)
from usecases.cases import set_record_status
from usecases.erasure import erase_record
from usecases.reading import (
    found_page,
    found_person,
    missing_page,
    missing_report,
    photo_file,
    register_found,
    register_missing,
)
from usecases.record_photos import add_photo, delete_photo, read_upload
from usecases.vocabulary import MAX_ID, FoundPerson, MissingReport, Side

router = APIRouter(tags=["records"], responses=error_responses(*COMMON_ERRORS))

PageOffset = Annotated[int, Query(ge=0, le=MAX_ID)]
PageLimit = Annotated[int, Query(ge=1, le=500)]


@router.post(
    "/missing",
    responses=error_responses(409),
    status_code=status.HTTP_201_CREATED,
    response_model=MissingPublic,
    dependencies=[Depends(require(Right.WRITE_RECORDS))],
)
def create_missing(body: MissingCreate, session: SessionDep, actor: ActorDep) -> MissingPublic:
    """File a missing-person report."""
    record = register_missing(session, body.to_fields(), actor=actor)
    return MissingPublic.from_row(record, with_photos=False)


@router.get(
    "/missing", response_model=MissingsPublic, dependencies=[Depends(require(Right.READ_RECORDS))]
)
def read_missing_list(
    session: SessionDep, actor: ActorDep, offset: PageOffset = 0, limit: PageLimit = 100
) -> MissingsPublic:
    """A page of reports, without contacts or photos (the listing is audited)."""
    rows, total = missing_page(session, actor=actor, offset=offset, limit=limit)
    return MissingsPublic(
        data=[MissingPublic.from_row(r, with_photos=False) for r in rows], count=total
    )


@router.get(
    "/missing/{ref}",
    responses=error_responses(404),
    response_model=MissingPublic,
    dependencies=[Depends(require(Right.READ_RECORDS))],
)
def read_missing(
    ref: Ref,
    session: SessionDep,
    caller: CallerDep,
    contact: Annotated[bool, Query(description="also the reporter's contact")] = False,
) -> MissingPublic:
    """One report with its photos, and the reporter's contact only when asked (the read
    is audited, and says whether the contact was given)."""
    if contact:
        caller.check(Right.READ_CONTACT)
    record = missing_report(session, ref, actor=caller.name, contact=contact)
    public = MissingPublic.from_row(record)
    if contact:
        public.reporter_contact = record.reporter_contact
    return public


@router.post(
    "/found",
    responses=error_responses(409),
    status_code=status.HTTP_201_CREATED,
    response_model=FoundPublic,
    dependencies=[Depends(require(Right.WRITE_RECORDS))],
)
def create_found(body: FoundCreate, session: SessionDep, actor: ActorDep) -> FoundPublic:
    """Record a person in a station's care."""
    record = register_found(session, body.to_fields(), actor=actor)
    return FoundPublic.from_row(record, with_photos=False)


@router.get(
    "/found", response_model=FoundsPublic, dependencies=[Depends(require(Right.READ_RECORDS))]
)
def read_found_list(
    session: SessionDep, actor: ActorDep, offset: PageOffset = 0, limit: PageLimit = 100
) -> FoundsPublic:
    """A page of found persons, without photos (the listing is audited)."""
    rows, total = found_page(session, actor=actor, offset=offset, limit=limit)
    return FoundsPublic(data=[FoundPublic.from_row(r, with_photos=False) for r in rows],
                        count=total)  # fmt: skip


@router.get(
    "/found/{ref}",
    responses=error_responses(404),
    response_model=FoundPublic,
    dependencies=[Depends(require(Right.READ_RECORDS))],
)
def read_found(ref: Ref, session: SessionDep, actor: ActorDep) -> FoundPublic:
    """One found person with photos (the read is audited)."""
    return FoundPublic.from_row(found_person(session, ref, actor=actor))


def _upload(
    services: ServicesDep,
    side: Side,
    ref: str,
    file: UploadFile,
    taken_year: int | None,
    age: int | None,
    face_no: int | None,
    actor: str,
) -> PhotoPublic:
    data = read_upload(services, file.file.read)
    photo, _ = add_photo(services, side, ref, data, actor=actor, file_name=file.filename,
                         taken_year=taken_year, age=age, face_no=face_no)  # fmt: skip
    return PhotoPublic.from_row(photo)


UploadFileParam = Annotated[UploadFile, File(description="JPEG, PNG, WebP or HEIC")]
TakenYear = Annotated[Year | None, BlankIsNone, Form(description="year the photo was taken")]
AgeAtPhoto = Annotated[Age | None, BlankIsNone, Form(description="age of the person in the photo")]
FaceNo = Annotated[
    FaceNumber | None, BlankIsNone, Form(description="which face, when the photo has several")
]


@router.post(
    "/missing/{ref}/photos",
    responses=error_responses(404, 409, 413, 503),
    status_code=201,
    response_model=PhotoPublic,
    dependencies=[Depends(require(Right.WRITE_RECORDS))],
)
def upload_missing_photo(
    ref: Ref,
    file: UploadFileParam,
    services: ServicesDep,
    actor: ActorDep,
    taken_year: TakenYear = None,
    age: AgeAtPhoto = None,
    face_no: FaceNo = None,
) -> PhotoPublic:
    """Add a photo to a report; the photo is kept whatever faces it shows."""
    return _upload(services, Side.MISSING, ref, file, taken_year, age, face_no, actor)


@router.post(
    "/found/{ref}/photos",
    responses=error_responses(404, 409, 413, 503),
    status_code=201,
    response_model=PhotoPublic,
    dependencies=[Depends(require(Right.WRITE_RECORDS))],
)
def upload_found_photo(
    ref: Ref,
    file: UploadFileParam,
    services: ServicesDep,
    actor: ActorDep,
    taken_year: TakenYear = None,
    age: AgeAtPhoto = None,
    face_no: FaceNo = None,
) -> PhotoPublic:
    """Add a photo to a found person's record."""
    return _upload(services, Side.FOUND, ref, file, taken_year, age, face_no, actor)


@router.get(
    "/photos/{photo_id}",
    responses={
        200: {"content": {"image/*": {}}, "description": "the photo file as stored"},
        **error_responses(404, 409, 410),
    },
    response_class=FileResponse,
    dependencies=[Depends(require(Right.READ_RECORDS))],
)
def read_photo_file(
    photo_id: RowId, session: SessionDep, services: ServicesDep, actor: ActorDep
) -> FileResponse:
    """The stored photo file, for a reviewer to look at (the read is audited).

    A photo whose file is gone or no longer holds the photo answers 410, one whose file
    lies outside the store's photo folder 409: never someone else's picture.
    """
    path = photo_file(session, services.photo_store, photo_id, actor=actor)
    return FileResponse(path, headers={"Cache-Control": "no-store"})


@router.delete(
    "/photos/{photo_id}",
    responses=error_responses(404),
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Depends(require(Right.DELETE))],
)
def delete_photo_file(photo_id: RowId, services: ServicesDep, actor: ActorDep) -> Response:
    """Delete a photo, its faces and (when no other record keeps it) its file, audited.

    Its faces leave the face search at once.
    """
    delete_photo(services.database, services.face_indexes, photo_id, actor=actor,
                 photo_store=services.photo_store)  # fmt: skip
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/missing/{ref}",
    responses=error_responses(404),
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Depends(require(Right.DELETE))],
)
def erase_missing(ref: Ref, services: ServicesDep, actor: ActorDep) -> Response:
    """Erase a report for good: photos, faces, candidates and decisions go with it (the
    audit line keeps counts). For a case that is over, when nothing need be kept."""
    erase_record(services.database, services.face_indexes, Side.MISSING, ref, actor=actor,
                 photo_store=services.photo_store)  # fmt: skip
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/found/{ref}",
    responses=error_responses(404),
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Depends(require(Right.DELETE))],
)
def erase_found(ref: Ref, services: ServicesDep, actor: ActorDep) -> Response:
    """Erase a found person's record for good, as ``DELETE /missing/{ref}`` does."""
    erase_record(services.database, services.face_indexes, Side.FOUND, ref, actor=actor,
                 photo_store=services.photo_store)  # fmt: skip
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    "/missing/{ref}/status",
    responses=error_responses(404),
    response_model=MissingPublic,
    dependencies=[Depends(require(Right.CLOSE_CASES))],
)
def update_missing_status(
    ref: Ref, body: MissingStatusUpdate, services: ServicesDep, actor: ActorDep
) -> MissingPublic:
    """Close (``reunited``, ``closed``) or reopen a report, audited.

    A closed report leaves the face search and candidate lists at once.
    """
    record = set_record_status(services.database, services.face_indexes, Side.MISSING, ref,
                               body.status, actor=actor)  # fmt: skip
    assert isinstance(record, MissingReport)
    return MissingPublic.from_row(record)


@router.put(
    "/found/{ref}/status",
    responses=error_responses(404),
    response_model=FoundPublic,
    dependencies=[Depends(require(Right.CLOSE_CASES))],
)
def update_found_status(
    ref: Ref, body: FoundStatusUpdate, services: ServicesDep, actor: ActorDep
) -> FoundPublic:
    """Close (``identified``, ``closed``), mark as ``left`` or reopen a found person's case,
    audited. A closed case leaves the face search and candidate lists at once."""
    record = set_record_status(services.database, services.face_indexes, Side.FOUND, ref,
                               body.status, actor=actor)  # fmt: skip
    assert isinstance(record, FoundPerson)
    return FoundPublic.from_row(record)
