"""Labelled photo folders for the face calibration: ``<set>/<identity>/<photo>``, each
photo read with the service's own intake, its embedding cached by path and modification
time (``matching.evidence_model.face_calibration`` fits the bins on what comes out).
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
from numpy.typing import NDArray

from indexes import FaceIntakeError, FaceModel, decode_image, detect_faces
from matching.evidence_model.face_calibration import (
    DIFFERENT_SETS,
    EMBEDDING_DIM,
    FACE_EDGES,
    SAME_SETS,
    FaceBinCalibration,
    LabelledEmbeddings,
    fit_face_bins,
)

logger = logging.getLogger(__name__)

AGE_IN_NAME: Final = re.compile(r"^age(\d{1,3})_")
"""A photo named ``ageNN_...`` shows its person at NN (as FG-NET's files are named here):
the age-gap strata of the face curves are fitted on such photos."""
IMAGE_SUFFIXES: Final = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".pgm", ".gif"})
DEFAULT_CACHE: Final = Path(".cache") / "face_calibration_embeddings.npz"


def _photo_files(folder: Path, sets: Sequence[str] | None) -> list[tuple[str, Path]]:
    """(``set/identity``, path) of every photo, skipping folders that start with _ or ."""
    files: list[tuple[str, Path]] = []
    for set_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        if set_dir.name.startswith(("_", ".")) or (sets is not None and set_dir.name not in sets):
            continue
        for identity in sorted(p for p in set_dir.iterdir() if p.is_dir()):
            if identity.name.startswith(("_", ".")):
                continue
            for photo in sorted(identity.iterdir()):
                if photo.is_file() and photo.suffix.lower() in IMAGE_SUFFIXES:
                    files.append((f"{set_dir.name}/{identity.name}", photo))
    return files


@dataclass
class _EmbeddingCache:
    """Embeddings of photo files, valid while a file's path and mtime are unchanged."""

    path: Path | None
    model: str
    entries: dict[str, tuple[float, int, NDArray[np.float32]]] = field(default_factory=dict)
    dirty: bool = False

    @classmethod
    def load(cls, path: Path | None, model: str) -> _EmbeddingCache:
        cache = cls(path, model)
        if path is None or not path.is_file():
            return cache
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["model"]) != model:
                    return cache
                for key, mtime, faces, vector in zip(
                    data["paths"], data["mtimes"], data["face_counts"], data["vectors"],
                    strict=True,
                ):  # fmt: skip
                    cache.entries[str(key)] = (float(mtime), int(faces), vector)
        except (OSError, KeyError, ValueError):
            logger.warning("face embedding cache unreadable; encoding again")
            cache.entries = {}
        return cache

    def get(self, key: str, mtime: float) -> tuple[int, NDArray[np.float32]] | None:
        entry = self.entries.get(key)
        if entry is None or entry[0] != mtime:
            return None
        return entry[1], entry[2]

    def put(self, key: str, mtime: float, faces: int, vector: NDArray[np.float32]) -> None:
        self.entries[key] = (mtime, faces, vector)
        self.dirty = True

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(self.entries)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("wb") as handle:
            np.savez(
                handle,
                model=np.array(self.model),
                paths=np.array(keys),
                mtimes=np.array([self.entries[k][0] for k in keys], dtype=np.float64),
                face_counts=np.array([self.entries[k][1] for k in keys], dtype=np.int64),
                vectors=np.stack([self.entries[k][2] for k in keys]).astype(np.float32)
                if keys
                else np.zeros((0, EMBEDDING_DIM), np.float32),
            )
        os.replace(tmp, self.path)
        self.dirty = False


Detector = Callable[[Path], Sequence[NDArray[np.float32]]]
"""Turns a photo file into the embeddings of the faces in it."""


def intake_detector(face_model: FaceModel) -> Detector:
    """The service's own intake: ``decode_image`` then ``detect_faces`` with the model."""

    def detect(path: Path) -> list[NDArray[np.float32]]:
        try:
            faces = detect_faces(decode_image(path.read_bytes()), face_model)
        except FaceIntakeError:
            return []
        return [np.asarray(f.embedding, dtype=np.float32).reshape(-1) for f in faces]

    return detect


def encode_face_folder(
    folder: Path,
    face_model: FaceModel,
    *,
    cache: Path | None = DEFAULT_CACHE,
    sets: Sequence[str] | None = None,
    detector: Detector | None = None,
) -> LabelledEmbeddings:
    """Embed every ``<set>/<identity>/<photo>`` showing exactly one face.

    Photos that cannot be read, or show no face or several, are left out (and counted
    in the log, never named). Embeddings are cached in ``cache`` keyed by the photo's
    path relative to ``folder`` and its modification time, for this model only.
    ``detector`` replaces the service's intake (:func:`intake_detector`), for tests.
    """
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder of <set>/<identity>/<photo>")
    detect = detector or intake_detector(face_model)
    store = _EmbeddingCache.load(cache, face_model.name)
    vectors: list[NDArray[np.float32]] = []
    identities: list[str] = []
    ages: list[float] = []
    skipped = 0
    files = _photo_files(folder, sets)
    for number, (identity, path) in enumerate(files, start=1):
        key = path.relative_to(folder).as_posix()
        mtime = path.stat().st_mtime
        known = store.get(key, mtime)
        if known is None:
            faces = list(detect(path))
            vector = faces[0] if len(faces) == 1 else np.zeros(EMBEDDING_DIM, np.float32)
            known = (len(faces), np.asarray(vector, dtype=np.float32))
            store.put(key, mtime, *known)
            if number % 100 == 0:
                logger.info("encoded %d of %d photos", number, len(files))
        if known[0] == 1:
            vectors.append(known[1])
            identities.append(identity)
            age = AGE_IN_NAME.match(path.name)
            ages.append(float(age.group(1)) if age else math.nan)
        else:
            skipped += 1
    store.save()
    logger.info("face calibration photos: %d used, %d skipped", len(vectors), skipped)
    dim = vectors[0].shape[0] if vectors else EMBEDDING_DIM
    return LabelledEmbeddings(
        np.asarray(vectors, dtype=np.float32).reshape(-1, dim),
        np.array(identities, dtype=str),
        np.asarray(ages, dtype=np.float64),
    )


def fit_face_calibration_from_folder(
    folder: Path,
    face_model: FaceModel,
    *,
    cache: Path | None = DEFAULT_CACHE,
    edges: Sequence[float] = FACE_EDGES,
    same_sets: Sequence[str] | None = SAME_SETS,
    different_sets: Sequence[str] | None = DIFFERENT_SETS,
    detector: Detector | None = None,
) -> FaceBinCalibration:
    """Encode ``<set>/<identity>/<photo>`` photos and fit the face bins on them.

    For the CLI: ``xunqin model calibrate-faces FOLDER`` would call this, then
    :func:`~matching.evidence_model.priors.with_face_calibration` and save the model.
    """
    wanted = None
    if same_sets is not None and different_sets is not None:
        wanted = sorted(set(same_sets) | set(different_sets))
    embeddings = encode_face_folder(folder, face_model, cache=cache, sets=wanted, detector=detector)
    return fit_face_bins(
        embeddings, edges=edges, same_sets=same_sets, different_sets=different_sets
    )
