"""Face intake (image to embedding), the FAISS face index, and their errors.

This package imports nothing else of the project. Models load lazily, on first use.
"""

from indexes.errors import (
    FaceIntakeError,
    ImageRejectedError,
    IndexCorruptError,
    IndexError_,
    IndexModelMismatchError,
    NoFaceFoundError,
    SeveralFacesFoundError,
)
from indexes.face_index import FaceIndex, Neighbour
from indexes.faces import DetectedFace, DlibFaceModel, FaceModel, detect_faces
from indexes.images import DecodedImage, ImageLimits, decode_image

__all__ = [
    "DecodedImage",
    "DetectedFace",
    "DlibFaceModel",
    "FaceIndex",
    "FaceIntakeError",
    "FaceModel",
    "ImageLimits",
    "ImageRejectedError",
    "IndexCorruptError",
    "IndexError_",
    "IndexModelMismatchError",
    "Neighbour",
    "NoFaceFoundError",
    "SeveralFacesFoundError",
    "decode_image",
    "detect_faces",
]
