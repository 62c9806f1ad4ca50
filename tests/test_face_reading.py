"""Reading faces in worker processes: the same faces as in-process, bounded, crash-proof."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from indexes import (
    DetectionSettings,
    DlibFaceModel,
    FaceWorkerError,
    FaceWorkerPool,
    FaceWorkersBusyError,
    ImageLimits,
    ImageRejectedError,
    SerialFaceReader,
)
from indexes.faces import Box, Landmarks

LIMITS = ImageLimits()
DETECTION = DetectionSettings()


class PacedModel:
    """A stand-in model, picklable into a worker: finds no face, and stops the worker
    (as a native crash would) on an image 333 pixels high; ``pause`` slows each look."""

    name = "paced"

    def __init__(self, pause: float = 0.0) -> None:
        self.pause = pause

    def locate(self, rgb: NDArray[np.uint8], *, upsample: int) -> list[Box]:
        if rgb.shape[0] == 333:
            os.abort()
        time.sleep(self.pause)
        return []

    def encode(self, rgb: NDArray[np.uint8], boxes: list[Box]) -> NDArray[np.float32]:
        return np.zeros((len(boxes), 128), dtype=np.float32)

    def landmarks(self, rgb: NDArray[np.uint8], boxes: list[Box]) -> list[Landmarks]:
        return [{} for _ in boxes]


def _png(height: int, width: int = 20) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (120, 90, 60)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def dlib_pool() -> Iterator[FaceWorkerPool]:
    pool = FaceWorkerPool(DlibFaceModel(), workers=2, queue=4)
    pool.warm()
    yield pool
    pool.close()


def test_workers_read_the_same_faces_as_the_calling_thread(
    dlib_pool: FaceWorkerPool, face_model: DlibFaceModel, sample_photos: Path
) -> None:
    data = (sample_photos / "obama.jpg").read_bytes()
    here = SerialFaceReader(face_model).read(data, limits=LIMITS, detection=DETECTION)
    there = dlib_pool.read(data, limits=LIMITS, detection=DETECTION)
    assert (there.format, there.width, there.height) == (here.format, here.width, here.height)
    assert [f.box for f in there.faces] == [f.box for f in here.faces]
    assert len(there.faces) == 1
    np.testing.assert_allclose(there.faces[0].embedding, here.faces[0].embedding, atol=1e-6)
    assert dlib_pool.model_name == face_model.name


def test_many_threads_at_once_each_get_their_own_photo_read(
    dlib_pool: FaceWorkerPool, sample_photos: Path
) -> None:
    # Two threads inside dlib at once crashed the server; through the pool they queue.
    names = ["obama.jpg", "biden.jpg", "obama2.jpg", "obama3.jpg"]
    photos = {name: (sample_photos / name).read_bytes() for name in names}
    alone = {n: dlib_pool.read(d, limits=LIMITS, detection=DETECTION) for n, d in photos.items()}
    results: dict[str, list[NDArray[np.float32]]] = {}
    errors: list[BaseException] = []

    def read(name: str) -> None:
        try:
            faces = dlib_pool.read(photos[name], limits=LIMITS, detection=DETECTION).faces
            results[name] = [f.embedding for f in faces]
        except BaseException as error:  # collected, and the test fails on it below
            errors.append(error)

    threads = [threading.Thread(target=read, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    for name in names:
        expected = [f.embedding for f in alone[name].faces]
        assert len(results[name]) == len(expected)
        for got, want in zip(results[name], expected, strict=True):
            np.testing.assert_allclose(got, want, atol=1e-6)


def test_an_error_in_a_worker_reaches_the_caller_whole(dlib_pool: FaceWorkerPool) -> None:
    with pytest.raises(ImageRejectedError) as caught:
        dlib_pool.read(b"not an image at all", limits=LIMITS, detection=DETECTION)
    assert caught.value.reason == "not_an_image"
    with pytest.raises(ImageRejectedError) as too_large:
        dlib_pool.read(_png(30), limits=ImageLimits(max_bytes=10), detection=DETECTION)
    assert too_large.value.reason == "too_large"


def test_a_full_queue_is_refused_at_once_with_a_time_to_come_back() -> None:
    pool = FaceWorkerPool(PacedModel(pause=1.0), workers=1, queue=1)
    try:
        pool.warm()
        first = pool.submit(_png(40), limits=LIMITS, detection=DETECTION)
        waiting = pool.submit(_png(40), limits=LIMITS, detection=DETECTION)
        with pytest.raises(FaceWorkersBusyError) as busy:
            pool.submit(_png(40), limits=LIMITS, detection=DETECTION)
        assert busy.value.retry_after >= 1
        assert first.result(timeout=60).faces == []
        assert waiting.result(timeout=60).faces == []
        # Places free again once the photos are read.
        assert pool.read(_png(40), limits=LIMITS, detection=DETECTION).faces == []
    finally:
        pool.close()


def test_a_worker_that_dies_takes_its_photo_not_the_service() -> None:
    pool = FaceWorkerPool(PacedModel(), workers=1, queue=2)
    try:
        with pytest.raises(FaceWorkerError):
            pool.read(_png(333), limits=LIMITS, detection=DETECTION)
        # The pool starts afresh for the next photo, and its places were given back.
        for _ in range(4):
            assert pool.read(_png(40), limits=LIMITS, detection=DETECTION).faces == []
    finally:
        pool.close()


def test_a_crash_with_other_photos_in_flight_refuses_the_culprit_and_hangs_nothing() -> None:
    # A crash breaks the whole pool: the photos in flight are read once more on a fresh
    # one (those that meet the culprit's second crash are refused too), never lost.
    pool = FaceWorkerPool(PacedModel(pause=0.05), workers=2, queue=3)
    try:
        pool.warm()
        heights = [40, 333, 41, 42]
        futures = [pool.submit(_png(h), limits=LIMITS, detection=DETECTION) for h in heights]
        outcomes = [f.exception(timeout=120) for f in futures]
        assert isinstance(outcomes[1], FaceWorkerError)
        assert all(o is None or isinstance(o, FaceWorkerError) for o in outcomes)
        # Every place was given back, and the pool reads again.
        for _ in range(pool.capacity):
            assert pool.read(_png(40), limits=LIMITS, detection=DETECTION).faces == []
    finally:
        pool.close()


def test_a_worker_killed_while_idle_does_not_leave_the_pool_broken() -> None:
    import signal

    pool = FaceWorkerPool(PacedModel(), workers=1, queue=1)
    try:
        pool.warm()
        executor = pool._executor
        assert executor is not None
        for process in list(executor._processes.values()):
            os.kill(process.pid, signal.SIGKILL)
        time.sleep(1.0)  # the pool notices and marks itself broken
        assert pool.read(_png(40), limits=LIMITS, detection=DETECTION).faces == []
    finally:
        pool.close()
    with pytest.raises(FaceWorkerError):
        pool.submit(_png(40), limits=LIMITS, detection=DETECTION)


def test_the_calling_thread_reader_lets_one_thread_in_at_a_time() -> None:
    inside = 0
    most = 0
    guard = threading.Lock()

    class Counting(PacedModel):
        def locate(self, rgb: NDArray[np.uint8], *, upsample: int) -> list[Box]:
            nonlocal inside, most
            with guard:
                inside += 1
                most = max(most, inside)
            time.sleep(0.02)
            with guard:
                inside -= 1
            return []

    reader = SerialFaceReader(Counting())
    threads = [
        threading.Thread(target=reader.read, args=(_png(40),),
                         kwargs={"limits": LIMITS, "detection": DETECTION})
        for _ in range(6)
    ]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 1
    failed = reader.submit(b"junk", limits=LIMITS, detection=DETECTION)
    assert isinstance(failed.exception(), ImageRejectedError)


def test_workers_must_be_at_least_one() -> None:
    with pytest.raises(ValueError, match="workers"):
        FaceWorkerPool(PacedModel(), workers=0)
    with pytest.raises(ValueError, match="queue"):
        FaceWorkerPool(PacedModel(), queue=-1)
