"""The supply of face identities for generated people, read from a folder of real photos.

Layout: ``<identity>/<photo>`` or ``<set>/<identity>/<photo>``. Folders whose names start
with ``_`` (or ``.``) are not identities (``_multi``, ``_corrupt``, ...) and are skipped.
Only identities with at least two usable photos are supplied, so a true pair can show a
different photo of the same person on each side.

A photo is usable when it looks like a whole image file (a known signature and, for JPEG
and PNG, the end marker, so truncated files are out) and the folder's ``MANIFEST.tsv``, when
there is one, does not mark it as broken (``hog_faces`` of -1) or as a copy of another
photo. Photos where dlib's detector found exactly one face (``hog_faces`` = 1) are used
first.

The shared development folder holds the same person under more than one name; supplying
both as different people would plant false "true" face matches, so:

- ``derived_hardcases`` is skipped: its photos are rotations, crops and damaged copies of
  photos in the other sets (its ``af_cn103`` is ``asian_faces/cn103``, and so on);
- ``facenet_pytorch``'s ``aligned_`` crops are the same photos as its ``orig_`` files
  (the manifest says so), and its ``angelina_jolie`` is ``deepface/person01``.

The identities the shipped face curves were fitted on (the calibration side of
:func:`~matching.evidence_model.face_curve_fit.calibration_side`, in the curves' sets)
are not supplied: the evaluation weighs faces the calibration never saw.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

from matching.evidence_model.face_curve_fit import CURVE_SETS, calibration_side
from usecases.face_folders import AGE_IN_NAME

logger = logging.getLogger(__name__)

CHILD_PHOTO_UNDER: Final = 16

IMAGE_SUFFIXES: Final = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
EXCLUDED_SETS: Final = frozenset({"derived_hardcases", "negatives"})
SAME_PERSON: Final[Mapping[str, str]] = MappingProxyType(
    {"facenet_pytorch/angelina_jolie": "deepface/person01"}
)
"""Identity keys that are another identity's person, mapped to the key kept."""

MANIFEST_NAME: Final = "MANIFEST.tsv"
_TAIL_BYTES: Final = 4096


@dataclass(frozen=True, slots=True)
class FacePhoto:
    """One usable photo; ``one_face`` is the manifest's verdict (None when unknown);
    ``age`` the person's age in it, when its name says (``ageNN_...``)."""

    path: Path
    one_face: bool | None
    age: int | None = None


@dataclass(frozen=True, slots=True)
class FaceIdentity:
    """One real person's photos, best first (one detected face before unknown or several)."""

    key: str
    photos: tuple[FacePhoto, ...]

    @property
    def aged(self) -> bool:
        """Whether the photos say the person's age in them (a childhood and a grown-up
        photo of one person can be told apart)."""
        ages = [p.age for p in self.photos if p.age is not None]
        return len(ages) >= 2 and min(ages) < CHILD_PHOTO_UNDER <= max(ages)

    @property
    def n_one_face(self) -> int:
        """How many photos the manifest says show exactly one face."""
        return sum(1 for p in self.photos if p.one_face)


@dataclass(frozen=True, slots=True)
class _ManifestRow:
    hog_faces: int | None
    note: str


def looks_like_image(path: Path) -> bool:
    """Whether ``path`` starts with an image signature and, for JPEG/PNG, ends properly."""
    try:
        size = path.stat().st_size
        if size < 64:
            return False
        with path.open("rb") as handle:
            head = handle.read(16)
            handle.seek(max(0, size - _TAIL_BYTES))
            tail = handle.read()
    except OSError:
        return False
    if head.startswith(b"\xff\xd8\xff"):
        # Entropy-coded data never contains FF D9, so a truncated JPEG lacks it at the end.
        return b"\xff\xd9" in tail
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return b"IEND" in tail
    if head.startswith(b"BM"):
        return True
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def _read_manifest(faces_dir: Path) -> dict[str, _ManifestRow]:
    path = faces_dir / MANIFEST_NAME
    if not path.is_file():
        return {}
    rows: dict[str, _ManifestRow] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            rel = (row.get("path") or "").strip()
            if not rel:
                continue
            hog_text = (row.get("hog_faces") or "").strip()
            try:
                hog: int | None = int(hog_text) if hog_text else None
            except ValueError:
                hog = None
            rows[rel] = _ManifestRow(hog, (row.get("note") or "").strip())
    return rows


def _is_identity_folder(folder: Path) -> bool:
    return any(p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir())


def _skipped(name: str) -> bool:
    return name.startswith(("_", "."))


def _identity_folders(faces_dir: Path, exclude_sets: frozenset[str]) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for child in sorted(faces_dir.iterdir()):
        if not child.is_dir() or _skipped(child.name):
            continue
        if _is_identity_folder(child):
            found.append((child.name, child))
            continue
        if child.name in exclude_sets:
            continue
        for grand in sorted(child.iterdir()):
            if grand.is_dir() and not _skipped(grand.name):
                found.append((f"{child.name}/{grand.name}", grand))
    return found


def load_face_identities(
    faces_dir: Path,
    *,
    exclude_sets: frozenset[str] = EXCLUDED_SETS,
    same_person: Mapping[str, str] = SAME_PERSON,
) -> tuple[FaceIdentity, ...]:
    """Every identity under ``faces_dir`` with at least two usable photos, sorted by key.

    Raises ``FileNotFoundError`` when ``faces_dir`` is not a folder.
    """
    if not faces_dir.is_dir():
        raise FileNotFoundError(f"{faces_dir} is not a folder")
    manifest = _read_manifest(faces_dir)
    photos_by_key: dict[str, list[FacePhoto]] = {}
    for key, folder in _identity_folders(faces_dir, exclude_sets):
        kept = same_person.get(key, key)
        bucket = photos_by_key.setdefault(kept, [])
        for path in sorted(folder.iterdir()):
            if not path.is_file() or path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            rel = path.relative_to(faces_dir).as_posix()
            row = manifest.get(rel)
            if row is not None and (row.hog_faces == -1 or "same photo" in row.note.lower()):
                continue
            if not looks_like_image(path):
                continue
            one_face = None if row is None or row.hog_faces is None else row.hog_faces == 1
            age = AGE_IN_NAME.match(path.name)
            bucket.append(FacePhoto(path.resolve(), one_face, int(age.group(1)) if age else None))
    identities = []
    order = {True: 0, None: 1, False: 2}
    for key in sorted(photos_by_key):
        if key.split("/", 1)[0] in CURVE_SETS and calibration_side(key):
            continue  # the face curves were fitted on this person: not for evaluating them
        photos = sorted(photos_by_key[key], key=lambda p: (order[p.one_face], p.path.name))
        if len(photos) >= 2:
            identities.append(FaceIdentity(key, tuple(photos)))
    logger.debug("face supply: %d identities from %s", len(identities), faces_dir)
    return tuple(identities)
