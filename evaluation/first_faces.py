"""Face distances between two records' photos."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def min_face_distance(left: NDArray[np.float32], right: NDArray[np.float32]) -> float | None:
    """The smallest Euclidean distance between any face of one side and any of the other.

    ``None`` when either side has no face: no photo is no evidence.
    """
    if left.shape[0] == 0 or right.shape[0] == 0:
        return None
    diff = left[:, None, :] - right[None, :, :]
    return float(np.sqrt((diff * diff).sum(axis=2)).min())
