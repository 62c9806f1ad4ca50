"""Finding faces in an image and turning each into a 128-d embedding.

The model sits behind the ``FaceModel`` protocol so tests can pass a fake; the real
one (dlib through face_recognition) loads on first use, never at import. Detection runs
on a copy bounded in size, so a 12-megapixel phone photo costs what a small one does,
and the boxes are mapped back to the full image.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from indexes.images import DecodedImage

Box = tuple[int, int, int, int]  # top, right, bottom, left: face_recognition's order

DLIB_MODEL_NAME = "dlib_face_recognition_resnet_model_v1"


class FaceModel(Protocol):
    """What face intake needs from a face model."""

    @property
    def name(self) -> str:
        """Names the embedding space; embeddings of different names never mix."""
        ...

    def locate(self, rgb: NDArray[np.uint8], *, upsample: int) -> list[Box]:
        """Boxes of the faces in an RGB image."""
        ...

    def encode(self, rgb: NDArray[np.uint8], boxes: list[Box]) -> NDArray[np.float32]:
        """One embedding a box, as an ``(n, dim)`` array."""
        ...


class DlibFaceModel:
    """dlib's HOG detector and ResNet embedding, through face_recognition.

    The embedding model was trained mostly on Western adults; what its distances mean
    for the people xunqin serves is the calibration's business, not this class's.
    """

    name = DLIB_MODEL_NAME

    def __init__(self) -> None:
        self._api: Any = None

    def _load(self) -> Any:
        if self._api is None:
            with warnings.catch_warnings():
                # face_recognition_models imports pkg_resources; not ours to fix.
                warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
                import face_recognition  # heavy: loads dlib and the model files

            self._api = face_recognition
        return self._api

    def locate(self, rgb: NDArray[np.uint8], *, upsample: int) -> list[Box]:
        """Face boxes from the HOG detector."""
        boxes = self._load().face_locations(rgb, number_of_times_to_upsample=upsample)
        return [tuple(int(v) for v in box) for box in boxes]  # type: ignore[misc]

    def encode(self, rgb: NDArray[np.uint8], boxes: list[Box]) -> NDArray[np.float32]:
        """128-d embeddings, one a box."""
        if not boxes:
            return np.zeros((0, 128), dtype=np.float32)
        encodings = self._load().face_encodings(rgb, known_face_locations=boxes)
        return np.asarray(encodings, dtype=np.float32).reshape(len(boxes), -1)


@dataclass(frozen=True)
class DetectedFace:
    """One face: where it is in the upright image, how good it is, and its embedding."""

    box: Box
    width_px: int
    sharpness: float
    embedding: NDArray[np.float32]
    rotation: int  # degrees counter-clockwise the image had to turn to find the face

    @property
    def area(self) -> int:
        """The box's area in pixels, to rank faces in a group photo."""
        top, right, bottom, left = self.box
        return max(0, bottom - top) * max(0, right - left)


@dataclass(frozen=True)
class DetectionSettings:
    """How hard detection tries."""

    max_side: int = 1024
    min_face_px: int = 24
    upsample_small: int = 2
    small_side: int = 640
    try_rotations: bool = True


def _bounded(rgb: NDArray[np.uint8], max_side: int) -> tuple[NDArray[np.uint8], float]:
    height, width = rgb.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    if scale >= 1.0:
        return rgb, 1.0
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR)
    return np.ascontiguousarray(np.asarray(small, dtype=np.uint8)), scale


def _sharpness(gray: NDArray[np.float64]) -> float:
    # Variance of the Laplacian: low on blurred faces, high on crisp ones.
    if gray.shape[0] < 3 or gray.shape[1] < 3:
        return 0.0
    lap = gray[1:-1, :-2] + gray[1:-1, 2:] + gray[:-2, 1:-1] + gray[2:, 1:-1] - 4 * gray[1:-1, 1:-1]
    return float(lap.var())


def _face_sharpness(rgb: NDArray[np.uint8], box: Box) -> float:
    top, right, bottom, left = box
    crop = rgb[max(0, top) : max(0, bottom), max(0, left) : max(0, right)]
    if crop.size == 0:
        return 0.0
    gray = Image.fromarray(crop).convert("L").resize((96, 96), Image.Resampling.BILINEAR)
    return _sharpness(np.asarray(gray, dtype=np.float64))


def _locate(model: FaceModel, rgb: NDArray[np.uint8], settings: DetectionSettings) -> list[Box]:
    boxes = model.locate(rgb, upsample=1)
    if not boxes and max(rgb.shape[:2]) <= settings.small_side:
        # Small images hold small faces; HOG misses faces under ~80 px at one upsample.
        boxes = model.locate(rgb, upsample=settings.upsample_small)
    return boxes


def detect_faces(
    image: DecodedImage, model: FaceModel, *, settings: DetectionSettings | None = None
) -> list[DetectedFace]:
    """Every face in the image, largest first; rotated copies are tried if none is upright.

    Boxes are in pixels of the image rotated by ``rotation`` degrees (0 for upright).
    """
    settings = settings or DetectionSettings()
    rotations = (0, 90, 270, 180) if settings.try_rotations else (0,)
    for rotation in rotations:
        full = np.ascontiguousarray(np.rot90(image.rgb, k=rotation // 90))
        small, scale = _bounded(full, settings.max_side)
        boxes = [box for box in _locate(model, small, settings) if box[1] - box[3] >= 4]
        if not boxes:
            continue
        embeddings = model.encode(small, boxes)
        faces = []
        for box, embedding in zip(boxes, embeddings, strict=True):
            full_box: Box = (
                round(box[0] / scale),
                round(box[1] / scale),
                round(box[2] / scale),
                round(box[3] / scale),
            )
            faces.append(
                DetectedFace(
                    box=full_box,
                    width_px=full_box[1] - full_box[3],
                    sharpness=_face_sharpness(small, box),
                    embedding=np.ascontiguousarray(embedding, dtype=np.float32),
                    rotation=rotation,
                )
            )
        return sorted(faces, key=lambda face: face.area, reverse=True)
    return []
