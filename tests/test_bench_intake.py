"""The intake benchmark's parts: phone photos, summaries, the report, and small real runs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from evaluation.bench.intake_speed import (
    DEV,
    PHONE,
    STOCK,
    XUNQIN,
    Agreement,
    ImportRun,
    IntakeReport,
    PhotoOutcome,
    Throughput,
    UploadBench,
    UploadLatency,
    development_photos,
    main,
    markdown,
    measure_intake,
    measure_upload,
    phone_photo,
    pick_queries,
)
from indexes import decode_image


def _jpeg(size: tuple[int, int]) -> bytes:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("source", "stored", "orientation", "upright"),
    [
        ((300, 400), (4000, 3000), 6, (3000, 4000)),  # portrait: stored sideways
        ((400, 300), (4000, 3000), None, (4000, 3000)),  # landscape: stored as it is
        ((250, 250), (4000, 3000), None, (4000, 3000)),  # square: cropped, never stretched
    ],
)
def test_phone_photos_are_12_megapixels_stored_as_phones_store_them(
    source: tuple[int, int],
    stored: tuple[int, int],
    orientation: int | None,
    upright: tuple[int, int],
) -> None:
    data = phone_photo(_jpeg(source), seed=1)
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == stored
    assert image.getexif().get(0x0112) == orientation
    decoded = decode_image(data)
    assert (decoded.width, decoded.height) == upright
    assert 500_000 < len(data) < 6_000_000
    assert phone_photo(_jpeg(source), seed=1) == data  # seeded


def test_development_photos_skip_folders_that_are_not_identities(tmp_path: Path) -> None:
    files = ("asian_faces/cn1/a.jpg", "asian_faces/cn1/b.png", "asian_faces/_multi/c.jpg",
             "deepface/p1/d.jpeg", "deepface/p1/notes.txt", "orl_att/s1/e.jpg")  # fmt: skip
    for relative in files:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(b"x")
    names = [p.name for p in development_photos(tmp_path, 10)]
    assert names == ["a.jpg", "b.png", "d.jpeg"]
    assert [p.name for p in development_photos(tmp_path, 2)] == ["a.jpg", "d.jpeg"]


def _outcome(faces: int, vector: float = 0.0, cpu: float = 0.1) -> PhotoOutcome:
    embeddings = np.full((max(0, faces), 128), vector, dtype=np.float32)
    return PhotoOutcome(faces, embeddings, cpu)


def test_throughput_counts_photos_faces_and_refusals() -> None:
    outcomes = [_outcome(1), _outcome(0), _outcome(-1), _outcome(2, cpu=0.3)]
    result = Throughput.from_outcomes(XUNQIN, DEV, 2, outcomes, 2.0, load_average=1.234)
    assert (result.photos, result.photos_per_second, result.with_a_face, result.refused) == (
        4, 2.0, 2, 1)  # fmt: skip
    assert result.cpu_seconds_per_photo == pytest.approx(0.15)
    assert result.load_average == 1.23


def test_agreement_compares_counts_and_single_face_embeddings() -> None:
    ours = [_outcome(1, 0.0), _outcome(1, 0.0), _outcome(2), _outcome(0)]
    stock = [_outcome(1, 0.0), _outcome(1, 0.01), _outcome(1), _outcome(0)]
    agreement = Agreement.from_outcomes(PHONE, ours, stock)
    assert (agreement.xunqin_with_a_face, agreement.stock_with_a_face) == (3, 3)
    assert (agreement.same_face_count, agreement.both_one_face) == (3, 2)
    assert agreement.max_distance == pytest.approx(0.01 * np.sqrt(128), abs=1e-4)
    assert agreement.median_distance == pytest.approx(agreement.max_distance / 2, abs=1e-4)


def test_upload_latency_percentiles_and_ranks() -> None:
    latency = UploadLatency.from_requests("original", [100.0 * i for i in range(1, 11)],
                                          [1, 2, None, 11], failed=1)  # fmt: skip
    assert (latency.requests, latency.failed) == (10, 1)
    assert (latency.p50_ms, latency.p90_ms) == (550.0, 910.0)
    assert (latency.planted_first, latency.planted_in_top_10) == (1, 2)


def _report() -> IntakeReport:
    rates = {(XUNQIN, DEV, 1): 5.0, (XUNQIN, DEV, 2): 9.0, (STOCK, DEV, 1): 2.5,
             (STOCK, DEV, 2): 4.5, (XUNQIN, PHONE, 1): 4.5, (XUNQIN, PHONE, 2): 8.5,
             (STOCK, PHONE, 1): 0.15, (STOCK, PHONE, 2): 0.3}  # fmt: skip
    throughput = [
        Throughput(p, s, w, 10, 10 / r, r, 0.2, 10, 0, 1.0) for (p, s, w), r in rates.items()
    ]
    upload = UploadBench(100_010, 42_000, 10, 20.0, 30.0, 2000.0, [
        UploadLatency.from_requests("original", [200.0, 300.0], [1], 0),
        UploadLatency.from_requests(PHONE, [400.0, 600.0], [None], 0),
    ])  # fmt: skip
    return IntakeReport(
        started="2026-11-28T00:00:00+00:00",
        machine={
            "cpus": 2,
            "load_average_at_start": 1.0,
            "load_average_at_end": 1.5,
            "run_seconds": 600.0,
            "dlib": "20",
            "pillow": "13",
        },  # fmt: skip
        settings={"photos": 10},
        throughput=throughput,
        agreement=[Agreement.from_outcomes(DEV, [_outcome(1)], [_outcome(1)])],
        imports=[ImportRun(DEV, 10, 2.0, 5.0, {"one_face": 10})],
        upload=upload,
    )


def test_the_report_gives_ratios_targets_and_markdown() -> None:
    report = _report()
    ratios = report.ratios()
    assert ratios[f"{DEV}, 1 worker(s): xunqin / stock"] == 2.0
    assert ratios[f"{PHONE}, 2 worker(s): xunqin / stock"] == pytest.approx(28.33)
    assert ratios[f"{PHONE}, {XUNQIN}: 2 workers / 1"] == pytest.approx(1.89)
    targets = report.targets()
    assert targets["12-megapixel intake on both cores >= 8 photos/s"] == {
        "measured": 8.5, "met": True}  # fmt: skip
    assert targets["upload p50 < 500 ms at 100,010 faces (original)"]["met"] is True
    assert targets[f"upload p50 < 500 ms at 100,010 faces ({PHONE})"]["met"] is False
    json.dumps(report.to_json())  # everything is JSON
    text = markdown(report)
    assert "| 12-megapixel photos (10) | xunqin | 2 | 8.5 |" in text
    assert "POST /search/photo over HTTP, 100,010 faces" in text
    assert "(NOT met)" in text


@pytest.mark.slow
def test_intake_is_measured_in_worker_processes(sample_photos: Path) -> None:
    photos = [(sample_photos / name).read_bytes() for name in ("obama.jpg", "biden.jpg")]
    result, outcomes = measure_intake(XUNQIN, photos, 1, photo_set=DEV, warm_up=photos[0])
    assert (result.photos, result.with_a_face, result.workers) == (2, 2, 1)
    assert result.photos_per_second > 0 and result.cpu_seconds_per_photo > 0
    assert [o.faces for o in outcomes] == [1, 1] and outcomes[0].embeddings.shape == (1, 128)


def test_a_worker_that_cannot_start_fails_the_measurement_at_once() -> None:
    from concurrent.futures.process import BrokenProcessPool

    with pytest.raises(BrokenProcessPool):
        measure_intake("no such pipeline", [b"x", b"y"], 2, photo_set=DEV, warm_up=b"x")


@pytest.mark.slow
@pytest.mark.faces
def test_photo_search_latency_is_measured_over_http(shared_faces: Path) -> None:
    queries = pick_queries(shared_faces, 1, seed=3)
    assert len(queries) == 1
    bench = measure_upload(queries, 300, 1, seed=3)
    assert bench.stored_faces == 301 and bench.queries == 1
    for latency in bench.latencies:
        assert latency.requests == 1 and latency.failed == 0 and latency.p50_ms > 0
        assert latency.planted_in_top_10 == 1


def test_the_benchmark_refuses_to_run_without_the_photos(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["--faces-dir", str(tmp_path / "absent"), "--out", str(tmp_path)])
    assert not (tmp_path / "intake.json").exists()
