"""Labelled photo folders for the face calibration: ``<set>/<identity>/<photo>``, each
photo read with the service's own intake, its embedding cached by path and modification
time (``matching.evidence_model.face_calibration`` fits the bins on what comes out).
"""

from __future__ import annotations

import io
import logging
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, NamedTuple

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter, ImageOps

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
    entries: dict[str, tuple[float, int, NDArray[np.float32], bool]] = field(default_factory=dict)
    dirty: bool = False

    @classmethod
    def load(cls, path: Path | None, model: str) -> _EmbeddingCache:
        cache = cls(path, model)
        if path is None or not path.is_file():
            return cache
        try:
            with np.load(path, allow_pickle=False) as data:
                # A cache from before photos' quality was kept is read again.
                if str(data["model"]) != model or "poor" not in data:
                    return cache
                for key, mtime, faces, vector, poor in zip(
                    data["paths"], data["mtimes"], data["face_counts"], data["vectors"],
                    data["poor"], strict=True,
                ):  # fmt: skip
                    cache.entries[str(key)] = (float(mtime), int(faces), vector, bool(poor))
        except (OSError, KeyError, ValueError):
            logger.warning("face embedding cache unreadable; encoding again")
            cache.entries = {}
        return cache

    def get(self, key: str, mtime: float) -> tuple[int, NDArray[np.float32], bool] | None:
        entry = self.entries.get(key)
        if entry is None or entry[0] != mtime:
            return None
        return entry[1], entry[2], entry[3]

    def put(
        self, key: str, mtime: float, faces: int, vector: NDArray[np.float32], poor: bool
    ) -> None:
        self.entries[key] = (mtime, faces, vector, poor)
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
                poor=np.array([self.entries[k][3] for k in keys], dtype=np.bool_),
            )
        os.replace(tmp, self.path)
        self.dirty = False


class ReadFace(NamedTuple):
    """A face read from a labelled photo: its embedding, and whether the intake found it
    poor (too small, blurred, turned or tilted: :func:`indexes.faces.judge`)."""

    embedding: NDArray[np.float32]
    poor: bool


Detector = Callable[[Path], Sequence[ReadFace]]
"""Turns a photo file into the faces in it."""


def intake_detector(face_model: FaceModel) -> Detector:
    """The service's own intake: ``decode_image`` then ``detect_faces`` with the model."""

    def detect(path: Path) -> list[ReadFace]:
        try:
            faces = detect_faces(decode_image(path.read_bytes()), face_model)
        except FaceIntakeError:
            return []
        return [ReadFace(np.asarray(f.embedding, dtype=np.float32).reshape(-1),
                         bool(f.quality.problems)) for f in faces]  # fmt: skip

    return detect


DEGRADED_FACE_PX: Final = 56
DEGRADED_BLUR: Final = 2.5
DEGRADED_JPEG_QUALITY: Final = 30
DEGRADED_SUFFIX: Final = (
    f"#degraded-{DEGRADED_FACE_PX}px-blur{DEGRADED_BLUR}-q{DEGRADED_JPEG_QUALITY}"
)
"""A degraded copy's key: the photo's own, with this after it (the settings in it, so a
change of them reads the copies again)."""


def degraded_detector(face_model: FaceModel) -> Detector:
    """The intake on a degraded copy of a photo: shrunk until its face is
    :data:`DEGRADED_FACE_PX` wide, blurred and saved as a rough JPEG, as a station's
    camera or a scanned print gives them. Labelled photos so degraded are the poor
    photos the face curves' poor strata are fitted on (the development photos hold
    almost none that the intake finds poor)."""

    def detect(path: Path) -> list[ReadFace]:
        data = path.read_bytes()
        try:
            faces = detect_faces(decode_image(data), face_model)
            if len(faces) != 1:
                return []
            with Image.open(io.BytesIO(data)) as opened:
                image = ImageOps.exif_transpose(opened).convert("RGB")
            scale = DEGRADED_FACE_PX / faces[0].width_px
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            small = image.resize(size, Image.Resampling.BILINEAR)
            small = small.filter(ImageFilter.GaussianBlur(DEGRADED_BLUR))
            buffer = io.BytesIO()
            small.save(buffer, "JPEG", quality=DEGRADED_JPEG_QUALITY)
            again = detect_faces(decode_image(buffer.getvalue()), face_model)
        except (FaceIntakeError, OSError, ValueError):
            return []
        return [ReadFace(np.asarray(f.embedding, dtype=np.float32).reshape(-1),
                         bool(f.quality.problems)) for f in again]  # fmt: skip

    return detect


def encode_face_folder(
    folder: Path,
    face_model: FaceModel,
    *,
    cache: Path | None = DEFAULT_CACHE,
    sets: Sequence[str] | None = None,
    detector: Detector | None = None,
    degrade: Callable[[str], bool] | None = None,
    degrader: Detector | None = None,
) -> LabelledEmbeddings:
    """Embed every ``<set>/<identity>/<photo>`` showing exactly one face.

    Photos that cannot be read, or show no face or several, are left out (and counted
    in the log, never named). Embeddings are cached in ``cache`` keyed by the photo's
    path relative to ``folder`` and its modification time, for this model only.
    ``detector`` replaces the service's intake (:func:`intake_detector`), for tests.
    The photos of the identities ``degrade`` accepts (``"<set>/<identity>"``) are also
    read as degraded copies (:func:`degraded_detector`, or ``degrader``); a copy the
    intake finds poor is kept as a photo of its own with its source named, so that it is
    never paired with the photo it was made from.
    """
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder of <set>/<identity>/<photo>")
    detect = detector or intake_detector(face_model)
    store = _EmbeddingCache.load(cache, face_model.name)
    vectors: list[NDArray[np.float32]] = []
    identities: list[str] = []
    ages: list[float] = []
    poor: list[bool] = []
    sources: list[str] = []
    skipped = 0
    files = _photo_files(folder, sets)
    readings = [(identity, path, path.relative_to(folder).as_posix(), detect)
                for identity, path in files]  # fmt: skip
    if degrade is not None:
        copy = degrader or degraded_detector(face_model)
        readings += [(identity, path, path.relative_to(folder).as_posix() + DEGRADED_SUFFIX,
                      copy) for identity, path in files if degrade(identity)]  # fmt: skip
    for number, (identity, path, key, read) in enumerate(readings, start=1):
        mtime = path.stat().st_mtime
        known = store.get(key, mtime)
        if known is None:
            faces = list(read(path))
            one = faces[0] if len(faces) == 1 else ReadFace(np.zeros(EMBEDDING_DIM, np.float32),
                                                            poor=False)  # fmt: skip
            known = (len(faces), np.asarray(one.embedding, dtype=np.float32), one.poor)
            store.put(key, mtime, *known)
            if number % 100 == 0:
                logger.info("encoded %d of %d photos", number, len(readings))
        if known[0] == 1 and key.endswith(DEGRADED_SUFFIX) and not known[2]:
            continue  # a copy the intake still finds good is no poor photo: not used
        if known[0] == 1:
            vectors.append(known[1])
            identities.append(identity)
            age = AGE_IN_NAME.match(path.name)
            ages.append(float(age.group(1)) if age else math.nan)
            poor.append(known[2])
            sources.append(key.removesuffix(DEGRADED_SUFFIX))
        else:
            skipped += 1
    store.save()
    logger.info("face calibration photos: %d used, %d skipped", len(vectors), skipped)
    dim = vectors[0].shape[0] if vectors else EMBEDDING_DIM
    return LabelledEmbeddings(
        np.asarray(vectors, dtype=np.float32).reshape(-1, dim),
        np.array(identities, dtype=str),
        np.asarray(ages, dtype=np.float64),
        np.asarray(poor, dtype=np.bool_),
        np.array(sources, dtype=str),
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
