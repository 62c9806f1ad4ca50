"""Face intake and photo search speed.

- Intake: photos per second from file bytes to embedding and quality record (decode,
  detect on a bounded copy, encode), on one core and on both, over the development photos
  and over 12-megapixel phone-sized JPEGs made from them in memory (never written into
  the repository).
- Upload to candidates: the latency of ``POST /search/photo`` through HTTP against a store
  holding 100,000 faces.

Run: ``python -m evaluation.bench_intake --out bench/results`` (``make bench`` runs it).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

SETS = ("asian_faces", "lfw_krasserm", "deepface", "five_celebrity", "face_recognition")


def _photos(faces_dir: Path, limit: int) -> list[Path]:
    found: list[Path] = []
    for name in SETS:
        for path in sorted((faces_dir / name).glob("*/*")):
            if path.parent.name.startswith("_") or path.suffix.lower() not in {".jpg", ".png"}:
                continue
            found.append(path)
    step = max(1, len(found) // limit)
    return found[::step][:limit]


def _phone_sized(data: bytes) -> bytes:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    # 4000 x 3000 (portrait 3000 x 4000): a 12-megapixel phone photo.
    size = (3000, 4000) if image.height >= image.width else (4000, 3000)
    buffer = io.BytesIO()
    image.resize(size, Image.Resampling.BICUBIC).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


_MODEL: Any = None


def _intake(data: bytes) -> int:
    global _MODEL  # one model per worker process, loaded on its first photo
    from indexes import DetectionSettings, DlibFaceModel, decode_image, detect_faces

    if _MODEL is None:
        _MODEL = DlibFaceModel()
    settings = DetectionSettings()
    try:
        image = decode_image(data, max_side=settings.max_side * settings.upsample_retry)
    except Exception:  # noqa: BLE001 - a refused file still counts as handled
        return -1
    return len(detect_faces(image, _MODEL, settings=settings))


def photos_per_second(blobs: list[bytes], workers: int) -> dict[str, float]:
    """Throughput over ``blobs`` with ``workers`` processes, models loaded beforehand."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_intake, blobs[:workers]))  # load the model in every worker
        started = time.perf_counter()
        faces = list(pool.map(_intake, blobs, chunksize=2))
        seconds = time.perf_counter() - started
    return {
        "photos": len(blobs),
        "seconds": round(seconds, 2),
        "photos_per_second": round(len(blobs) / seconds, 2),
        "with_a_face": sum(1 for n in faces if n > 0),
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _fill_store(database_url: str, n_faces: int, query: np.ndarray, seed: int) -> None:
    """``n_faces`` reports with one photo and face each; one of them is the query's person."""
    from sqlalchemy import insert

    from records import Database, Face, MissingReport, Photo

    database = Database(database_url)
    database.upgrade()
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n_faces, 128)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) * 2.2  # norms like dlib's
    vectors[n_faces // 2] = query + rng.normal(scale=0.02, size=128).astype(np.float32)
    with database.engine.begin() as conn:
        conn.execute(insert(MissingReport), [
            {"id": i + 1, "ref": f"B{i:07d}", "aliases": [], "sex": "U", "features": [],
             "health": [], "content_hash": "x", "birth_precision": "unknown", "status": "open"}
            for i in range(n_faces)
        ])  # fmt: skip
        conn.execute(insert(Photo), [
            {"id": i + 1, "side": "missing", "missing_id": i + 1, "sha256": f"{i:064d}",
             "stored_path": "/dev/null", "size_bytes": 1, "status": "one_face"}
            for i in range(n_faces)
        ])  # fmt: skip
        conn.execute(insert(Face), [
            {"id": i + 1, "photo_id": i + 1, "face_no": 0, "box_top": 0, "box_right": 100,
             "box_bottom": 100, "box_left": 0, "width_px": 100, "sharpness": 50.0,
             "embedding": vectors[i].tobytes(), "model": "dlib_face_recognition_resnet_model_v1",
             "searchable": True}
            for i in range(n_faces)
        ])  # fmt: skip
    database.dispose()


def upload_latency(photo: bytes, n_faces: int, requests: int) -> dict[str, Any]:
    """p50/p99 of POST /search/photo over HTTP with ``n_faces`` stored faces."""
    import httpx
    import uvicorn

    from api.app import create_app
    from api.services import Services
    from api.settings import Settings
    from indexes import DlibFaceModel, decode_image, detect_faces

    model = DlibFaceModel()
    query = detect_faces(decode_image(photo), model)[0].embedding
    with tempfile.TemporaryDirectory() as home:
        url = f"sqlite:///{home}/xunqin.db"
        started = time.perf_counter()
        _fill_store(url, n_faces, query, seed=1)
        fill_seconds = time.perf_counter() - started
        services = Services(Settings(home=Path(home), database_url=url), face_model=model)
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(services), host="127.0.0.1",
                                               port=port, log_level="error"))  # fmt: skip
        thread = threading.Thread(target=server.run, daemon=True)
        started = time.perf_counter()
        thread.start()
        while not server.started and time.perf_counter() - started < 300:
            time.sleep(0.05)
        start_seconds = time.perf_counter() - started
        times = []
        first_hit = None
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
                for _ in range(requests):
                    t0 = time.perf_counter()
                    answer = client.post("/search/photo", files={"file": ("q.jpg", photo)})
                    times.append((time.perf_counter() - t0) * 1000)
                    answer.raise_for_status()
                    first_hit = answer.json()["hits"][0]["ref"]
        finally:
            server.should_exit = True
            thread.join(timeout=30)
    times.sort()
    return {
        "stored_faces": n_faces, "requests": len(times),
        "p50_ms": round(statistics.median(times), 1),
        "p99_ms": round(times[int(0.99 * (len(times) - 1))], 1),
        "planted_match_found_first": first_hit == f"B{n_faces // 2:07d}",
        "seconds_filling_store": round(fill_seconds, 1),
        "seconds_starting_service": round(start_seconds, 1),
    }  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Run both benchmarks and write ``intake.json`` and ``intake.md``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces-dir", type=Path, default=Path("../shared/faces"))
    parser.add_argument("--photos", type=int, default=120)
    parser.add_argument("--phone-photos", type=int, default=40)
    parser.add_argument("--stored-faces", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"cores": os.cpu_count()}
    sample = Path(".cache/face_recognition-1.3.0/tests/test_images/obama.jpg")
    if args.faces_dir.is_dir():
        paths = _photos(args.faces_dir, args.photos)
        blobs = [p.read_bytes() for p in paths]
        phones = [_phone_sized(b) for b in blobs[: args.phone_photos]]
        for label, data in (("development photos", blobs), ("12-megapixel photos", phones)):
            results[label] = {
                "one core": photos_per_second(data, 1),
                "two cores": photos_per_second(data, 2),
            }
    else:
        results["note"] = f"{args.faces_dir} absent: intake throughput not measured"
    if sample.is_file():
        results["upload to candidates"] = upload_latency(
            sample.read_bytes(), args.stored_faces, args.requests
        )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "intake.json").write_text(json.dumps(results, indent=1))
    lines = ["# Face intake and photo search", ""]
    for label in ("development photos", "12-megapixel photos"):
        if label in results:
            one, two = results[label]["one core"], results[label]["two cores"]
            lines.append(f"- {label}: {one['photos_per_second']} photos/s on one core, "
                         f"{two['photos_per_second']} on two ({one['photos']} photos; "
                         f"two cores = {two['photos_per_second'] / one['photos_per_second']:.2f}x"
                         " one core)")  # fmt: skip
    if "upload to candidates" in results:
        r = results["upload to candidates"]
        lines.append(f"- POST /search/photo over HTTP with {r['stored_faces']:,} stored faces: "
                     f"p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms ({r['requests']} requests; "
                     f"planted match first: {r['planted_match_found_first']})")  # fmt: skip
    (args.out / "intake.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))  # noqa: T201 - the benchmark's report to the person running it
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
