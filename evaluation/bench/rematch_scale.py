"""The overnight re-match at scale: a full run, then an incremental one after new records.

    .venv/bin/python -m evaluation.bench.rematch_scale --sizes 10000 30000 --out bench/results

For each size, a generated population (``evaluation.population``: ``size`` reports, a
tenth as many found persons, a twentieth of them true pairs; no photos) is imported into
a fresh SQLite store through the real import, less 1% of each side (at most 1,000),
which are imported afterwards. A share of each side's records (``--face-share``, 60% by
default) then gets 1-3 synthetic faces drawn from the statistics of real dlib
embeddings, a true pair's two records close (``evaluation.population_faces``), stored as
photo intake stores faces and indexed (``evaluation.bench.rematch_faces``). Then, each
step in its own process so that its peak memory is its own:

- a full re-match (``xunqin rematch --full`` as the job runs it): seconds, pairs scored
  and per second, plausible pairs stored, candidates kept, peak resident memory, and the
  recall of the true pairs (among the candidates at all, and first for their found
  person; also of the true pairs with faces on both sides). The face indexes are opened
  (loaded and checked against the store) before the clock starts and timed apart:
  ``xunqin rematch`` pays that on top, a process that holds them open does not;
- what the face blocking reaches: pairs whose faces are neighbours, and the true pairs
  among them that nothing else in blocking reaches;
- after the held-back records are imported, an incremental re-match: seconds, pairs
  scored, candidates written;
- the scorer alone, in one process: the block scorer the job uses against the per-pair
  scorer (``EvidenceModel.total_weight``) on the same 20,000 pairs of the full run's
  blocking; pairs per second of each, and the ratio.

Results go to ``<out>/rematch_scale.json`` and ``<out>/rematch_scale.md``; progress to
stderr. The machine is shared and noisy: read the ratios beside the wall-clock figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.bench.rematch_faces import (
    KINDS,
    ask_for_faces,
    face_reach,
    refs_with_photos,
    store_and_index,
)
from evaluation.markdown import table_lines
from evaluation.population import generate_population, write_population

SEED = 19
HELD_BACK_SHARE = 0.01
HELD_BACK_MOST = 1000
SCORER_SAMPLE = 20_000
FULL_STEPS = ("full", "unbounded")
"""A full re-match as the product runs it, and one with no bound on each found person's
pairs (the design before the bound, on the same store)."""


def _tell(message: str) -> None:
    sys.stderr.write(f"[rematch_scale] {message}\n")
    sys.stderr.flush()


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _services(home: Path) -> Any:
    from usecases.services import Services
    from usecases.settings import Settings

    return Services(Settings(home=home, environment="test", face_workers=0))


def _write(rows: Sequence[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def prepare(size: int, home: Path, *, face_share: float = 0.0) -> dict[str, Any]:
    """Generate the population and import all but the held-back records; give a
    ``face_share`` of each side's records synthetic faces, stored and indexed."""
    started = time.perf_counter()
    pop = generate_population(seed=SEED, n_missing=size, n_found=max(1, size // 10),
                              n_true_pairs=max(1, size // 20), today=date(2026, 11, 1))  # fmt: skip
    folder = home / "population"
    write_population(pop, folder)
    if face_share != 0:
        ask_for_faces(folder, share=face_share, seed=SEED)
    generated = time.perf_counter() - started
    services = _services(home)
    counts = {}
    try:
        for kind, rows in (("missing", pop.missing), ("found", pop.found)):
            held = min(HELD_BACK_MOST, int(len(rows) * HELD_BACK_SHARE))
            _write(rows[: len(rows) - held], folder / f"{kind}-first.jsonl")
            _write(rows[len(rows) - held :], folder / f"{kind}-later.jsonl")
            services.ingestor.import_file(folder / f"{kind}-first.jsonl", kind, actor="bench")
            counts[f"{kind}_held_back"] = held
        imported = time.perf_counter() - started - generated
        faces = store_and_index(services, folder, "first")
    finally:
        services.close()  # saves the face indexes
    faced = time.perf_counter() - started - generated - imported
    return {"generated_seconds": round(generated, 1), "imported_seconds": round(imported, 1),
            "face_share": face_share, "faces_seconds": round(faced, 1), **counts,
            **faces}  # fmt: skip


def _truth_recall(home: Path) -> dict[str, float]:
    from records.storage.candidate_pairs import list_candidates

    truth = [json.loads(line) for line in (home / "population" / "truth.jsonl").open()]
    services = _services(home)
    try:
        with services.database.session() as session:
            ranked = {(r.candidate.missing.ref, r.candidate.found.ref): r.rank
                      for r in list_candidates(session, limit=None)}  # fmt: skip
            photos = {kind: refs_with_photos(session, side) for side, kind in KINDS.items()}
    finally:
        services.close()
    pairs = [(t["missing_ref"], t["found_ref"]) for t in truth]
    kept = [p for p in pairs if p in ranked]
    first = [p for p in kept if ranked[p] == 1]
    # The true pairs whose two records both have faces: where faces can help at all.
    faced = [p for p in pairs if p[0] in photos["missing"] and p[1] in photos["found"]]
    faced_kept = [p for p in faced if p in ranked]
    return {"true_pairs": len(pairs), "recall_kept": round(len(kept) / max(1, len(pairs)), 4),
            "recall_first": round(len(first) / max(1, len(pairs)), 4),
            "true_pairs_both_faces": len(faced),
            "recall_kept_both_faces": round(len(faced_kept) / max(1, len(faced)), 4),
            "recall_first_both_faces": round(
                sum(ranked[p] == 1 for p in faced_kept) / max(1, len(faced)), 4)}  # fmt: skip


def run_step(step: str, home: Path) -> dict[str, Any]:
    """One re-match step in this process: "full" or (after importing the held-back
    records) "incremental"."""
    from usecases.rematching import rematch_all

    services = _services(home)
    faces: dict[str, int] = {}
    try:
        opening = time.perf_counter()
        services.face_indexes  # noqa: B018 (opened and checked against the store, untimed)
        opening = time.perf_counter() - opening
        if step == "incremental":
            folder = home / "population"
            for kind in ("missing", "found"):
                services.ingestor.import_file(folder / f"{kind}-later.jsonl", kind, actor="bench")
            # The new records' photos, as their intake would have stored and indexed them.
            faces = store_and_index(services, folder, "later")
        indexed = {f"{kind}_faces_indexed": len(services.face_indexes[side])
                   for side, kind in KINDS.items()}  # fmt: skip
        started = time.perf_counter()
        report = rematch_all(services, actor="bench", full=step in FULL_STEPS)
        seconds = time.perf_counter() - started
    finally:
        services.close()
    out = {"seconds": round(seconds, 1), "pairs_scored": report.pairs_scored,
           "pairs_guessed": report.pairs_guessed,
           "pairs_per_second": round(report.pairs_scored / max(seconds, 1e-9)),
           "plausible": report.plausible, "kept": report.kept, "created": report.created,
           "updated": report.updated, "removed": report.removed, "workers": report.workers,
           "seconds_loading": round(report.seconds_loading, 1),
           "seconds_scoring": round(report.seconds_scoring, 1),
           "seconds_storing": round(report.seconds_storing, 1),
           "seconds_opening_faces": round(opening, 1), **indexed, **faces,
           "peak_mib": round(_peak_mib())}  # fmt: skip
    if step in FULL_STEPS:
        out.update(_truth_recall(home))
    return out


def scorer_speed(home: Path) -> dict[str, Any]:
    """The job's block scorer against the per-pair scorer on the same pairs."""
    from matching.evidence_model import EvidenceModel
    from matching.views import found_view, missing_view
    from records.storage.person_records import all_found, all_missing
    from usecases.blocking import ReportBlocking
    from usecases.rematch_job import _block_weights

    services = _services(home)
    try:
        with services.database.session() as session:
            missing = [missing_view(r) for r in all_missing(session)]
            found = [found_view(p) for p in all_found(session)]
    finally:
        services.close()
    rows = np.arange(min(len(found), 400), dtype=np.int64)
    keys = ReportBlocking(missing).keys([found[j] for j in rows.tolist()], rows)
    keys = keys[np.random.default_rng(0).permutation(len(keys))[:SCORER_SAMPLE]]
    j, i = np.divmod(keys, len(missing))
    model = EvidenceModel.default()
    weigh, _ = _block_weights(model, missing, found)
    weigh(i[:100], j[:100])  # facts and caches filled outside the measures
    started = time.perf_counter()
    block = weigh(i, j)
    block_seconds = time.perf_counter() - started
    model.clear_cache()
    started = time.perf_counter()
    single = np.array([model.total_weight(missing[a], found[b])
                       for a, b in zip(i.tolist(), j.tolist(), strict=True)])  # fmt: skip
    single_seconds = time.perf_counter() - started
    return {"pairs": len(keys),
            "block_pairs_per_second": round(len(keys) / block_seconds),
            "per_pair_pairs_per_second": round(len(keys) / single_seconds),
            "ratio": round(single_seconds / block_seconds, 1),
            "max_weight_difference": float(np.abs(block - single).max(initial=0.0))}  # fmt: skip


def face_step(home: Path) -> dict[str, Any]:
    """What the face blocking reaches on the store as the full run left it."""
    services = _services(home)
    try:
        return face_reach(services, home / "population")
    finally:
        services.close()


def _child(step: str, home: Path) -> dict[str, Any]:
    env = dict(os.environ)
    if step == "unbounded":
        env["XUNQIN_REMATCH_PAIRS_PER_PERSON"] = "0"
    else:
        env.pop("XUNQIN_REMATCH_PAIRS_PER_PERSON", None)  # the product's own bound
    result = subprocess.run(
        [sys.executable, "-m", "evaluation.bench.rematch_scale", "--step", step, "--home",
         str(home)], capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip
    sys.stderr.write(result.stderr[-4000:])
    if result.returncode != 0:
        raise RuntimeError(f"step {step} failed: {result.stderr[-2000:]}")
    parsed: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed


def measure(size: int, *, face_share: float = 0.0, unbounded: bool = True) -> dict[str, Any]:
    """Every step for one size, each in its own process (the full run without the bound
    on each found person's pairs first, unless not ``unbounded``)."""
    with tempfile.TemporaryDirectory(prefix="xunqin-rematch-") as folder:
        home = Path(folder)
        row: dict[str, Any] = {"reports": size, "found_persons": max(1, size // 10)}
        (home / "size").write_text(str(size))
        (home / "face_share").write_text(str(face_share))
        _tell(f"{size} reports: generating and importing, faces on {face_share:.0%}")
        row["prepare"] = _child("prepare", home)
        if unbounded:
            _tell(f"{size} reports: full re-match, every blocked pair weighed (no bound)")
            row["unbounded"] = _child("unbounded", home)
        _tell(f"{size} reports: full re-match")
        row["full"] = _child("full", home)
        _tell(f"{size} reports: what the face blocking reaches")
        row["faces"] = _child("faces", home)
        _tell(f"{size} reports: incremental re-match after the held-back records")
        row["incremental"] = _child("incremental", home)
        _tell(f"{size} reports: the scorer alone")
        row["scorer"] = _child("scorer", home)
        return row


def _population_words(share: float) -> str:
    if share == 0:
        return "Generated populations without photos"
    return (
        f"Generated populations with synthetic faces on {share:.0%} of records: 1-3 a "
        "record, drawn from the statistics of real dlib embeddings, stored as photo intake "
        "stores faces (no photo files)"
    )


def _faces_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    return [
        "## Faces",
        "",
        "Faces indexed (reports' and found persons'); the pairs whose faces are neighbours "
        "(50 a face, in the reports' index); the true pairs whose two records both have "
        "faces, how many of them are face neighbours, how many nothing else in blocking "
        "reaches, and how many the full run kept and ranked first. Blocking applies above "
        "4,000,000 pairs (smaller stores score every pair).",
        "",
        *table_lines(
            [
                "reports",
                "faces (reports)",
                "faces (found)",
                "face pairs",
                "true pairs with faces",
                "face neighbours",
                "only faces",
                "kept",
                "first",
            ],
            [
                [
                    r["reports"],
                    r["full"]["missing_faces_indexed"],
                    r["full"]["found_faces_indexed"],
                    r["faces"]["face_pairs"],
                    r["faces"]["true_pairs_both_faces"],
                    r["faces"]["true_pairs_face_neighbours"],
                    r["faces"]["true_pairs_only_faces"],
                    r["full"]["recall_kept_both_faces"],
                    r["full"]["recall_first_both_faces"],
                ]
                for r in rows
            ],
        ),  # fmt: skip
        "",
    ]


def _bound_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    compared = [r for r in rows if "unbounded" in r]
    if not compared:
        return []
    return [
        "The same full run with no bound on each found person's pairs (every blocked pair "
        "weighed in full, as before the bound), on the same store just before: seconds, "
        "pairs, and the true pairs kept and first, without the bound / with it.",
        "",
        *table_lines(
            [
                "reports",
                "seconds",
                "ratio",
                "pairs scored",
                "plausible",
                "peak MiB",
                "true pairs kept",
                "first",
            ],
            [
                [
                    r["reports"],
                    f"{r['unbounded']['seconds']} / {r['full']['seconds']}",
                    round(r["unbounded"]["seconds"] / max(r["full"]["seconds"], 0.1), 1),
                    f"{r['unbounded']['pairs_scored']} / {r['full']['pairs_scored']}",
                    f"{r['unbounded']['plausible']} / {r['full']['plausible']}",
                    f"{r['unbounded']['peak_mib']} / {r['full']['peak_mib']}",
                    f"{r['unbounded']['recall_kept']} / {r['full']['recall_kept']}",
                    f"{r['unbounded']['recall_first']} / {r['full']['recall_first']}",
                ]
                for r in compared
            ],
        ),  # fmt: skip
        "",
    ]


def _markdown(results: dict[str, Any]) -> str:
    rows = results["sizes"]
    lines = [
        "# The overnight re-match at scale",
        "",
        f"{results['when']}, {results['machine']}. "
        f"{_population_words(results.get('face_share', 0.0))}; "
        "a tenth as many found persons as reports; SQLite; "
        "`python -m evaluation.bench.rematch_scale`.",
        "",
        "## Full run",
        "",
        *table_lines(
            [
                "reports",
                "found",
                "seconds",
                "pairs scored",
                "pairs/s",
                "plausible",
                "kept",
                "peak MiB",
                "true pairs kept",
                "first",
            ],
            [
                [
                    r["reports"],
                    r["found_persons"],
                    r["full"]["seconds"],
                    r["full"]["pairs_scored"],
                    r["full"]["pairs_per_second"],
                    r["full"]["plausible"],
                    r["full"]["kept"],
                    r["full"]["peak_mib"],
                    r["full"]["recall_kept"],
                    r["full"]["recall_first"],
                ]
                for r in rows
            ],
        ),  # fmt: skip
        "",
        *_bound_lines(rows),
        "Where the time goes (seconds): loading / scoring / settling and storing; and "
        "opening the face indexes before the run (not in its seconds; `xunqin rematch` "
        "pays it on top).",
        "",
        *table_lines(
            ["reports", "loading", "scoring", "storing", "opening face indexes"],
            [
                [
                    r["reports"],
                    r["full"]["seconds_loading"],
                    r["full"]["seconds_scoring"],
                    r["full"]["seconds_storing"],
                    r["full"]["seconds_opening_faces"],
                ]
                for r in rows
            ],
        ),  # fmt: skip
        "",
        *(_faces_lines(rows) if results.get("face_share") else []),
        "## Incremental run after 1% new reports and found persons (at most 1,000 each)",
        "",
        *table_lines(
            [
                "reports",
                "new reports",
                "new found",
                "seconds",
                "pairs scored",
                "written",
                "full run seconds",
                "ratio",
            ],
            [
                [
                    r["reports"],
                    r["prepare"]["missing_held_back"],
                    r["prepare"]["found_held_back"],
                    r["incremental"]["seconds"],
                    r["incremental"]["pairs_scored"],
                    r["incremental"]["created"] + r["incremental"]["updated"],
                    r["full"]["seconds"],
                    round(r["full"]["seconds"] / max(r["incremental"]["seconds"], 0.1), 1),
                ]
                for r in rows
            ],
        ),  # fmt: skip
        "",
        "## The block scorer against the per-pair scorer (same pairs, same process)",
        "",
        *table_lines(
            ["reports", "pairs", "block pairs/s", "per-pair pairs/s", "ratio", "max |Δ weight|"],
            [
                [
                    r["reports"],
                    r["scorer"]["pairs"],
                    r["scorer"]["block_pairs_per_second"],
                    r["scorer"]["per_pair_pairs_per_second"],
                    r["scorer"]["ratio"],
                    f"{r['scorer']['max_weight_difference']:.1e}",
                ]
                for r in rows
            ],
        ),  # fmt: skip
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark (or, with ``--step``, one step of it in this process)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000])
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--face-share", type=float, default=0.6,
                        help="share of each side's records given synthetic faces")  # fmt: skip
    parser.add_argument("--unbounded-up-to", type=int, default=100_000,
                        help="largest size also run with no bound on each found person's "
                        "pairs, as the baseline")  # fmt: skip
    parser.add_argument("--step", choices=["prepare", *FULL_STEPS, "faces", "incremental",
                                           "scorer"])  # fmt: skip
    parser.add_argument("--home", type=Path)
    parser.add_argument("--size", type=int)
    args = parser.parse_args(argv)
    if args.step is not None:
        if args.home is None:
            parser.error("--step needs --home")
        if args.step == "prepare":
            size = int((args.home / "size").read_text())
            share_file = args.home / "face_share"
            share = float(share_file.read_text()) if share_file.exists() else 0.0
            result = prepare(size, args.home, face_share=share)
        elif args.step == "scorer":
            result = scorer_speed(args.home)
        elif args.step == "faces":
            result = face_step(args.home)
        else:
            result = run_step(args.step, args.home)
        sys.stdout.write(json.dumps(result) + "\n")
        return
    if not 0.0 <= args.face_share <= 1.0:
        parser.error("--face-share must be between 0 and 1")
    results: dict[str, Any] = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "face_share": args.face_share,
        "sizes": [],
    }
    for size in args.sizes:
        results["sizes"].append(measure(size, face_share=args.face_share,
                                        unbounded=size <= args.unbounded_up_to))  # fmt: skip
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "rematch_scale.json").write_text(json.dumps(results, indent=2) + "\n")
        (args.out / "rematch_scale.md").write_text(_markdown(results))
    _tell(f"written to {args.out}/rematch_scale.md")


if __name__ == "__main__":
    main()
