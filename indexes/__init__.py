"""Face intake (image to embedding), the FAISS face index, and their errors.

This package imports nothing else of the project. Models load lazily, on first use.
"""

from indexes.errors import (
    FaceIntakeError,
    FaceTooPoorError,
    ImageRejectedError,
    IndexCorruptError,
    IndexError_,
    IndexModelMismatchError,
    NoFaceFoundError,
    SeveralFacesFoundError,
)
from indexes.face_index import (
    UNKNOWN,
    FaceIndex,
    Filters,
    HnswParams,
    IndexKind,
    Neighbour,
    PersonNeighbour,
    set_search_threads,
)
from indexes.faces import (
    DetectedFace,
    DetectionSettings,
    DlibFaceModel,
    FaceModel,
    FaceQuality,
    QualityRules,
    detect_faces,
)
from indexes.images import DecodedImage, ImageLimits, decode_image

__all__ = [
    "DecodedImage",
    "DetectedFace",
    "DetectionSettings",
    "DlibFaceModel",
    "FaceIndex",
    "Filters",
    "HnswParams",
    "IndexKind",
    "PersonNeighbour",
    "UNKNOWN",
    "FaceIntakeError",
    "FaceQuality",
    "FaceTooPoorError",
    "FaceModel",
    "ImageLimits",
    "ImageRejectedError",
    "IndexCorruptError",
    "IndexError_",
    "IndexModelMismatchError",
    "Neighbour",
    "NoFaceFoundError",
    "QualityRules",
    "SeveralFacesFoundError",
    "decode_image",
    "detect_faces",
    "set_search_threads",
]
