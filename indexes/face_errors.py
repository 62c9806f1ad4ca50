"""Errors of face intake and the face index.

FaceIntakeError
├── ImageRejectedError      not an image we can read, too large, corrupt
├── NoFaceFoundError        a readable image without a usable face
├── SeveralFacesFoundError  several faces: the caller must say which one
├── FaceTooPoorError        a face too small, blurred or turned away to search with
├── FaceWorkersBusyError    every face worker busy and the queue full: try again later
└── FaceWorkerError         a face worker stopped while reading (crashed, or closed)
IndexError_
├── IndexModelMismatchError vectors of another model than the index holds
└── IndexCorruptError       an index file that cannot be read
"""

from __future__ import annotations

from typing import Any


class FaceIntakeError(Exception):
    """Base of the errors of turning an image into a face embedding."""


class ImageRejectedError(FaceIntakeError):
    """The bytes are not an image we accept. ``reason`` is a short machine code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        # Raised in face worker processes: pickled back with both arguments.
        return (type(self), (self.reason, str(self)))


class NoFaceFoundError(FaceIntakeError):
    """No face was found, in any orientation."""


class SeveralFacesFoundError(FaceIntakeError):
    """More than one face was found; ``faces`` holds them so the caller can choose."""

    def __init__(self, faces: list[Any]) -> None:
        super().__init__(f"{len(faces)} faces found; choose one")
        self.faces = faces

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.faces,))


class FaceTooPoorError(FaceIntakeError):
    """The face is too poor for a search to mean anything; ``problems`` says why."""

    def __init__(self, problems: tuple[str, ...]) -> None:
        super().__init__("the face is too poor to search with: " + "; ".join(problems))
        self.problems = problems

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems,))


class FaceWorkersBusyError(FaceIntakeError):
    """Every face worker is busy and the queue is full; ``retry_after`` is in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"every face worker is busy; try again in about {retry_after} seconds")
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.retry_after,))


class FaceWorkerError(FaceIntakeError):
    """A face worker stopped while reading a photo (it crashed, or the pool was closed)."""


class IndexError_(Exception):  # noqa: N801 - the trailing underscore avoids the builtin
    """Base of the face index's errors."""


class IndexModelMismatchError(IndexError_):
    """Embeddings of one model must never be searched against another's."""

    def __init__(self, expected: str, got: str) -> None:
        super().__init__(f"the index holds {expected!r} embeddings, not {got!r}")
        self.expected = expected
        self.got = got

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.expected, self.got))


class IndexCorruptError(IndexError_):
    """An index file or its sidecar cannot be read or does not agree with itself."""
