"""What a user would try instead of xunqin, run on the same store in the same run.

- ``face_only``: the smallest face distance between the two records' photos;
- ``name_ratio``: rapidfuzz's ratio on the Chinese names as written (stated name only);
- ``pinyin_exact``: exact toneless pinyin of the stated names.

Each returns, for every found person, its best reports (and for every report its best
found persons) with one score each: higher means more alike.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from pypinyin import Style, lazy_pinyin
from rapidfuzz import fuzz, process

Pair = tuple[str, str, float]  # missing ref, found ref, score


@dataclass(frozen=True)
class SideRecords:
    """One side's refs, stated names and face embeddings (one array per record)."""

    refs: list[str]
    names: list[str | None]
    faces: list[NDArray[np.float32]]


def top_pairs(scores: NDArray[np.float64], missing: SideRecords, found: SideRecords,
              keep: int) -> list[Pair]:  # fmt: skip
    """The pairs among the ``keep`` best of each found person and of each report.

    ``scores`` is a (found, missing) matrix with ``-inf`` where a method has nothing to say.
    """
    chosen: set[tuple[int, int]] = set()
    k_m = min(keep, scores.shape[1])
    k_f = min(keep, scores.shape[0])
    if k_m and k_f:
        by_found = np.argpartition(-scores, k_m - 1, axis=1)[:, :k_m]
        by_missing = np.argpartition(-scores, k_f - 1, axis=0)[:k_f, :]
        chosen.update((int(j), int(i)) for j, row in enumerate(by_found) for i in row)
        chosen.update((int(j), int(i)) for i, col in enumerate(by_missing.T) for j in col)
    return [
        (missing.refs[i], found.refs[j], float(scores[j, i]))
        for j, i in sorted(chosen)
        if np.isfinite(scores[j, i])
    ]


def face_only(missing: SideRecords, found: SideRecords, *, keep: int) -> list[Pair]:
    """Negative smallest face distance; pairs without a face on both sides are not scored."""
    m_rows = [(i, v) for i, faces in enumerate(missing.faces) for v in faces]
    f_rows = [(j, v) for j, faces in enumerate(found.faces) for v in faces]
    scores = np.full((len(found.refs), len(missing.refs)), -np.inf)
    if m_rows and f_rows:
        m_owner = np.array([i for i, _ in m_rows])
        f_owner = np.array([j for j, _ in f_rows])
        m_vec = np.stack([v for _, v in m_rows]).astype(np.float64)
        f_vec = np.stack([v for _, v in f_rows]).astype(np.float64)
        sq = (f_vec**2).sum(1)[:, None] + (m_vec**2).sum(1)[None, :] - 2 * f_vec @ m_vec.T
        dist = np.sqrt(np.maximum(sq, 0.0))
        for a, j in enumerate(f_owner):
            np.maximum.at(scores[j], m_owner, -dist[a])
    return top_pairs(scores, missing, found, keep)


def name_ratio(missing: SideRecords, found: SideRecords, *, keep: int) -> list[Pair]:
    """rapidfuzz ratio (0-100) of the stated names; a missing name is not scored."""
    m_names = [n or "" for n in missing.names]
    f_names = [n or "" for n in found.names]
    matrix = process.cdist(f_names, m_names, scorer=fuzz.ratio, workers=-1, dtype=np.float32)
    scores = matrix.astype(np.float64)
    scores[[not n for n in f_names], :] = -np.inf
    scores[:, [not n for n in m_names]] = -np.inf
    return top_pairs(scores, missing, found, keep)


def _pinyin(name: str | None) -> str | None:
    if not name:
        return None
    return "".join(lazy_pinyin(name, style=Style.NORMAL, errors="ignore")).lower() or None


def pinyin_exact(missing: SideRecords, found: SideRecords, *, keep: int) -> list[Pair]:
    """1.0 for every pair whose stated names have the same toneless pinyin."""
    by_key: dict[str, list[int]] = defaultdict(list)
    for i, name in enumerate(missing.names):
        key = _pinyin(name)
        if key:
            by_key[key].append(i)
    pairs: list[Pair] = []
    for j, name in enumerate(found.names):
        key = _pinyin(name)
        for i in by_key.get(key or "", [])[:keep]:
            pairs.append((missing.refs[i], found.refs[j], 1.0))
    return pairs


BASELINES = {"face_only": face_only, "name_ratio": name_ratio, "pinyin_exact": pinyin_exact}


def rankings(pairs: Sequence[Pair]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Per found person its reports best first, and per report its found persons."""
    by_found: dict[str, list[tuple[float, str]]] = defaultdict(list)
    by_missing: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for m_ref, f_ref, score in pairs:
        by_found[f_ref].append((score, m_ref))
        by_missing[m_ref].append((score, f_ref))
    # Ties keep reference order: a baseline that cannot tell pairs apart gets no help.
    return (
        {f: [m for _, m in sorted(v, key=lambda t: (-t[0], t[1]))] for f, v in by_found.items()},
        {m: [f for _, f in sorted(v, key=lambda t: (-t[0], t[1]))] for m, v in by_missing.items()},
    )
