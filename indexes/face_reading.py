"""Reading the faces in a photo: in the calling thread one at a time, or in worker processes.

dlib's detector and embedding are not safe to call from several threads at once (two
uploads meeting inside ``face_locations`` crashed the server with SIGSEGV or heap
corruption). Every photo the service reads therefore goes through a ``FaceReader``:

- ``SerialFaceReader`` reads in the calling thread, one photo at a time under a lock: for
  the command line's one-off commands and for tests that pass a fake model;
- ``FaceWorkerPool`` reads in a small pool of worker processes (one dlib each, sized to
  the cores), which is how a server answers several officers at once and how an import
  uses every core. Its queue is bounded: when every worker is busy and the queue is full,
  ``FaceWorkersBusyError`` says so at once (the API answers 503 with Retry-After) rather
  than letting requests pile up. A worker that dies (a native crash on a hostile image)
  breaks the pool, not the server: the pool starts afresh, the photos that were in flight
  are read once more, and a photo that fails twice is refused (``FaceWorkerError``).

Workers are started with ``spawn``: forking a server that already runs threads (uvicorn's
pool, FAISS's OpenMP) can copy a held lock into the child.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from typing import Protocol

import numpy as np

from indexes.face_errors import FaceWorkerError, FaceWorkersBusyError
from indexes.faces import DetectedFace, DetectionSettings, FaceModel, detect_faces
from indexes.images import ImageLimits, decode_image


@dataclass(frozen=True)
class FaceReading:
    """What reading a photo found: the image's format and full size, and its faces."""

    format: str
    width: int
    height: int
    faces: list[DetectedFace]


def read_faces(
    data: bytes, model: FaceModel, *, limits: ImageLimits, detection: DetectionSettings
) -> FaceReading:
    """Decode the bytes and find every face, largest first, in the calling thread.

    Raises ``ImageRejectedError`` for bytes that are not an image we accept.
    """
    image = decode_image(
        data, limits=limits, max_side=detection.max_side * detection.upsample_retry
    )
    faces = detect_faces(image, model, settings=detection)
    return FaceReading(image.format, image.width, image.height, faces)


class FaceReader(Protocol):
    """Reads photos into faces; safe to call from several threads at once."""

    @property
    def model_name(self) -> str:
        """The embedding space of the faces it reads."""
        ...

    @property
    def parallel(self) -> int:
        """How many photos it reads at once."""
        ...

    @property
    def capacity(self) -> int:
        """How many photos it takes at once (being read or waiting) before refusing."""
        ...

    def read(
        self, data: bytes, *, limits: ImageLimits, detection: DetectionSettings
    ) -> FaceReading:
        """The photo's faces; blocks until read."""
        ...

    def submit(
        self, data: bytes, *, limits: ImageLimits, detection: DetectionSettings
    ) -> Future[FaceReading]:
        """Start reading the photo; the future holds the faces or the error."""
        ...

    def warm(self) -> None:
        """Load the model now (in every worker), not on the first photo."""
        ...

    def close(self) -> None:
        """Release what it holds (worker processes)."""
        ...


class SerialFaceReader:
    """Reads in the calling thread, one photo at a time across all threads."""

    def __init__(self, model: FaceModel) -> None:
        self.model = model
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        """The model's embedding space."""
        return self.model.name

    @property
    def parallel(self) -> int:
        """One photo at a time."""
        return 1

    @property
    def capacity(self) -> int:
        """Callers wait their turn on the lock: no bound of its own."""
        return 1

    def read(
        self, data: bytes, *, limits: ImageLimits, detection: DetectionSettings
    ) -> FaceReading:
        """Read under the lock: threads take turns inside the model."""
        with self._lock:
            return read_faces(data, self.model, limits=limits, detection=detection)

    def submit(
        self, data: bytes, *, limits: ImageLimits, detection: DetectionSettings
    ) -> Future[FaceReading]:
        """Read now; the future is already done."""
        future: Future[FaceReading] = Future()
        try:
            future.set_result(self.read(data, limits=limits, detection=detection))
        except Exception as error:  # the caller meets it at result(), as with the pool
            future.set_exception(error)
        return future

    def warm(self) -> None:
        """Load the model now."""
        with self._lock:
            _touch(self.model)

    def close(self) -> None:
        """Nothing to release."""


# The model a worker process reads with, made once by the pool's initializer.
_worker_model: FaceModel | None = None


def _start_worker(model: FaceModel) -> None:
    global _worker_model
    _worker_model = model


def _read_in_worker(data: bytes, limits: ImageLimits, detection: DetectionSettings) -> FaceReading:
    if _worker_model is None:  # pragma: no cover - the initializer always ran first
        raise RuntimeError("face worker started without a model")
    return read_faces(data, _worker_model, limits=limits, detection=detection)


def _touch(model: FaceModel) -> None:
    # Models load on first use: a look at a blank image loads this one.
    model.locate(np.zeros((8, 8, 3), dtype=np.uint8), upsample=0)


def _warm_worker() -> None:
    if _worker_model is None:  # pragma: no cover - the initializer always ran first
        raise RuntimeError("face worker started without a model")
    _touch(_worker_model)


def _cancel_with(inner: Future[FaceReading], outer: Future[FaceReading]) -> None:
    # The caller gave up on the photo: it is not read if its turn has not come.
    if outer.cancelled():
        inner.cancel()


def available_cores() -> int:
    """The processors this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class FaceWorkerPool:
    """Reads photos in ``workers`` processes, each with its own copy of ``model``.

    At most ``workers + queue`` photos are taken at once (being read or waiting); one
    more raises ``FaceWorkersBusyError`` at once. The model is sent to each worker as a
    picklable object and loads there on first use (``warm`` loads it at once).
    """

    def __init__(self, model: FaceModel, *, workers: int | None = None, queue: int = 8) -> None:
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        if queue < 0:
            raise ValueError(f"queue must not be negative, not {queue}")
        self.model = model
        self.workers = workers or available_cores()
        self.queue = queue
        self._slots = threading.BoundedSemaphore(self.capacity)
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._closed = False
        self._seconds_per_photo = 1.0  # a running estimate, for Retry-After

    @property
    def model_name(self) -> str:
        """The model's embedding space."""
        return self.model.name

    @property
    def parallel(self) -> int:
        """One photo a worker."""
        return self.workers

    @property
    def capacity(self) -> int:
        """Photos taken at once: being read or waiting."""
        return self.workers + self.queue

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise FaceWorkerError("the face workers have been closed")
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_worker,
                    initargs=(self.model,),
                )
            return self._executor

    def warm(self) -> None:
        """Start every worker and load its model now, not on the first photo.

        A task a worker: the pool starts a process for each task no idle worker takes,
        and every worker is still busy loading when the next task comes.
        """
        pool = self._pool()
        for future in [pool.submit(_warm_worker) for _ in range(self.workers)]:
            future.result()

    def retry_after(self) -> int:
        """Seconds after which a refused caller may well find a place."""
        return max(1, math.ceil(self._seconds_per_photo * self.capacity / self.workers))

    def submit(
        self, data: bytes, *, limits: ImageLimits, detection: DetectionSettings
    ) -> Future[FaceReading]:
        """Queue the photo, or raise ``FaceWorkersBusyError`` when no place is free.

        A photo in flight when a worker dies is tried once more on the fresh pool (a crash
        breaks the whole pool, so the other photos in flight fail with the culprit); a
        photo that fails twice is refused with ``FaceWorkerError``. Cancelling the
        future cancels the photo if its turn has not come.
        """
        if self._closed:
            raise FaceWorkerError("the face workers have been closed")
        if not self._slots.acquire(blocking=False):
            raise FaceWorkersBusyError(self.retry_after())
        outer: Future[FaceReading] = Future()
        started = time.monotonic()
        released = threading.Event()

        def release() -> None:
            if not released.is_set():
                released.set()
                self._slots.release()

        def settle(done: Future[FaceReading], pool: ProcessPoolExecutor, tries: int) -> None:
            if outer.cancelled():
                release()
                return
            error = None if done.cancelled() else done.exception()
            if done.cancelled() or isinstance(error, BrokenProcessPool):
                self._restart(pool)
                if tries < 2 and not self._closed:
                    try:
                        start(tries + 1)
                        return
                    except FaceWorkerError as again:
                        error = again
                release()
                outer.set_exception(
                    FaceWorkerError("the face worker stopped while reading this photo")
                )
                return
            release()
            if error is not None:
                outer.set_exception(error)
                return
            # Smoothed, so one slow photo does not swing Retry-After.
            elapsed = time.monotonic() - started
            self._seconds_per_photo = 0.8 * self._seconds_per_photo + 0.2 * elapsed
            outer.set_result(done.result())

        def start(tries: int) -> None:
            for _ in range(2):  # a pool found broken at submit is replaced once
                pool = self._pool()
                try:
                    inner = pool.submit(_read_in_worker, data, limits, detection)
                except BrokenProcessPool:
                    self._restart(pool)
                    continue
                except RuntimeError as err:  # shut down meanwhile (closed)
                    raise FaceWorkerError("the face workers have been closed") from err
                outer.add_done_callback(partial(_cancel_with, inner))
                inner.add_done_callback(partial(settle, pool=pool, tries=tries))
                return
            raise FaceWorkerError("the face workers could not be started")

        try:
            start(1)
        except BaseException:
            release()
            raise
        return outer

    def read(
        self, data: bytes, *, limits: ImageLimits, detection: DetectionSettings
    ) -> FaceReading:
        """Read in a worker; blocks until read."""
        return self.submit(data, limits=limits, detection=detection).result()

    def _restart(self, broken: ProcessPoolExecutor) -> None:
        # Only the pool that broke is replaced: several callbacks may report one crash.
        with self._lock:
            if self._executor is broken:
                self._executor = None
        broken.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the workers (photos being read are finished first); no photo is taken
        after."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
