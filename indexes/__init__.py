"""Face intake (image to embedding), the FAISS face index, and their errors.

This package imports nothing else of the project. Models load lazily, on first use.
"""

from indexes.face_errors import (
    FaceIntakeError,
    FaceTooPoorError,
    FaceWorkerError,
    FaceWorkersBusyError,
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
from indexes.face_reading import (
    FaceReader,
    FaceReading,
    FaceWorkerPool,
    SerialFaceReader,
    available_cores,
    read_faces,
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
    "FaceReader",
    "FaceReading",
    "FaceTooPoorError",
    "FaceWorkerError",
    "FaceWorkerPool",
    "FaceWorkersBusyError",
    "FaceModel",
    "ImageLimits",
    "ImageRejectedError",
    "IndexCorruptError",
    "IndexError_",
    "IndexModelMismatchError",
    "Neighbour",
    "NoFaceFoundError",
    "QualityRules",
    "SerialFaceReader",
    "available_cores",
    "SeveralFacesFoundError",
    "decode_image",
    "detect_faces",
    "read_faces",
    "set_search_threads",
]
