"""Photos: an officer adds a photo to a record, an administrator deletes one.

Adding reads the faces in the photo (through the face workers), keeps the file and its
faces, and puts the chosen face into the search at once; deleting takes the photo and
its faces out of the store and the search, and its file when no other record keeps it.
Each is audited once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from indexes import ImageRejectedError
from records import Database, Photo, Side
from records.inputs import PhotoRef
from records.photo_store import PhotoStore
from records.storage import photos
from records.storage.audit_log import audit
from usecases.face_registry import FaceIndexes
from usecases.intake import PhotoOutcome
from usecases.services import Services


def read_upload(services: Services, read: Callable[[int], bytes]) -> bytes:
    """The bytes of an upload, read no further than the upload limit allows.

    ``read`` is the upload's ``read(size)``; an upload over the limit is refused before
    it is read whole.
    """
    limit = services.settings.max_upload_bytes
    data = read(limit + 1)
    if len(data) > limit:
        raise ImageRejectedError("too_large", f"the upload is over {limit} bytes")
    return data


def add_photo(
    services: Services,
    side: Side,
    ref: str,
    data: bytes,
    *,
    actor: str,
    file_name: str | None = None,
    taken_year: int | None = None,
    age: int | None = None,
    face_no: int | None = None,
) -> tuple[Photo, PhotoOutcome]:
    """Add a photo to a report or a found person; the photo is kept whatever faces it
    shows. Only the base of ``file_name`` is kept: a client's path says nothing we keep."""
    name = Path(Path(file_name or "upload").name)
    return services.ingestor.add_photo(
        side, ref, data, photo=PhotoRef(path=name, taken_year=taken_year, age=age),
        face_no=face_no, actor=actor,
    )  # fmt: skip


def delete_photo(
    database: Database,
    face_indexes: FaceIndexes,
    photo_id: int,
    *,
    actor: str,
    photo_store: PhotoStore | None = None,
) -> None:
    """Delete a stored photo and its faces, audited; its faces leave the index at once.

    The file is removed too when no other photo row keeps it (``photo_store`` given).
    """
    with database.session() as session:
        deleted = photos.delete_photo(session, photo_id)
        detail = {"side": deleted.side.value, "record_id": deleted.owner_id,
                  "faces": len(deleted.face_ids)}  # fmt: skip
        audit(session, actor=actor, action="delete_photo", subject_kind="photo",
              subject_id=photo_id, detail=detail)  # fmt: skip
    # The store is committed first: if the index fails here, the next opening redoes it.
    face_indexes.refresh_records(deleted.side, [deleted.owner_id])
    if photo_store is not None and deleted.file_unused:
        photo_store.delete(deleted.stored_path)
