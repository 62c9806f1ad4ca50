"""A generated population's synthetic faces, stored the way photo intake stores faces.

A generated population (``evaluation.population`` without a photo folder) is imported
without photos; :func:`evaluation.population_faces.with_faces` gives a share of its
records faces drawn from the statistics of real dlib embeddings, the two records of a
true pair close. Here those faces go into a store as intake leaves a photo showing one
face: a ``Photo`` row (status one face, with the photo's year and the age in it, as
``with_faces`` drew them) and a searchable ``Face`` row made by the service's face model.
The re-match and the face indexes then see them as they see faces of uploaded photos.

No photo file is written. Nothing that matches or indexes opens one: the matcher reads
the stored embeddings, and the face indexes are built from them. The rows name files
that do not exist, so a photo's download or ``xunqin doctor`` would report them missing.

Rows go in with bulk inserts, a few thousand at a time: photo intake, or one ORM object
a row, would take far longer at the 60,000 records with faces of 100,000 reports.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from sqlalchemy import insert, select

from evaluation.population import TruePair
from evaluation.population_faces import with_faces
from matching.views import FaceView, FoundView, MissingView, PersonView
from records import Database, Face, FoundPerson, MissingReport, Photo, PhotoStatus, Side
from records.photo_store import PhotoStore

FacesByRef = dict[str, tuple[FaceView, ...]]
"""A side's records with faces (by ref) and their faces."""

_BATCH: Final = 5_000
"""Rows per bulk insert."""

# What a face read from a 400 x 500 photo might look like; nothing in matching reads it.
_PHOTO: Final = {"size_bytes": 60_000, "width": 400, "height": 500}
_BOX: Final = {"box_top": 120, "box_right": 290, "box_bottom": 290, "box_left": 120,
               "width_px": 170, "sharpness": 40.0, "yaw": 0.0, "roll": 0.0}  # fmt: skip


@dataclass(frozen=True)
class PopulationFaces:
    """The synthetic faces of a population's records, by side and record ref."""

    missing: FacesByRef
    found: FacesByRef

    @classmethod
    def draw(
        cls,
        missing_refs: Sequence[str],
        found_refs: Sequence[str],
        truth: Sequence[TruePair],
        *,
        share: float,
        seed: int,
    ) -> PopulationFaces:
        """Faces for a ``share`` of each side's records (``with_faces``, seeded).

        The refs must come in the population's order: the same refs, order, truth and
        seed draw the same faces, so a later step can draw them again from the files.
        """
        # with_faces reads only a view's ref: records' other facts need not be parsed.
        missing, found = with_faces(
            [MissingView(id=k, ref=ref) for k, ref in enumerate(missing_refs, start=1)],
            [FoundView(id=k, ref=ref) for k, ref in enumerate(found_refs, start=1)],
            truth,
            seed=seed,
            share=share,
        )
        return cls(_by_ref(missing), _by_ref(found))

    def of(self, side: Side) -> FacesByRef:
        """One side's faces."""
        return self.missing if side is Side.MISSING else self.found

    def count(self) -> int:
        """How many faces both sides have."""
        return sum(len(faces) for side in Side for faces in self.of(side).values())


def _by_ref(views: Sequence[PersonView]) -> FacesByRef:
    return {view.ref: view.faces for view in views if view.faces}


def store_faces(
    database: Database, side: Side, faces: Mapping[str, Sequence[FaceView]], *, model: str
) -> int:
    """Store each face as a photo of its record with that one face, made by ``model``.

    Records the store does not hold are skipped (not imported yet); returns how many
    faces were stored. The store gives the faces their ids (``FaceView.face_id`` is not
    kept), as intake's faces get theirs.
    """
    record: type[MissingReport] | type[FoundPerson] = (
        MissingReport if side is Side.MISSING else FoundPerson
    )
    owner = "missing_id" if side is Side.MISSING else "found_id"
    with database.session() as session:
        ids: dict[str, int] = dict(session.execute(select(record.ref, record.id)).all())
    items = [(ids[ref], face) for ref, held in faces.items() if ref in ids for face in held]
    with database.engine.begin() as connection:
        for start in range(0, len(items), _BATCH):
            batch = items[start : start + _BATCH]
            photos = [_photo_row(side, owner, record_id, face) for record_id, face in batch]
            photo_ids = connection.execute(
                insert(Photo).returning(Photo.id, sort_by_parameter_order=True), photos
            ).scalars().all()  # fmt: skip
            connection.execute(insert(Face), [
                {"photo_id": photo_id, "face_no": 0, **_BOX, "model": model, "searchable": True,
                 "embedding": np.asarray(face.embedding, dtype=np.float32).tobytes()}
                for photo_id, (_, face) in zip(photo_ids, batch, strict=True)
            ])  # fmt: skip
    return len(items)


def _photo_row(side: Side, owner: str, record_id: int, face: FaceView) -> dict[str, Any]:
    # A photo's hash is its content's; here the embedding stands for the content.
    digest = hashlib.sha256(np.asarray(face.embedding, dtype=np.float32).tobytes()).hexdigest()
    return {"side": side, owner: record_id, "sha256": digest,
            "stored_path": PhotoStore.name_for(digest, ".jpg"), **_PHOTO,
            "taken_year": face.taken_year, "age_at_photo": face.age_at_photo,
            "status": PhotoStatus.ONE_FACE}  # fmt: skip
