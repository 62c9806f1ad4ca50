"""Synthetic face embeddings that behave like dlib's, for benchmarking the face index.

Independent Gaussian vectors are a poor stand-in for faces: real embeddings live near a
low-dimensional surface (an effective dimension near 25 of 128) and come in clusters,
one a person, because a person has several photos. Search difficulty depends on both.

This module

- embeds the development photos (``../shared/faces``: ``<set>/<identity>/<photo>``,
  folders starting with ``_`` skipped) with the service's own intake
  (``decode_image``, ``detect_faces``, ``DlibFaceModel``), caching the embeddings in
  ``.cache/face_embeddings.npz`` because encoding ~900 photos takes minutes;
- fits ``FaceStatistics``: the mean, the between-person covariance (of the people's
  centres) and the within-person covariance (of photos around their person's centre),
  each kept as a low-rank eigen-decomposition plus an isotropic rest;
- draws people with 1-5 photos each from those statistics (``draw_faces``), seeded.

Without the photos, the statistics fitted once on them are read from
``evaluation/data/face_statistics.npz`` (numbers only: a mean, eigenvalues and
eigenvectors; no photo and no single person's embedding).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

logger = logging.getLogger(__name__)

FACE_SETS: Final = ("asian_faces", "lfw_krasserm", "deepface", "orl_att", "five_celebrity")
IMAGE_SUFFIXES: Final = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".pgm"})
DEFAULT_FACES_DIR: Final = Path(__file__).resolve().parents[3] / "shared" / "faces"
DEFAULT_CACHE: Final = Path(__file__).resolve().parents[2] / ".cache" / "face_embeddings.npz"
BUILTIN_STATISTICS: Final = Path(__file__).resolve().parents[1] / "data" / "face_statistics.npz"


@dataclass(frozen=True)
class FaceEmbeddings:
    """Embeddings of real photos and whose they are (``labels[i]`` is ``set/identity``)."""

    vectors: NDArray[np.float32]
    labels: NDArray[np.str_]


def _photo_files(faces_dir: Path, sets: Sequence[str]) -> list[tuple[str, Path]]:
    files: list[tuple[str, Path]] = []
    for set_name in sets:
        set_dir = faces_dir / set_name
        if not set_dir.is_dir():
            continue
        for identity in sorted(set_dir.iterdir()):
            if not identity.is_dir() or identity.name.startswith(("_", ".")):
                continue
            for photo in sorted(identity.iterdir()):
                if photo.is_file() and photo.suffix.lower() in IMAGE_SUFFIXES:
                    files.append((f"{set_name}/{identity.name}", photo))
    return files


def embed_face_photos(
    faces_dir: Path, *, cache: Path | None = DEFAULT_CACHE, sets: Sequence[str] = FACE_SETS
) -> FaceEmbeddings:
    """One embedding a photo showing exactly one face, cached in ``cache``.

    The cache is reused when it lists the same photo files; photos that cannot be read or
    that show no face or several faces are left out.
    """
    from indexes import DlibFaceModel, FaceIntakeError, decode_image, detect_faces

    files = _photo_files(faces_dir, sets)
    names = np.array([str(path.relative_to(faces_dir)) for _, path in files])
    if cache is not None and cache.exists():
        with np.load(cache, allow_pickle=False) as stored:
            if np.array_equal(stored["files"], names):
                return FaceEmbeddings(stored["vectors"], stored["labels"])
    model = DlibFaceModel()
    vectors: list[NDArray[np.float32]] = []
    labels: list[str] = []
    for number, (label, path) in enumerate(files):
        try:
            faces = detect_faces(decode_image(path.read_bytes()), model)
        except FaceIntakeError:
            continue
        if len(faces) == 1:
            vectors.append(faces[0].embedding)
            labels.append(label)
        if number % 100 == 99:
            logger.info("embedded %d of %d photos", number + 1, len(files))
    result = FaceEmbeddings(
        np.asarray(vectors, dtype=np.float32).reshape(-1, 128), np.array(labels)
    )
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, vectors=result.vectors, labels=result.labels, files=names)
    return result


@dataclass(frozen=True)
class LowRankGaussian:
    """A zero-mean Gaussian: ``components`` (r, d) with ``variances`` (r,) plus ``rest``.

    ``rest`` is the variance of each of the other ``d - r`` directions, spread evenly.
    """

    components: NDArray[np.float64]
    variances: NDArray[np.float64]
    rest: float

    @classmethod
    def from_covariance(cls, covariance: NDArray[np.float64], *, kept: float) -> LowRankGaussian:
        """Keep the leading directions holding ``kept`` of the variance."""
        values, vectors = np.linalg.eigh((covariance + covariance.T) / 2)
        values, vectors = np.clip(values[::-1], 0.0, None), vectors[:, ::-1]
        total = float(values.sum())
        rank = int(np.searchsorted(np.cumsum(values) / total, kept) + 1)
        rank = min(rank, len(values))
        rest = float(values[rank:].sum()) / max(1, len(values) - rank)
        return cls(vectors[:, :rank].T.copy(), values[:rank].copy(), rest)

    @property
    def trace(self) -> float:
        """Total variance."""
        d = int(self.components.shape[1])
        return float(self.variances.sum()) + self.rest * float(d - len(self.variances))

    def draw(self, n: int, rng: np.random.Generator) -> NDArray[np.float32]:
        """``n`` draws, as float32 rows."""
        d = self.components.shape[1]
        r = len(self.variances)
        z = rng.standard_normal((n, r), dtype=np.float32) * np.sqrt(self.variances).astype(
            np.float32
        )
        out = z @ self.components.astype(np.float32)
        if self.rest > 0:
            g = rng.standard_normal((n, d), dtype=np.float32)
            basis = self.components.astype(np.float32)
            g -= (g @ basis.T) @ basis  # only the directions the components leave out
            out += np.float32(np.sqrt(self.rest)) * g
        return out


@dataclass(frozen=True)
class FaceStatistics:
    """Where face embeddings sit: a mean, how people differ, how one person's photos do."""

    mean: NDArray[np.float64]
    between: LowRankGaussian
    within: LowRankGaussian
    source: str

    @classmethod
    def fit(cls, embeddings: FaceEmbeddings, *, kept: float = 0.995) -> FaceStatistics:
        """Fit from embeddings of people with two photos or more.

        The between-person covariance is that of the people's mean embeddings, less the
        part their photos' own spread puts there (``W / n`` for a mean of ``n`` photos).
        """
        vectors = embeddings.vectors.astype(np.float64)
        names, person, counts = np.unique(
            embeddings.labels, return_inverse=True, return_counts=True
        )
        several = counts[person] >= 2
        vectors, person = vectors[several], np.unique(person[several], return_inverse=True)[1]
        counts = np.bincount(person)
        centres = np.stack([vectors[person == p].mean(axis=0) for p in range(len(counts))])
        deviations = vectors - centres[person]
        within = deviations.T @ deviations / (len(vectors) - len(counts))
        between = np.cov(centres.T) - float(np.mean(1.0 / counts)) * within
        return cls(
            mean=vectors.mean(axis=0),
            between=LowRankGaussian.from_covariance(between, kept=kept),
            within=LowRankGaussian.from_covariance(within, kept=kept),
            source=f"{len(vectors)} photos of {len(counts)} people",
        )

    def save(self, path: Path) -> None:
        """Write the statistics (numbers only) as ``.npz``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(
            path,
            mean=self.mean,
            between_components=self.between.components,
            between_variances=self.between.variances,
            between_rest=self.between.rest,
            within_components=self.within.components,
            within_variances=self.within.variances,
            within_rest=self.within.rest,
            source=self.source,
        )

    @classmethod
    def read(cls, path: Path) -> FaceStatistics:
        """Read statistics written by ``save``."""
        with np.load(path, allow_pickle=False) as data:
            return cls(
                mean=data["mean"],
                between=LowRankGaussian(
                    data["between_components"],
                    data["between_variances"],
                    float(data["between_rest"]),
                ),
                within=LowRankGaussian(
                    data["within_components"],
                    data["within_variances"],
                    float(data["within_rest"]),
                ),
                source=str(data["source"]),
            )


def face_statistics(
    faces_dir: Path | None = DEFAULT_FACES_DIR, *, cache: Path | None = DEFAULT_CACHE
) -> FaceStatistics:
    """Statistics fitted on the development photos, or the built-in ones without them."""
    if faces_dir is not None and faces_dir.is_dir():
        return FaceStatistics.fit(embed_face_photos(faces_dir, cache=cache))
    logger.info("no photos at %s: using the built-in face statistics", faces_dir)
    return FaceStatistics.read(BUILTIN_STATISTICS)


PHOTOS_PER_PERSON: Final = (0.35, 0.25, 0.2, 0.12, 0.08)
"""Chance that a person has 1, 2, 3, 4 or 5 photos (mean 2.33)."""


@dataclass(frozen=True)
class SyntheticFaces:
    """Drawn embeddings and whose they are (``person[i]`` owns ``vectors[i]``)."""

    vectors: NDArray[np.float32]
    person: NDArray[np.int64]


def draw_faces(
    stats: FaceStatistics,
    n_vectors: int,
    *,
    seed: int,
    photos_per_person: Sequence[float] = PHOTOS_PER_PERSON,
    within_scale: float = 1.0,
) -> SyntheticFaces:
    """``n_vectors`` embeddings of people with 1-5 photos each, shuffled, seeded.

    ``within_scale`` widens (above 1) or narrows each person's spread of photos.
    """
    rng = np.random.default_rng(seed)
    shares = np.asarray(photos_per_person, dtype=np.float64)
    mean_photos = float((np.arange(1, len(shares) + 1) * shares).sum() / shares.sum())
    counts = rng.choice(
        np.arange(1, len(shares) + 1),
        size=int(n_vectors / mean_photos) + 16,
        p=shares / shares.sum(),
    )
    counts = counts[: int(np.searchsorted(np.cumsum(counts), n_vectors)) + 1]
    counts[-1] -= int(counts.sum()) - n_vectors
    person = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    vectors = np.empty((n_vectors, len(stats.mean)), dtype=np.float32)
    chunk = 200_000
    for start in range(0, n_vectors, chunk):
        stop = min(n_vectors, start + chunk)
        first, last = int(person[start]), int(person[stop - 1])
        centres = stats.between.draw(last - first + 1, rng)
        noise = stats.within.draw(stop - start, rng) * np.float32(within_scale)
        vectors[start:stop] = centres[person[start:stop] - first] + noise
    vectors += stats.mean.astype(np.float32)
    order = rng.permutation(n_vectors)
    return SyntheticFaces(vectors[order], person[order])


def draw_queries(
    stats: FaceStatistics,
    faces: SyntheticFaces,
    n_queries: int,
    *,
    seed: int,
    known_share: float = 0.5,
    within_scale: float = 1.0,
) -> NDArray[np.float32]:
    """Query embeddings: new photos of people in ``faces`` (``known_share``) or strangers.

    A new photo of a known person is drawn around the mean of that person's photos in
    ``faces`` (the person's centre is not kept), which is what a second photo looks like.
    """
    rng = np.random.default_rng(seed)
    n_known = int(round(n_queries * known_share))
    chosen = rng.choice(int(faces.person.max()) + 1, size=n_known, replace=False)
    known = np.stack([faces.vectors[faces.person == p].mean(axis=0) for p in chosen])
    strangers = stats.between.draw(n_queries - n_known, rng) + stats.mean.astype(np.float32)
    centres = np.concatenate([known, strangers]).astype(np.float32)
    noise = stats.within.draw(n_queries, rng) * np.float32(within_scale)
    return np.ascontiguousarray(centres + noise)


@dataclass(frozen=True)
class DistanceCheck:
    """Mean distances between photos of one person and of different people."""

    same_person: float
    different_people: float

    @classmethod
    def from_faces(
        cls, vectors: NDArray[np.float32], person: NDArray[Any], *, pairs: int, seed: int
    ) -> DistanceCheck:
        """Estimate both means from ``pairs`` random pairs of each kind."""
        rng = np.random.default_rng(seed)
        order = np.argsort(person, kind="stable")
        sorted_person = person[order]
        starts = np.flatnonzero(np.r_[True, sorted_person[1:] != sorted_person[:-1]])
        sizes = np.diff(np.r_[starts, len(order)])
        multi = np.flatnonzero(sizes >= 2)
        group = rng.choice(
            multi,
            size=pairs,
            p=(sizes[multi] * (sizes[multi] - 1)) / np.sum(sizes[multi] * (sizes[multi] - 1)),
        )
        a_off = rng.integers(0, sizes[group])
        b_off = (a_off + rng.integers(1, sizes[group])) % sizes[group]
        a, b = order[starts[group] + a_off], order[starts[group] + b_off]
        same = np.linalg.norm(vectors[a] - vectors[b], axis=1).mean()
        i, j = rng.integers(0, len(person), size=(2, pairs * 2))
        keep = person[i] != person[j]
        diff = np.linalg.norm(vectors[i[keep]] - vectors[j[keep]], axis=1).mean()
        return cls(float(same), float(diff))
