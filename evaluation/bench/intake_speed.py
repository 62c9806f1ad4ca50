"""Face intake and photo search speed, each against a baseline in the same run.

    .venv/bin/python -m evaluation.bench.intake_speed --out bench/results

- Intake: photos per second from file bytes to embeddings and quality records (decode,
  detect on a bounded copy, embed: what the store keeps of a photo), with one worker
  process and with two (both cores here), over development photos (``../shared/faces``)
  and over 12-megapixel phone photos made in memory (``phone_photo``) from those of them
  at least 250 px on their shorter side.
  Baseline: the stock face_recognition path (``load_image_file``, ``face_locations``,
  ``face_encodings``) on the same photos, in the same run. Beside speed: in how many
  photos each path found a face, and how far apart the two paths' embeddings of the same
  face are, so a faster but worse change shows.
- Import: the same photos through the real import (rows, photo files, face index), one
  process, from files; the 12-megapixel ones are written to a temporary folder outside
  the repository and deleted afterwards.
- Upload to candidates: ``POST /search/photo`` over HTTP to the service running in its
  own process (uvicorn with ``api.app:create_app``, as ``xunqin serve`` runs it) on a
  store of 100,000 faces drawn like dlib embeddings (``evaluation.bench.face_vectors``), plus, for
  each query person, one report holding another real photo of them. Latency p50, p90 and
  p99 for original and 12-megapixel uploads, and how often that report comes first.

Results go to ``<out>/intake.json`` and ``<out>/intake.md``; progress goes to stderr. The
machine is shared and noisy: compare ratios within one run, and read the CPU seconds per
photo beside the wall-clock rates.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import multiprocessing
import os
import platform
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any, Final, TypeVar

import httpx
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps

from evaluation.bench.face_vectors import BUILTIN_STATISTICS, FaceStatistics, draw_faces
from evaluation.bench.load import Server
from evaluation.markdown import table_lines

logger = logging.getLogger(__name__)

REPO: Final = Path(__file__).resolve().parents[2]
SETS: Final = ("asian_faces", "lfw_krasserm", "deepface", "five_celebrity", "face_recognition")
SUFFIXES: Final = frozenset({".jpg", ".jpeg", ".png"})
PHONE_SIZE: Final = (4000, 3000)  # a 12-megapixel phone photo, as the sensor stores it
PHONE_SOURCE_MIN_SIDE: Final = 250  # a phone photo is not an enlarged thumbnail
XUNQIN: Final = "xunqin"
STOCK: Final = "face_recognition (stock)"
DEV: Final = "development photos"
PHONE: Final = "12-megapixel photos"
EMPTY: Final = np.zeros((0, 128), dtype=np.float32)
T = TypeVar("T")


# -- photos ----------------------------------------------------------------------------


def spread(items: Sequence[T], n: int) -> list[T]:
    """``n`` of ``items`` taken at even steps (all of them when there are no more)."""
    if n >= len(items):
        return list(items)
    return [items[int((i + 0.5) * len(items) / n)] for i in range(n)]


def development_photos(faces_dir: Path, limit: int) -> list[Path]:
    """Up to ``limit`` photos of identities, spread evenly over ``SETS`` in file order."""
    found = [
        path
        for name in SETS
        for path in sorted((faces_dir / name).glob("*/*"))
        if not path.parent.name.startswith(("_", ".")) and path.suffix.lower() in SUFFIXES
    ]
    return spread(found, limit)


def shorter_side(data: bytes) -> int:
    """The shorter side of a photo in pixels, from its header."""
    return min(Image.open(io.BytesIO(data)).size)


def phone_photo(data: bytes, *, seed: int) -> bytes:
    """A 12-megapixel JPEG made from a photo, the way a phone stores one.

    The upright photo is scaled and cropped (never stretched) to 3000 x 4000 or
    4000 x 3000, given sensor-like noise (so it compresses like a photo, 2-3 MB), and
    saved at quality 92. A portrait one is stored sideways, 4000 x 3000, with EXIF
    orientation 6, as most phones store portrait photos.
    """
    image = Image.open(io.BytesIO(data))
    upright = (ImageOps.exif_transpose(image) or image).convert("RGB")
    portrait = upright.height > upright.width
    size = PHONE_SIZE[::-1] if portrait else PHONE_SIZE
    fitted = ImageOps.fit(upright, size, Image.Resampling.BICUBIC)
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((size[1], size[0], 1), dtype=np.float32) * np.float32(3.0)
    pixels = np.clip(np.asarray(fitted, dtype=np.float32) + noise, 0, 255).astype(np.uint8)
    photo = Image.fromarray(pixels)
    exif = Image.Exif()
    if portrait:
        # Orientation 6: turn the stored image 90 degrees clockwise to show it.
        photo = photo.transpose(Image.Transpose.ROTATE_90)
        exif[0x0112] = 6
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=92, exif=exif.tobytes())
    return buffer.getvalue()


# -- intake in worker processes --------------------------------------------------------


@dataclass(frozen=True)
class PhotoOutcome:
    """What one pipeline made of one photo: faces (-1: refused), embeddings, CPU time."""

    faces: int
    embeddings: NDArray[np.float32]
    cpu_seconds: float


@cache
def _xunqin_model() -> Any:
    from indexes import DlibFaceModel

    return DlibFaceModel()


@cache
def _face_recognition() -> Any:
    with warnings.catch_warnings():
        # face_recognition_models imports pkg_resources; not ours to fix.
        warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
        import face_recognition

    return face_recognition


def intake_xunqin(data: bytes) -> PhotoOutcome:
    """The service's intake: ``decode_image`` and ``detect_faces`` as import runs them."""
    from indexes import DetectionSettings, ImageRejectedError, decode_image, detect_faces

    started = time.process_time()
    settings = DetectionSettings()
    try:
        image = decode_image(data, max_side=settings.max_side * settings.upsample_retry)
    except ImageRejectedError:
        return PhotoOutcome(-1, EMPTY, time.process_time() - started)
    faces = detect_faces(image, _xunqin_model(), settings=settings)
    vectors = np.stack([face.embedding for face in faces]) if faces else EMPTY
    return PhotoOutcome(len(faces), vectors, time.process_time() - started)


def intake_stock(data: bytes) -> PhotoOutcome:
    """The baseline: face_recognition's own load, locate and encode, defaults throughout."""
    api = _face_recognition()
    started = time.process_time()
    try:
        image = api.load_image_file(io.BytesIO(data))
    except (OSError, ValueError, SyntaxError):
        return PhotoOutcome(-1, EMPTY, time.process_time() - started)
    boxes = api.face_locations(image)
    encodings = api.face_encodings(image, known_face_locations=boxes)
    vectors = np.asarray(encodings, dtype=np.float32).reshape(len(boxes), 128)
    return PhotoOutcome(len(boxes), vectors, time.process_time() - started)


PIPELINES: Final[dict[str, Callable[[bytes], PhotoOutcome]]] = {
    XUNQIN: intake_xunqin,
    STOCK: intake_stock,
}


def _start_worker(pipeline: str, warm_up: bytes, ready: Any, go: Any) -> None:
    PIPELINES[pipeline](warm_up)  # load the models and touch every code path once
    with ready.get_lock():
        ready.value += 1
    go.wait()


def _wait_for_workers(
    ready: Any, workers: int, futures: Sequence[Future[PhotoOutcome]], *, timeout: float
) -> None:
    """Until every worker is ready; a worker that failed to start raises its error here."""
    deadline = time.monotonic() + timeout
    while ready.value < workers:
        failed = next((f for f in futures if f.done()), None)
        if failed is not None:
            failed.result()  # BrokenProcessPool, with the worker's error as its cause
        if time.monotonic() > deadline:
            raise RuntimeError(f"{workers - ready.value} worker(s) not ready in {timeout:.0f} s")
        time.sleep(0.05)


def _run(pipeline: str, data: bytes) -> PhotoOutcome:
    return PIPELINES[pipeline](data)


@dataclass(frozen=True)
class Throughput:
    """One pipeline over one photo set with a number of worker processes."""

    pipeline: str
    photo_set: str
    workers: int
    photos: int
    seconds: float
    photos_per_second: float
    cpu_seconds_per_photo: float
    with_a_face: int
    refused: int
    load_average: float

    @classmethod
    def from_outcomes(
        cls,
        pipeline: str,
        photo_set: str,
        workers: int,
        outcomes: Sequence[PhotoOutcome],
        seconds: float,
        *,
        load_average: float,
    ) -> Throughput:
        """Summarise one timed run."""
        n = len(outcomes)
        return cls(
            pipeline,
            photo_set,
            workers,
            n,
            round(seconds, 2),
            round(n / seconds, 2) if seconds > 0 else float("nan"),
            round(sum(o.cpu_seconds for o in outcomes) / max(1, n), 4),
            sum(1 for o in outcomes if o.faces > 0),
            sum(1 for o in outcomes if o.faces < 0),
            round(load_average, 2),
        )


def measure_intake(
    pipeline: str, blobs: Sequence[bytes], workers: int, *, photo_set: str, warm_up: bytes
) -> tuple[Throughput, list[PhotoOutcome]]:
    """Photos per second over ``blobs`` with ``workers`` processes, models loaded first.

    Every worker loads its model and runs one photo, then waits; the clock starts when
    all are ready and stops when the last photo is done.
    """
    workers = max(1, min(workers, len(blobs)))
    context = multiprocessing.get_context("spawn")  # no fork after threads or dlib
    ready, go = context.Value("i", 0), context.Event()
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(pipeline, warm_up, ready, go),
    ) as pool:
        load = os.getloadavg()[0]
        # Submitting starts the workers; they hold until all are ready.
        futures: list[Future[PhotoOutcome]] = [pool.submit(_run, pipeline, d) for d in blobs]
        _wait_for_workers(ready, workers, futures, timeout=600)
        go.set()
        started = time.perf_counter()
        outcomes = []
        step = max(1, len(blobs) // 5)
        for number, future in enumerate(futures, start=1):
            outcomes.append(future.result())
            if number % step == 0 or number == len(futures):
                logger.info("  %s, %s, %d worker(s): %d of %d photos, %.0f s",
                            pipeline, photo_set, workers, number, len(futures),
                            time.perf_counter() - started)  # fmt: skip
        seconds = time.perf_counter() - started
    result = Throughput.from_outcomes(
        pipeline, photo_set, workers, outcomes, seconds, load_average=load
    )
    return result, outcomes


@dataclass(frozen=True)
class Agreement:
    """How the two pipelines' results on the same photos compare."""

    photo_set: str
    photos: int
    xunqin_with_a_face: int
    stock_with_a_face: int
    same_face_count: int
    both_one_face: int
    median_distance: float
    p95_distance: float
    max_distance: float

    @classmethod
    def from_outcomes(
        cls, photo_set: str, ours: Sequence[PhotoOutcome], stock: Sequence[PhotoOutcome]
    ) -> Agreement:
        """Compare face counts, and embeddings where both found exactly one face."""
        distances = [
            float(np.linalg.norm(a.embeddings[0] - b.embeddings[0]))
            for a, b in zip(ours, stock, strict=True)
            if a.faces == 1 and b.faces == 1
        ]
        spread = np.asarray(distances or [float("nan")])
        return cls(
            photo_set,
            len(ours),
            sum(1 for o in ours if o.faces > 0),
            sum(1 for o in stock if o.faces > 0),
            sum(1 for a, b in zip(ours, stock, strict=True) if a.faces == b.faces),
            len(distances),
            round(float(np.median(spread)), 4),
            round(float(np.percentile(spread, 95)), 4),
            round(float(spread.max()), 4),
        )


# -- import through the service --------------------------------------------------------


@dataclass(frozen=True)
class ImportRun:
    """Photos through the real import, one process: rows, photo files, face index."""

    photo_set: str
    photos: int
    seconds: float
    photos_per_second: float
    outcomes: dict[str, int]


def measure_import(photo_set: str, files: Sequence[Path], *, home: Path) -> ImportRun:
    """Import one report per photo into a fresh store under ``home``.

    The import is wired as the service wires it with its default settings (a SQLite file,
    photos and index files under ``home``, one face worker a core, the default image
    limits), from records, indexes and matching: the benchmark does not import the API.
    """
    from indexes import DlibFaceModel, FaceWorkerPool, ImageLimits
    from records import Database
    from records.photo_store import PhotoStore
    from usecases.face_registry import FaceIndexes
    from usecases.intake import Ingestor

    home = home.expanduser().resolve()
    rows = home / "reports.jsonl"
    with rows.open("w", encoding="utf-8") as handle:
        for number, path in enumerate(files):
            row = {"ref": f"I{number:05d}", "photos": [{"path": str(path)}]}
            handle.write(json.dumps(row) + "\n")
    database = Database(f"sqlite:///{home / 'xunqin.db'}")
    database.upgrade(photos_dir=home / "photos")
    model = DlibFaceModel()
    reader = FaceWorkerPool(model)
    face_indexes = FaceIndexes(home / "index", model=model.name, search_threads=1)
    try:
        face_indexes.open(database)  # open the store and the indexes before the clock
        model.locate(np.zeros((32, 32, 3), dtype=np.uint8), upsample=0)
        ingestor = Ingestor(
            database, PhotoStore(home / "photos"), reader, face_indexes, image_limits=ImageLimits()
        )
        started = time.perf_counter()
        report = ingestor.import_file(
            rows,
            "missing",
            actor="bench",
            photos_dir=Path(os.path.commonpath([p.resolve().parent for p in files] or [home])),
        )
        seconds = time.perf_counter() - started
    finally:
        reader.close()
        face_indexes.flush()
        database.dispose()
    counted = {key: value for key, value in report.photos.items() if value}
    return ImportRun(
        photo_set, len(files), round(seconds, 2), round(len(files) / seconds, 2), counted
    )


# -- upload to candidates over HTTP ----------------------------------------------------


@dataclass(frozen=True)
class Query:
    """A real photo to upload, and the report planted with another photo of its person."""

    person: str
    photo: bytes
    phone: bytes
    planted_ref: str
    planted: NDArray[np.float32]


@dataclass(frozen=True)
class UploadLatency:
    """Wall time of ``POST /search/photo`` at the client, over the requests of one kind."""

    upload: str
    requests: int
    failed: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    planted_first: int
    planted_in_top_10: int

    @classmethod
    def from_requests(
        cls, upload: str, milliseconds: Sequence[float], ranks: Sequence[int | None], failed: int
    ) -> UploadLatency:
        """Summarise request times and where the planted report came (None: not in the hits)."""
        ms = np.asarray(milliseconds or [float("nan")], dtype=np.float64)
        return cls(
            upload,
            len(milliseconds),
            failed,
            round(float(np.percentile(ms, 50)), 1),
            round(float(np.percentile(ms, 90)), 1),
            round(float(np.percentile(ms, 99)), 1),
            round(float(ms.mean()), 1),
            sum(1 for r in ranks if r == 1),
            sum(1 for r in ranks if r is not None and r <= 10),
        )


@dataclass(frozen=True)
class UploadBench:
    """The service on a large store: how it was set up, and the latencies."""

    stored_faces: int
    reports: int
    queries: int
    fill_seconds: float
    start_seconds: float
    first_request_ms: float
    latencies: list[UploadLatency]


def pick_queries(faces_dir: Path, n: int, *, seed: int) -> list[Query]:
    """``n`` people of asian_faces with two photos that each show one usable face.

    The first photo is uploaded (as it is and as a 12-megapixel phone photo); the other
    is planted in the store as the person's report.
    """
    from indexes import DetectionSettings, ImageRejectedError, decode_image, detect_faces

    model = _xunqin_model()
    settings = DetectionSettings()

    def usable(data: bytes) -> NDArray[np.float32] | None:
        try:
            image = decode_image(data, max_side=settings.max_side * settings.upsample_retry)
        except ImageRejectedError:
            return None
        faces = detect_faces(image, model, settings=settings)
        if len(faces) != 1 or not faces[0].quality.searchable:
            return None
        return faces[0].embedding

    people = sorted(p for p in (faces_dir / "asian_faces").iterdir() if p.is_dir()
                    and not p.name.startswith(("_", ".")))  # fmt: skip
    order = np.random.default_rng(seed).permutation(len(people))
    queries: list[Query] = []
    for index in order:
        person = people[int(index)]
        photos = [p.read_bytes() for p in sorted(person.iterdir()) if p.suffix.lower() in SUFFIXES]
        # The uploaded photo is large enough to make a phone photo of; the planted any.
        photos.sort(key=lambda data: shorter_side(data) < PHONE_SOURCE_MIN_SIDE)
        found: list[tuple[bytes, NDArray[np.float32]]] = []
        for data in photos:
            vector = usable(data)
            if vector is not None:
                found.append((data, vector))
            if len(found) == 2:
                break
        if len(found) < 2 or shorter_side(found[0][0]) < PHONE_SOURCE_MIN_SIDE:
            continue
        phone = phone_photo(found[0][0], seed=seed + len(queries))
        if usable(phone) is None:
            continue
        queries.append(Query(person.name, found[0][0], phone, f"Q{len(queries):04d}", found[1][1]))
        if len(queries) == n:
            break
    return queries


def fill_store(database_url: str, n_faces: int, queries: Sequence[Query], *, seed: int) -> int:
    """Reports with 1-5 photos of one face each, ``n_faces`` in all, drawn like dlib's
    embeddings, plus one report a query holding the other photo of its person.

    Rows go in with bulk inserts (the import path would take hours at this size); the
    service's start-up then builds its face index from them. Returns the report count.
    """
    from sqlalchemy import insert

    from indexes.faces import DLIB_MODEL_NAME
    from records import Database, Face, MissingReport, Photo

    stats = FaceStatistics.read(BUILTIN_STATISTICS)
    drawn = draw_faces(stats, n_faces, seed=seed)
    vectors = np.concatenate([drawn.vectors, np.stack([q.planted for q in queries])])
    owners = np.concatenate([drawn.person, drawn.person.max() + 1 + np.arange(len(queries))])
    refs = [f"B{p:07d}" for p in range(int(drawn.person.max()) + 1)]
    refs += [q.planted_ref for q in queries]
    sexes = np.random.default_rng(seed).choice(["M", "F"], size=len(refs))
    database = Database(database_url)
    database.upgrade()
    chunk = 20_000
    try:
        with database.engine.begin() as conn:
            for start in range(0, len(refs), chunk):
                conn.execute(insert(MissingReport), [
                    {"id": i + 1, "ref": refs[i], "sex": str(sexes[i]), "content_hash": "bench"}
                    for i in range(start, min(len(refs), start + chunk))
                ])  # fmt: skip
            for start in range(0, len(vectors), chunk):
                stop = min(len(vectors), start + chunk)
                conn.execute(insert(Photo), [
                    {"id": i + 1, "side": "missing", "missing_id": int(owners[i]) + 1,
                     "sha256": f"{i:064x}", "stored_path": "bench", "size_bytes": 1,
                     "width": 400, "height": 500, "status": "one_face"}
                    for i in range(start, stop)
                ])  # fmt: skip
                conn.execute(insert(Face), [
                    {"id": i + 1, "photo_id": i + 1, "face_no": 0, "box_top": 100,
                     "box_right": 300, "box_bottom": 300, "box_left": 100, "width_px": 200,
                     "sharpness": 50.0, "yaw": 0.0, "roll": 0.0,
                     "embedding": vectors[i].astype(np.float32).tobytes(),
                     "model": DLIB_MODEL_NAME, "searchable": True}
                    for i in range(start, stop)
                ])  # fmt: skip
                logger.info("  stored %d of %d faces", stop, len(vectors))
    finally:
        database.dispose()
    return len(refs)


@contextmanager
def running_service(home: Path, *, timeout: float = 900) -> Iterator[tuple[str, float]]:
    """The API in its own process on ``home``; yields its URL and the start-up seconds."""
    server = Server(home)
    started = time.perf_counter()
    server.start(timeout=timeout)
    try:
        yield server.base, time.perf_counter() - started
    finally:
        server.stop()


def _rank(answer: httpx.Response, ref: str) -> int | None:
    refs = [hit["ref"] for hit in answer.json()["hits"]]
    return refs.index(ref) + 1 if ref in refs else None


def measure_upload(
    queries: Sequence[Query], n_faces: int, rounds: int, *, seed: int
) -> UploadBench:
    """Latency of photo searches through HTTP against ``n_faces`` stored faces."""
    with tempfile.TemporaryDirectory(prefix="xunqin-bench-upload-") as folder:
        home = Path(folder)
        started = time.perf_counter()
        reports = fill_store(f"sqlite:///{home / 'xunqin.db'}", n_faces, queries, seed=seed)
        fill_seconds = time.perf_counter() - started
        logger.info("upload: store filled in %.0f s; starting the service", fill_seconds)
        with running_service(home) as (url, start_seconds):
            logger.info("upload: service up in %.0f s", start_seconds)
            kinds: dict[str, list[float]] = {"original": [], PHONE: []}
            ranks: dict[str, list[int | None]] = {"original": [], PHONE: []}
            failed = {"original": 0, PHONE: 0}
            with httpx.Client(base_url=url, timeout=120) as client:
                t0 = time.perf_counter()
                first = client.post("/search/photo", files={"file": ("q.jpg", queries[0].photo)})
                first_ms = (time.perf_counter() - t0) * 1e3
                first.raise_for_status()
                for round_no in range(rounds):
                    for query in queries:
                        for kind, data in (("original", query.photo), (PHONE, query.phone)):
                            t0 = time.perf_counter()
                            answer = client.post(
                                "/search/photo", files={"file": ("photo.jpg", data, "image/jpeg")}
                            )
                            elapsed = (time.perf_counter() - t0) * 1e3
                            if answer.status_code != 200:
                                failed[kind] += 1
                                logger.warning("upload: %s answered %d: %s", query.person,
                                               answer.status_code, answer.text[:200])  # fmt: skip
                                continue
                            kinds[kind].append(elapsed)
                            if round_no == 0:
                                ranks[kind].append(_rank(answer, query.planted_ref))
                    logger.info("  upload round %d of %d done", round_no + 1, rounds)
    return UploadBench(
        n_faces + len(queries),
        reports,
        len(queries),
        round(fill_seconds, 1),
        round(start_seconds, 1),
        round(first_ms, 1),
        [UploadLatency.from_requests(k, kinds[k], ranks[k], failed[k]) for k in kinds],
    )


# -- the report ------------------------------------------------------------------------


@dataclass(frozen=True)
class IntakeReport:
    """The run: where, with what, and every measurement."""

    started: str
    machine: dict[str, Any]
    settings: dict[str, Any]
    throughput: list[Throughput] = field(default_factory=list)
    agreement: list[Agreement] = field(default_factory=list)
    imports: list[ImportRun] = field(default_factory=list)
    upload: UploadBench | None = None
    notes: list[str] = field(default_factory=list)

    def rate(self, pipeline: str, photo_set: str, workers: int) -> float | None:
        """Photos per second of one measurement, if it was made."""
        for t in self.throughput:
            if (t.pipeline, t.photo_set, t.workers) == (pipeline, photo_set, workers):
                return t.photos_per_second
        return None

    def ratios(self) -> dict[str, float]:
        """xunqin over the baseline for each set and worker count; two workers over one."""
        out: dict[str, float] = {}
        for photo_set in (DEV, PHONE):
            for workers in (1, 2):
                ours = self.rate(XUNQIN, photo_set, workers)
                stock = self.rate(STOCK, photo_set, workers)
                if ours and stock:
                    name = f"{photo_set}, {workers} worker(s): xunqin / stock"
                    out[name] = round(ours / stock, 2)
            for pipeline in (XUNQIN, STOCK):
                one, two = self.rate(pipeline, photo_set, 1), self.rate(pipeline, photo_set, 2)
                if one and two:
                    out[f"{photo_set}, {pipeline}: 2 workers / 1"] = round(two / one, 2)
        return out

    def targets(self) -> dict[str, dict[str, Any]]:
        """The issue's targets, with the measured value and whether it was met."""
        out: dict[str, dict[str, Any]] = {}
        rate = self.rate(XUNQIN, PHONE, 2)
        if rate is not None:
            out["12-megapixel intake on both cores >= 8 photos/s"] = {
                "measured": rate, "met": rate >= 8.0}  # fmt: skip
        if self.upload is not None:
            for latency in self.upload.latencies:
                out[f"upload p50 < 500 ms at {self.upload.stored_faces:,} faces "
                    f"({latency.upload})"] = {"measured": latency.p50_ms,
                                              "met": latency.p50_ms < 500}  # fmt: skip
        return out

    def to_json(self) -> dict[str, Any]:
        """Everything, with the ratios and targets worked out."""
        return {**asdict(self), "ratios": self.ratios(), "targets": self.targets()}


THROUGHPUT_HEADER: Final = (
    "photos", "pipeline", "workers", "photos/s", "CPU s/photo", "with a face", "refused",
    "load avg",
)  # fmt: skip
AGREEMENT_HEADER: Final = (
    "photos", "xunqin found a face", "stock found a face", "same face count",
    "both one face", "median", "p95", "max",
)  # fmt: skip
UPLOAD_HEADER: Final = (
    "upload", "requests", "failed", "p50 ms", "p90 ms", "p99 ms", "mean ms",
    "planted report first", "in top 10",
)  # fmt: skip


def markdown(report: IntakeReport) -> str:
    """The report as a Markdown page."""
    m = report.machine
    lines = [
        "# Face intake and photo search benchmark",
        "",
        f"Run {report.started} on {m['cpus']} CPUs, load average {m['load_average_at_start']:.1f}"
        f" at the start and {m['load_average_at_end']:.1f} at the end (other work shares this "
        f"machine), {m['run_seconds'] / 60:.1f} minutes (dlib {m['dlib']}, Pillow "
        f"{m['pillow']}). Settings: {report.settings}.",
        "",
    ]
    if report.throughput:
        lines += [
            "## Intake: file bytes to embeddings and quality records",
            "",
            "Photos per second over the whole set, wall clock, models loaded beforehand; "
            "CPU s/photo is the pipeline's own CPU time (less affected by other load). "
            "Baseline: `face_recognition.load_image_file` + `face_locations` + "
            "`face_encodings`, defaults, same photos, same run. Portrait phone photos are "
            "stored sideways with EXIF orientation 6, which `load_image_file` ignores.",
            "",
            *table_lines(THROUGHPUT_HEADER, (
                [f"{t.photo_set} ({t.photos})", t.pipeline, t.workers, t.photos_per_second,
                 t.cpu_seconds_per_photo, t.with_a_face, t.refused, t.load_average]
                for t in report.throughput)),
        ]  # fmt: skip
        lines += ["", "Ratios:", ""]
        lines += [f"- {name}: {value}x" for name, value in report.ratios().items()]
    if report.agreement:
        lines += [
            "",
            "Agreement with the baseline (embedding distance between the two pipelines' "
            "embeddings of the same photo, where both found exactly one face; for scale, "
            "photos of one person are about 0.4 apart):",
            "",
            *table_lines(AGREEMENT_HEADER, (
                [f"{a.photo_set} ({a.photos})", a.xunqin_with_a_face, a.stock_with_a_face,
                 a.same_face_count, a.both_one_face, a.median_distance, a.p95_distance,
                 a.max_distance]
                for a in report.agreement)),
        ]  # fmt: skip
    if report.imports:
        lines += [
            "",
            "## Import: files to stored rows, photo files and face index (one process)",
            "",
            *table_lines(["photos", "photos/s", "seconds", "outcomes"], (
                [f"{i.photo_set} ({i.photos})", i.photos_per_second, i.seconds,
                 ", ".join(f"{k} {v}" for k, v in i.outcomes.items())]
                for i in report.imports)),
        ]  # fmt: skip
    if report.upload is not None:
        u = report.upload
        lines += [
            "",
            f"## Upload to candidates: POST /search/photo over HTTP, {u.stored_faces:,} faces",
            "",
            f"{u.reports:,} reports; the service ran in its own process (uvicorn, "
            f"`api.app:create_app`); filling the store took {u.fill_seconds} s and starting "
            f"the service (building the face index) {u.start_seconds} s; the first request, "
            f"which loads the face model, {u.first_request_ms} ms (not counted below). "
            f"{u.queries} query people, each uploaded as the original photo and as a "
            "12-megapixel phone photo; another photo of each is planted in the store as "
            "their report (rank over the first round).",
            "",
            *table_lines(UPLOAD_HEADER, (
                [lat.upload, lat.requests, lat.failed, lat.p50_ms, lat.p90_ms, lat.p99_ms,
                 lat.mean_ms, f"{lat.planted_first} of {u.queries}",
                 f"{lat.planted_in_top_10} of {u.queries}"]
                for lat in u.latencies)),
        ]  # fmt: skip
    targets = report.targets()
    if targets:
        lines += ["", "## Targets", ""]
        lines += [f"- {name}: {t['measured']} ({'met' if t['met'] else 'NOT met'})"
                  for name, t in targets.items()]  # fmt: skip
    if report.notes:
        lines += ["", *[f"Note: {note}" for note in report.notes]]
    return "\n".join(lines) + "\n"


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks and write ``intake.json`` and ``intake.md``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--faces-dir", type=Path, default=REPO.parent / "shared" / "faces")
    parser.add_argument("--photos", type=int, default=120, help="development photos")
    parser.add_argument("--phone-photos", type=int, default=40, help="12-megapixel photos")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--stored-faces", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=10, help="people uploaded")
    parser.add_argument("--rounds", type=int, default=4, help="uploads of each query photo")
    parser.add_argument("--no-import", action="store_true", help="skip the import runs")
    parser.add_argument("--no-upload", action="store_true", help="skip the HTTP latency")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--seed", type=int, default=20261128)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    if not args.faces_dir.is_dir():
        parser.error(f"{args.faces_dir} is absent: the benchmark needs the development photos")
    started, clock, load = datetime.now(UTC), time.perf_counter(), os.getloadavg()[0]
    paths = development_photos(args.faces_dir, args.photos)
    blobs = [path.read_bytes() for path in paths]
    logger.info("making %d 12-megapixel photos in memory", args.phone_photos)
    sources = [data for data in blobs if shorter_side(data) >= PHONE_SOURCE_MIN_SIDE]
    phones = [phone_photo(data, seed=args.seed + n)
              for n, data in enumerate(spread(sources, args.phone_photos))]  # fmt: skip

    throughput, agreement = [], []
    for photo_set, data in ((DEV, blobs), (PHONE, phones)):
        outcomes: dict[str, list[PhotoOutcome]] = {}
        for workers in args.workers:  # both pipelines at one worker count, close in time
            for pipeline in PIPELINES:
                logger.info("intake: %s, %s, %d worker(s)", pipeline, photo_set, workers)
                result, outcomes[pipeline] = measure_intake(
                    pipeline, data, workers, photo_set=photo_set, warm_up=blobs[0]
                )
                throughput.append(result)
                logger.info("  %.2f photos/s, %.3f CPU s/photo", result.photos_per_second,
                            result.cpu_seconds_per_photo)  # fmt: skip
        agreement.append(Agreement.from_outcomes(photo_set, outcomes[XUNQIN], outcomes[STOCK]))

    imports = []
    if not args.no_import:
        with tempfile.TemporaryDirectory(prefix="xunqin-bench-import-") as folder:
            phone_files = [Path(folder) / f"phone{n:03d}.jpg" for n in range(len(phones))]
            for file, phone in zip(phone_files, phones, strict=True):
                file.write_bytes(phone)
            for photo_set, files in ((DEV, paths), (PHONE, phone_files)):
                logger.info("import: %s", photo_set)
                home = Path(folder) / photo_set.split()[0]
                home.mkdir()
                imports.append(measure_import(photo_set, files, home=home))

    upload, notes = None, []
    if not args.no_upload:
        logger.info("upload: picking %d query people", args.queries)
        queries = pick_queries(args.faces_dir, args.queries, seed=args.seed)
        if len(queries) < args.queries:
            notes.append(f"only {len(queries)} usable query people were found")
        if queries:
            upload = measure_upload(queries, args.stored_faces, args.rounds, seed=args.seed)

    report = IntakeReport(
        started=started.isoformat(timespec="seconds"),
        machine={
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "dlib": _version("dlib-bin"),
            "face_recognition": _version("face_recognition"),
            "pillow": _version("pillow"),
            "numpy": np.__version__,
            "platform": platform.platform(),
            "load_average_at_start": load,
            "load_average_at_end": os.getloadavg()[0],
            "run_seconds": round(time.perf_counter() - clock, 1),
        },
        settings={k: v for k, v in vars(args).items() if k not in {"out", "faces_dir"}},
        throughput=throughput,
        agreement=agreement,
        imports=imports,
        upload=upload,
        notes=notes,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    _write_atomically(args.out / "intake.json", json.dumps(report.to_json(), indent=2) + "\n")
    text = markdown(report)
    _write_atomically(args.out / "intake.md", text)
    print(text)  # noqa: T201 - the summary of a command-line run
    return 0


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


if __name__ == "__main__":
    raise SystemExit(main())
