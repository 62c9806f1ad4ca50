"""Benchmark of the face index: exact against HNSW at national sizes, in one run.

    .venv/bin/python -m evaluation.bench.face_index_scale --sizes 100000 1000000 --out bench/results

For each size, vectors are drawn like real dlib face embeddings (people with 1-5 photos,
between- and within-person covariance fitted on the development photos, see
``evaluation.bench.face_vectors``), and queries are new photos of people in the index (half) or of
strangers (half). The exact index (brute force) answers every query first and is the
baseline; the HNSW index is then measured against it:

- build time, resident memory added by the index, file size, save and load time;
- single-query latency (p50, p99) and recall@10 against exact search, over a sweep of
  ``ef_search`` on one graph; ratios to the exact index's latency;
- filtered searches (sex, region, station; the filter runs inside FAISS), per-person
  search, and search after 10% of the faces were removed (tombstones), each against the
  exact index's answer to the same question.

Results go to ``<out>/face_index.json`` and ``<out>/face_index.md``. The machine is
shared and noisy: compare ratios within one run, not milliseconds across runs.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from evaluation.bench.face_vectors import (
    DEFAULT_FACES_DIR,
    DistanceCheck,
    FaceStatistics,
    SyntheticFaces,
    draw_faces,
    draw_queries,
    face_statistics,
)
from evaluation.markdown import table_lines
from indexes.face_index import (
    FaceIndex,
    Filters,
    HnswParams,
    IndexKind,
    Neighbour,
    PersonNeighbour,
)

logger = logging.getLogger(__name__)

K: Final = 10
MODEL: Final = "bench"
REGIONS: Final = 31  # province-level divisions of the mainland
STATIONS: Final = 2000


# -- metrics ---------------------------------------------------------------------------


def recall_at_k(found: Sequence[Sequence[int]], truth: Sequence[Sequence[int]], k: int) -> float:
    """Mean share of each query's true ``k`` nearest that were found (queries with none
    are left out)."""
    shares = [
        len(set(f[:k]) & set(t[:k])) / len(t[:k]) for f, t in zip(found, truth, strict=True) if t
    ]
    return float(np.mean(shares)) if shares else 1.0


@dataclass(frozen=True)
class Latency:
    """Single-query latency over ``queries`` searches, in milliseconds."""

    queries: int
    p50_ms: float
    p99_ms: float
    mean_ms: float

    @classmethod
    def from_seconds(cls, seconds: Sequence[float]) -> Latency:
        """Summarise per-query wall times."""
        ms = np.asarray(seconds, dtype=np.float64) * 1e3
        return cls(
            len(ms),
            round(float(np.percentile(ms, 50)), 4),
            round(float(np.percentile(ms, 99)), 4),
            round(float(ms.mean()), 4),
        )


@dataclass(frozen=True)
class Measured:
    """One way of searching: how fast, and how close to the exact answer."""

    name: str
    latency: Latency
    recall_at_10: float
    recall_known: float | None = None
    recall_strangers: float | None = None
    p50_vs_exact: float | None = None
    p99_vs_exact: float | None = None


@dataclass(frozen=True)
class Files:
    """The saved index: its size and how long saving and loading took."""

    file_mb: float
    save_s: float
    load_s: float


@dataclass(frozen=True)
class Built:
    """One index at one size: what it cost to build and keep, and its searches."""

    kind: str
    params: dict[str, Any]
    build_s: float
    memory_mb: float
    files: Files | None
    searches: list[Measured] = field(default_factory=list)


@dataclass(frozen=True)
class SizeResult:
    """Everything measured at one size."""

    vectors: int
    persons: int
    queries: int
    distances: DistanceCheck
    exact: Built
    hnsw: Built


@dataclass(frozen=True)
class BenchReport:
    """The run: where, with what, and the results per size."""

    started: str
    machine: dict[str, Any]
    statistics: str
    hnsw: dict[str, Any]
    sizes: list[SizeResult]


# -- measuring -------------------------------------------------------------------------


def _rss_mb() -> float:
    """Resident memory of this process now, in MB (0 where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _peak_rss_mb() -> float:
    """The most resident memory this process has held, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def _timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


Search = Callable[[NDArray[np.float32]], object]


def _latency(search: Search, queries: NDArray[np.float32], *, threads: int = 1) -> Latency:
    """Per-query wall time, with FAISS held to ``threads`` OpenMP threads meanwhile.

    One thread is how a service answering many single queries at once should run FAISS:
    with two threads, a single exact query splits the scan, and on a busy machine waits
    for the second thread (10 times slower here).
    """
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(threads)
    try:
        for query in queries[:10]:  # warm caches and lazy set-up
            search(query)
        seconds = []
        for query in queries:
            start = time.perf_counter()
            search(query)
            seconds.append(time.perf_counter() - start)
    finally:
        faiss.omp_set_num_threads(before)
    return Latency.from_seconds(seconds)


def _faces(index: FaceIndex, *, filters: Filters | None = None, ef: int | None = None) -> Search:
    def search(query: NDArray[np.float32]) -> object:
        return index.search(query, K, filters=filters, ef_search=ef)

    return search


def _persons(index: FaceIndex) -> Search:
    def search(query: NDArray[np.float32]) -> object:
        return index.search_persons(query, K)

    return search


def row_ids(rows: Sequence[Sequence[Neighbour | PersonNeighbour]]) -> list[list[int]]:
    """The face ids (or person ids) of search results, row by row."""
    return [[n.id if isinstance(n, Neighbour) else n.person for n in row] for row in rows]


@dataclass(frozen=True)
class _Data:
    faces: SyntheticFaces
    ids: NDArray[np.int64]
    attributes: dict[str, NDArray[np.int64]]
    queries: NDArray[np.float32]
    n_known: int


def _draw(stats: FaceStatistics, size: int, n_queries: int, seed: int) -> _Data:
    faces = draw_faces(stats, size, seed=seed)
    queries = draw_queries(stats, faces, n_queries, seed=seed + 1, known_share=0.5)
    rng = np.random.default_rng(seed + 2)
    n_persons = int(faces.person.max()) + 1
    per_person = {
        "sex": rng.integers(1, 3, n_persons),
        "region": rng.integers(0, REGIONS, n_persons),
        "station": rng.integers(0, STATIONS, n_persons),
    }
    attributes = {name: values[faces.person] for name, values in per_person.items()}
    ids = np.arange(1_000_000_000, 1_000_000_000 + size, dtype=np.int64)  # like database ids
    return _Data(faces, ids, attributes, queries, n_known=n_queries // 2)


def _build(kind: IndexKind, hnsw: HnswParams, data: _Data) -> tuple[FaceIndex, float, float]:
    before = _rss_mb()
    index = FaceIndex(model=MODEL, kind=kind, hnsw=hnsw, attributes=tuple(data.attributes))
    seconds = _timed(
        lambda: index.add(
            data.ids, data.faces.vectors, owners=data.faces.person, attributes=data.attributes
        )
    )
    return index, round(seconds, 2), round(_rss_mb() - before, 1)


def _files(index: FaceIndex, save: bool) -> Files | None:
    if not save:
        return None
    with tempfile.TemporaryDirectory(prefix="bench-face-index-") as folder:
        path = Path(folder) / "faces.faiss"
        save_s = _timed(lambda: index.save(path))
        size_mb = path.stat().st_size / 2**20
        load_s = _timed(lambda: FaceIndex.load(path, model=MODEL))
    return Files(round(size_mb, 1), round(save_s, 2), round(load_s, 2))


FILTERS: Final[dict[str, Filters]] = {
    "sex (about 1/2)": {"sex": [1]},
    "sex and 3 regions (about 1/20)": {"sex": [2], "region": [0, 1, 2]},
    "one region (about 1/31)": {"region": [5]},
    "one station (about 1/2000)": {"station": [17]},
}


def _measured(
    name: str,
    latency: Latency,
    found: list[list[int]],
    truth: list[list[int]],
    baseline: Latency,
    *,
    known: int | None = None,
) -> Measured:
    """Compare found rows with the exact ones; ``known`` splits the queries in two."""
    return Measured(
        name,
        latency,
        round(recall_at_k(found, truth, K), 4),
        None if known is None else round(recall_at_k(found[:known], truth[:known], K), 4),
        None if known is None else round(recall_at_k(found[known:], truth[known:], K), 4),
        round(latency.p50_ms / baseline.p50_ms, 4),
        round(latency.p99_ms / baseline.p99_ms, 4),
    )


def bench_size(
    stats: FaceStatistics,
    size: int,
    *,
    hnsw: HnswParams,
    ef_sweep: Sequence[int],
    n_queries: int,
    exact_latency_queries: int,
    side_queries: int,
    save: bool,
    seed: int,
) -> SizeResult:
    """Measure the exact and the HNSW index at one size."""
    logger.info("size %d: drawing vectors", size)
    data = _draw(stats, size, n_queries, seed)
    queries = data.queries
    side = queries[:side_queries]
    timed = exact_latency_queries

    logger.info("size %d: exact index", size)
    exact, build_s, memory = _build(IndexKind.EXACT, hnsw, data)
    truth = row_ids(exact.search(queries, K))
    exact_plain = _latency(_faces(exact), queries[:timed])
    exact_threads = _latency(
        _faces(exact), queries[: max(1, timed // 4)], threads=os.cpu_count() or 1
    )
    filtered_truth = {
        name: row_ids(exact.search(side, K, filters=f)) for name, f in FILTERS.items()
    }
    filtered_exact = {
        name: _latency(_faces(exact, filters=f), side[:timed]) for name, f in FILTERS.items()
    }
    persons_truth = row_ids(exact.search_persons(side, K))
    persons_exact = _latency(_persons(exact), side[:timed])
    exact_built = Built(
        "exact (IndexFlatL2)",
        {},
        build_s,
        memory,
        _files(exact, save),
        searches=[
            Measured("plain", exact_plain, 1.0),
            Measured("plain, FAISS on every CPU", exact_threads, 1.0),
            *(Measured(f"filter: {name}", filtered_exact[name], 1.0) for name in FILTERS),
            Measured(f"persons (k={K})", persons_exact, 1.0),
        ],
    )

    logger.info("size %d: HNSW index", size)
    approx, build_s, memory = _build(IndexKind.HNSW, hnsw, data)
    searches = []
    for ef in ef_sweep:
        found = row_ids(approx.search(queries, K, ef_search=ef))
        latency = _latency(_faces(approx, ef=ef), queries)
        name = f"plain, ef_search={ef}" + (" (default)" if ef == hnsw.ef_search else "")
        searches.append(_measured(name, latency, found, truth, exact_plain, known=data.n_known))
    for name, f in FILTERS.items():
        found = row_ids(approx.search(side, K, filters=f))
        latency = _latency(_faces(approx, filters=f), side)
        searches.append(
            _measured(f"filter: {name}", latency, found, filtered_truth[name], filtered_exact[name])
        )
    found = row_ids(approx.search_persons(side, K))
    latency = _latency(_persons(approx), side)
    searches.append(_measured(f"persons (k={K})", latency, found, persons_truth, persons_exact))
    files = _files(approx, save)

    logger.info("size %d: removing 10%% of the faces", size)
    gone = np.random.default_rng(seed + 3).choice(data.ids, size // 10, replace=False)
    exact.remove(gone)
    approx.remove(gone)
    if approx.dead != len(gone):
        raise RuntimeError("the removal rebuilt the graph; raise max_dead_share to measure it")
    truth_after = row_ids(exact.search(side, K))
    found = row_ids(approx.search(side, K))
    if {i for row in found for i in row} & set(gone.tolist()):
        raise RuntimeError("a removed face came back from the HNSW index")
    latency = _latency(_faces(approx), side)
    baseline = _latency(_faces(exact), side[:timed])
    searches.append(
        _measured("after removing 10% (tombstones)", latency, found, truth_after, baseline)
    )
    return SizeResult(
        size,
        int(data.faces.person.max()) + 1,
        len(queries),
        DistanceCheck.from_faces(data.faces.vectors, data.faces.person, pairs=50_000, seed=seed),
        exact_built,
        Built(
            "hnsw (IndexHNSWSQ 8-bit, exact re-ranking)",
            asdict(hnsw),
            build_s,
            memory,
            files,
            searches=searches,
        ),
    )


# -- report ----------------------------------------------------------------------------


HEADER: Final = (
    "index", "search", "p50 ms", "p99 ms", "recall@10", "known / strangers", "p50 ratio",
    "p99 ratio",
)  # fmt: skip


def markdown(report: BenchReport) -> str:
    """The report as a Markdown page."""
    lines = [
        "# Face index benchmark",
        "",
        f"Run {report.started} on {report.machine['cpus']} CPUs, load average "
        f"{report.machine['load_average_at_start']:.1f} at the start and "
        f"{report.machine['load_average_at_end']:.1f} at the end, "
        f"{report.machine['run_seconds'] / 60:.1f} minutes, "
        f"peak memory {report.machine['peak_rss_mb']:.0f} MB "
        f"(faiss {report.machine['faiss']}, numpy {report.machine['numpy']}). "
        f"Vectors drawn from statistics of {report.statistics}. "
        f"HNSW parameters: {report.hnsw}. Latency is single-query wall time with FAISS on "
        "one thread (except the row that says otherwise); recall@10 is against the exact "
        "index in the same run; ratios are HNSW over exact (same search, one thread).",
        "",
    ]
    for size in report.sizes:
        d = size.distances
        lines += [
            f"## {size.vectors:,} vectors ({size.persons:,} people, {size.queries} queries)",
            "",
            f"Mean distance between photos of one person {d.same_person:.3f}, "
            f"of different people {d.different_people:.3f}.",
            "",
        ]
        builds = []
        for built in (size.exact, size.hnsw):
            files = built.files or Files(float("nan"), float("nan"), float("nan"))
            builds.append([built.kind, built.build_s, built.memory_mb, files.file_mb,
                           files.save_s, files.load_s])  # fmt: skip
        lines += table_lines(["index", "build s", "memory MB", "file MB", "save s", "load s"],
                             builds)  # fmt: skip
        searches = []
        for built in (size.exact, size.hnsw):
            for m in built.searches:
                split = (
                    f"{m.recall_known} / {m.recall_strangers}" if m.recall_known is not None else ""
                )
                searches.append([built.kind.split()[0], m.name, m.latency.p50_ms,
                                 m.latency.p99_ms, m.recall_at_10, split, m.p50_vs_exact,
                                 m.p99_vs_exact])  # fmt: skip
        lines += ["", *table_lines(HEADER, searches), ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write ``face_index.json`` and ``face_index.md``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--exact-latency-queries", type=int, default=200)
    parser.add_argument("--side-queries", type=int, default=200, help="for filters, persons")
    parser.add_argument("--m", type=int, default=HnswParams.m)
    parser.add_argument("--ef-construction", type=int, default=HnswParams.ef_construction)
    parser.add_argument("--ef-search", type=int, default=HnswParams.ef_search)
    parser.add_argument("--ef-sweep", type=int, nargs="+", default=[96, 128, 192, 256])
    parser.add_argument("--faces-dir", type=Path, default=DEFAULT_FACES_DIR)
    parser.add_argument("--no-save", action="store_true", help="skip the file size and timing")
    parser.add_argument("--seed", type=int, default=20240501)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)
    import faiss

    hnsw = HnswParams(m=args.m, ef_construction=args.ef_construction, ef_search=args.ef_search)
    sweep = sorted(set(args.ef_sweep) | {hnsw.ef_search})
    stats = face_statistics(args.faces_dir)
    started, clock, load = datetime.now(UTC), time.perf_counter(), os.getloadavg()[0]
    sizes = [
        bench_size(
            stats,
            size,
            hnsw=hnsw,
            ef_sweep=sweep,
            n_queries=args.queries,
            exact_latency_queries=args.exact_latency_queries,
            side_queries=min(args.side_queries, args.queries),
            save=not args.no_save,
            seed=args.seed,
        )
        for size in args.sizes
    ]
    report = BenchReport(
        started=started.isoformat(timespec="seconds"),
        machine={
            "cpus": os.cpu_count(),
            "faiss_threads": faiss.omp_get_max_threads(),
            "python": platform.python_version(),
            "faiss": faiss.__version__,
            "numpy": np.__version__,
            "platform": platform.platform(),
            "load_average_at_start": load,
            "load_average_at_end": os.getloadavg()[0],
            "run_seconds": round(time.perf_counter() - clock, 1),
            "peak_rss_mb": round(_peak_rss_mb(), 1),
        },
        statistics=stats.source,
        hnsw=asdict(hnsw),
        sizes=sizes,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "face_index.json").write_text(json.dumps(asdict(report), indent=2) + "\n")
    (args.out / "face_index.md").write_text(markdown(report))
    for size in report.sizes:
        for m in size.hnsw.searches:
            print(  # noqa: T201 - the summary of a command-line run
                f"{size.vectors:>9,} hnsw {m.name:<40} p50 {m.latency.p50_ms:7.3f} ms "
                f"p99 {m.latency.p99_ms:7.3f} ms recall@10 {m.recall_at_10:.4f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
