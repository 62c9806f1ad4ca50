"""Finding faces in an image, judging their quality, and turning each into an embedding.

The model sits behind the ``FaceModel`` protocol so tests can pass a fake; the real
one (dlib through face_recognition) loads on first use, never at import. Detection runs
on a copy bounded in size, so a 12-megapixel phone photo costs what a small one does.
It first looks without upsampling, which is cheap and enough when it finds a large face
(a phone photo of one person); otherwise it tries harder (upsampling for small faces,
then the other three rotations). Boxes are mapped back to the full upright image.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from indexes.images import DecodedImage

Box = tuple[int, int, int, int]  # top, right, bottom, left: face_recognition's order
Landmarks = dict[str, list[tuple[int, int]]]

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

    def landmarks(self, rgb: NDArray[np.uint8], boxes: list[Box]) -> list[Landmarks]:
        """Facial landmarks (eyes, nose tip, ...) for each box; used to judge pose."""
        ...


class DlibFaceModel:
    """dlib's HOG detector and ResNet embedding, through face_recognition.

    The embedding model was trained mostly on Western adults; what its distances mean
    for the people xunqin serves is the calibration's business, not this class's.
    """

    name = DLIB_MODEL_NAME

    def __init__(self) -> None:
        self._api: Any = None

    def __getstate__(self) -> dict[str, Any]:
        # Sent to face worker processes unloaded: each loads dlib for itself.
        return {"_api": None}

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

    def landmarks(self, rgb: NDArray[np.uint8], boxes: list[Box]) -> list[Landmarks]:
        """dlib's 68-point landmarks, grouped by feature."""
        if not boxes:
            return []
        found = self._load().face_landmarks(rgb, face_locations=boxes, model="large")
        return [{k: [(int(x), int(y)) for x, y in v] for k, v in f.items()} for f in found]


@dataclass(frozen=True)
class FaceQuality:
    """How much a face can mean: its size, sharpness and pose.

    ``yaw`` is the nose tip's offset from the eyes' midpoint in eye distances (0 facing
    the camera, about ±0.5 half turned); ``roll`` is the eye line's tilt in degrees.
    """

    width_px: int
    sharpness: float
    yaw: float | None
    roll: float | None
    problems: tuple[str, ...] = field(default=())

    @property
    def searchable(self) -> bool:
        """Whether a search with this face means anything."""
        return not self.problems


@dataclass(frozen=True)
class QualityRules:
    """Below these, a face is too poor to search with."""

    min_width_px: int = 40
    min_sharpness: float = 8.0
    max_abs_yaw: float = 0.45
    max_abs_roll: float = 40.0


@dataclass(frozen=True)
class DetectedFace:
    """One face: where it is in the upright image, how good it is, and its embedding."""

    box: Box
    quality: FaceQuality
    embedding: NDArray[np.float32]
    rotation: int  # degrees counter-clockwise the image had to turn to find the face

    @property
    def width_px(self) -> int:
        """The face box's width in pixels of the full-size image."""
        return self.quality.width_px

    @property
    def sharpness(self) -> float:
        """Variance of the Laplacian over the face, at a fixed size."""
        return self.quality.sharpness

    @property
    def area(self) -> int:
        """The box's area in pixels, to rank faces in a group photo."""
        top, right, bottom, left = self.box
        return max(0, bottom - top) * max(0, right - left)


HOG_SMALLEST_FACE_PX = 80
"""dlib's HOG detector scans an 80 px window: without upsampling it misses smaller faces."""


@dataclass(frozen=True)
class DetectionSettings:
    """How hard detection tries, and what counts as a usable face.

    Detection first looks at the copy bounded by ``max_side`` without upsampling. When
    that finds a face at least ``large_face_px`` wide (in the copy's pixels), the search
    ends there: every face at least half as wide was looked for (the detector finds faces
    from ``HOG_SMALLEST_FACE_PX`` without upsampling), and upsampling, at about four times
    the cost, could only add faces less than half as wide. Otherwise detection upsamples
    once, then ``upsample_retry`` times, then tries the other rotations. With
    ``large_face_px=None`` it always upsamples.
    """

    max_side: int = 800
    upsample_retry: int = 2
    try_rotations: bool = True
    large_face_px: int | None = 2 * HOG_SMALLEST_FACE_PX
    rules: QualityRules = field(default_factory=QualityRules)

    def __post_init__(self) -> None:
        if self.large_face_px is not None and self.large_face_px < 2 * HOG_SMALLEST_FACE_PX:
            raise ValueError(
                f"large_face_px must be None or at least {2 * HOG_SMALLEST_FACE_PX} "
                f"(twice the smallest face found without upsampling), not {self.large_face_px}"
            )
        if self.upsample_retry < 1:
            raise ValueError(f"upsample_retry must be at least 1, not {self.upsample_retry}")


def _turned(image: DecodedImage, max_side: int, rotation: int) -> tuple[NDArray[np.uint8], float]:
    """The copy bounded by ``max_side``, turned ``rotation`` degrees counter-clockwise.

    Turning the bounded copy gives the same pixels as bounding the turned image (the
    bound is on the longer side), at a fraction of the cost.
    """
    small, scale = image.bounded(max_side)
    if rotation:
        small = np.ascontiguousarray(np.rot90(small, k=rotation // 90))
    return small, scale


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


def _mean(points: list[tuple[int, int]]) -> tuple[float, float]:
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def pose(landmarks: Landmarks) -> tuple[float | None, float | None]:
    """Yaw (nose offset in eye distances) and roll (degrees) from 68-point landmarks."""
    try:
        left, right = _mean(landmarks["left_eye"]), _mean(landmarks["right_eye"])
        nose = _mean(landmarks["nose_tip"])
    except (KeyError, ZeroDivisionError):
        return None, None
    eye_dx, eye_dy = right[0] - left[0], right[1] - left[1]
    distance = math.hypot(eye_dx, eye_dy)
    if distance < 1:
        return None, None
    middle = ((left[0] + right[0]) / 2, (left[1] + right[1]) / 2)
    # Project the nose offset on the eye line: sideways turn, not nodding.
    yaw = ((nose[0] - middle[0]) * eye_dx + (nose[1] - middle[1]) * eye_dy) / distance**2
    roll = math.degrees(math.atan2(eye_dy, eye_dx))
    return yaw, roll


def judge(width_px: int, sharpness: float, yaw: float | None, roll: float | None,
          rules: QualityRules) -> FaceQuality:  # fmt: skip
    """A face's quality record, with a plain reason for each problem."""
    problems = []
    if width_px < rules.min_width_px:
        problems.append(f"the face is only {width_px} px wide (at least {rules.min_width_px})")
    if sharpness < rules.min_sharpness:
        problems.append(f"the face is blurred (sharpness {sharpness:.1f})")
    if yaw is not None and abs(yaw) > rules.max_abs_yaw:
        problems.append("the face is turned away from the camera")
    if roll is not None and abs(roll) > rules.max_abs_roll:
        problems.append(f"the face is tilted {abs(roll):.0f} degrees")
    return FaceQuality(width_px, sharpness, yaw, roll, tuple(problems))


def _attempts(settings: DetectionSettings) -> list[tuple[int, int]]:
    """(rotation, upsample) in the order tried; upsampling only where it can help."""
    tries = [(0, 0)] if settings.large_face_px is not None else []
    tries += [(0, 1), (0, settings.upsample_retry)]
    if settings.try_rotations:
        tries += [(90, 1), (270, 1), (180, 1)]
    return list(dict.fromkeys(tries))


def _width(box: Box) -> int:
    return box[1] - box[3]


def detect_faces(
    image: DecodedImage, model: FaceModel, *, settings: DetectionSettings | None = None
) -> list[DetectedFace]:
    """Every face in the image, largest first.

    Boxes are in pixels of the full-size upright image turned by ``rotation`` degrees
    (0 when the face was found upright). See ``DetectionSettings`` for how hard it looks.
    """
    settings = settings or DetectionSettings()
    rotated: dict[int, tuple[NDArray[np.uint8], float]] = {}
    glimpsed: list[Box] = []  # found upright without upsampling, none of them large
    for rotation, upsample in _attempts(settings):
        if rotation not in rotated:
            rotated[rotation] = _turned(image, settings.max_side, rotation)
        small, bounded_scale = rotated[rotation]
        boxes = [b for b in model.locate(small, upsample=upsample) if _width(b) >= 4]
        if upsample == 0:
            large = settings.large_face_px or 0
            if boxes and max(_width(b) for b in boxes) >= large:
                return _describe(image, model, small, boxes, image.scale * bounded_scale,
                                 rotation, settings)  # fmt: skip
            glimpsed = boxes
            continue
        if not boxes and rotation == 0:
            boxes = glimpsed  # found without upsampling, lost with it: keep them
        if not boxes:
            continue
        if upsample > 1:
            # Small faces: embed them from a sharper copy than the one they were found in.
            larger, larger_scale = _turned(image, settings.max_side * upsample, rotation)
            ratio = larger_scale / bounded_scale
            boxes = [(round(t * ratio), round(r * ratio), round(b * ratio), round(lf * ratio))
                     for t, r, b, lf in boxes]  # fmt: skip
            small, bounded_scale = larger, larger_scale
        return _describe(image, model, small, boxes, image.scale * bounded_scale, rotation,
                         settings)  # fmt: skip
    return []


def _describe(
    image: DecodedImage,
    model: FaceModel,
    small: NDArray[np.uint8],
    boxes: list[Box],
    scale: float,
    rotation: int,
    settings: DetectionSettings,
) -> list[DetectedFace]:
    embeddings = model.encode(small, boxes)
    marks = model.landmarks(small, boxes)
    faces = []
    for box, embedding, landmark in zip(boxes, embeddings, marks, strict=True):
        full_box: Box = (
            round(box[0] / scale), round(box[1] / scale),
            round(box[2] / scale), round(box[3] / scale),
        )  # fmt: skip
        yaw, roll = pose(landmark)
        quality = judge(full_box[1] - full_box[3], _face_sharpness(small, box), yaw, roll,
                        settings.rules)  # fmt: skip
        faces.append(
            DetectedFace(
                box=full_box,
                quality=quality,
                embedding=np.ascontiguousarray(embedding, dtype=np.float32),
                rotation=rotation,
            )
        )
    return sorted(faces, key=lambda face: face.area, reverse=True)
