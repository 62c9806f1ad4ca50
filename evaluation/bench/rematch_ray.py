"""The full re-match on 1 and 2 local workers and on Ray with 1 and 2 CPUs, and an estimate
for a national store on a cluster.

    .venv/bin/python -m evaluation.bench.rematch_ray --reports 10000 --out bench/results

One generated population (``evaluation.bench.rematch_scale.prepare``: ``reports``
reports, a tenth as many found persons, no photos) is imported into a SQLite store once.
Each run then starts from its own copy of that store, in its own process (so that its
memory is its own), and re-matches everything (``full``):

- ``local-1``, ``local-2``: the local executor with 1 and 2 forked workers;
- ``ray-1``, ``ray-2``: Ray tasks on a Ray instance the run starts here with 1 and 2 CPUs.

Each run records its seconds (Ray's start apart), the scoring phase (what workers or Ray
spread: blocking, scoring, and the head storing each block's plausible pairs, which is
timed on its own), pairs scored and per second of scoring, peak memory of the head
process and of its whole process tree (workers, Ray's processes), and a digest of the
stored candidates (report, found person, score, probability): every run must store the
same, or the bench fails after writing what it measured.

Blocking's pairs are also counted, by what chose them, at a second, smaller size
(``--growth-from``), and :mod:`evaluation.bench.cluster_estimate` turns the counts and
the Ray run on 1 CPU into an estimate for 10 million reports x 1 million found persons.

Results go to ``<out>/rematch_ray.json`` and ``<out>/rematch_ray.md``; progress to
stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Generator, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from evaluation.bench.cluster_estimate import ClusterEstimate, MeasuredRun, PairCount
from evaluation.bench.process_memory import TreeMemory
from evaluation.bench.rematch_scale import prepare
from evaluation.markdown import table_lines

if TYPE_CHECKING:
    from usecases.rematch_job import Executor

RUNS: dict[str, tuple[Executor, int]] = {
    "local-1": ("local", 1),
    "local-2": ("local", 2),
    "ray-1": ("ray", 1),
    "ray-2": ("ray", 2),
}
"""Each run's executor and its workers (local processes or Ray CPUs)."""
ESTIMATE_RUN = "ray-1"
"""The run whose figures the estimate scales: one Ray CPU, so its rate is per CPU."""


def _tell(message: str) -> None:
    sys.stderr.write(f"[rematch_ray] {message}\n")
    sys.stderr.flush()


def _services(home: Path, *, executor: Executor = "local", workers: int = 1) -> Any:
    from usecases.services import Services
    from usecases.settings import Settings

    return Services(Settings(home=home, environment="test", face_workers=0,
                             rematch_executor=executor, rematch_workers=workers))  # fmt: skip


def count_pairs(home: Path) -> PairCount:
    """Blocking's pairs on the store at ``home``, as a full run chooses them, by what
    chose them."""
    from matching.pooling import linked_groups, pool_linked_stays
    from matching.views import found_view, missing_view
    from records.storage.person_records import all_found, all_missing
    from records.storage.same_person_links import confirmed_pairs
    from usecases.blocking import (
        ReportBlocking,
        attribute_pairs,
        pair_keys,
        weak_name_keys,
        weak_name_reach,
    )

    services = _services(home)
    try:
        with services.database.session() as session:
            missing = [missing_view(r) for r in all_missing(session)]
            found = pool_linked_stays([found_view(p) for p in all_found(session)],
                                      linked_groups(confirmed_pairs(session)))  # fmt: skip
        budget = services.settings.weak_name_budget
    finally:
        services.close()
    n, rows = len(missing), np.arange(len(found), dtype=np.int64)
    reach = weak_name_reach(found, budget=budget)
    every = ReportBlocking(missing, weak_reach=reach).keys(found, rows)
    grown = np.union1d(ReportBlocking(missing).name_keys(found, rows),
                       pair_keys(attribute_pairs(missing, found), n))  # fmt: skip
    weak = weak_name_keys(missing, found, per_person=reach)
    return PairCount(
        reports=n,
        found_persons=len(found),
        pairs=len(every),
        by_names_or_attributes=len(grown),
        weak_name_only=len(np.setdiff1d(weak, grown)),
        weak_name_served=len(np.unique(weak // max(1, n))),
        weak_name_reach=reach,
    )


class _HeadClock:
    """The head's share of the scoring phase: how long the job holds each block it is
    handed (storing its plausible pairs and checkpoint) before it asks for the next.
    Workers and Ray score meanwhile; on a cluster this part stays on one machine."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def timed(self, blocks: Iterator[Any]) -> Generator[Any, None, None]:
        for block in blocks:
            handed = time.perf_counter()
            yield block
            self.seconds += time.perf_counter() - handed

    def install(self) -> None:
        """Time every block stream the job reads, in this process (a bench's process):
        the job's names for the two executors are replaced by timed ones."""
        from usecases import rematch_job

        names = vars(rematch_job)
        local, on_ray = names["run_blocks"], names["run_blocks_on_ray"]

        def run_blocks(work: Any, numbers: Sequence[int], *, workers: int) -> Any:
            return self.timed(local(work, numbers, workers=workers))

        def run_blocks_on_ray(work: Any, numbers: Sequence[int], *, address: str | None,
                              workers: int = 0, in_flight: int | None = None) -> Any:  # fmt: skip
            return self.timed(on_ray(work, numbers, address=address, workers=workers,
                                     in_flight=in_flight))  # fmt: skip

        names["run_blocks"], names["run_blocks_on_ray"] = run_blocks, run_blocks_on_ray


def candidates_digest(home: Path) -> tuple[int, str]:
    """How many candidates are stored and a digest of their (report, found person, score,
    probability), in order: equal digests, equal candidates to the last bit."""
    from sqlalchemy import select

    from records.models import Candidate

    services = _services(home)
    digest = hashlib.sha256()
    try:
        with services.database.session() as session:
            rows = session.execute(
                select(Candidate.missing_id, Candidate.found_id, Candidate.score,
                       Candidate.probability).order_by(Candidate.missing_id, Candidate.found_id)
            ).all()  # fmt: skip
    finally:
        services.close()
    for row in rows:
        digest.update(repr(tuple(row)).encode())  # repr: floats to the last bit
    return len(rows), digest.hexdigest()


def run_once(home: Path, *, executor: Executor, workers: int) -> dict[str, Any]:
    """One full re-match of the store at ``home`` in this process."""
    from usecases.rematching import rematch_all

    clock = _HeadClock()
    clock.install()
    services = _services(home, executor=executor, workers=workers)
    ray_start = 0.0
    try:
        with TreeMemory(os.getpid()) as tree:
            if executor == "ray":
                import ray

                started = time.perf_counter()
                ray.init(address="local", num_cpus=workers, include_dashboard=False,
                         log_to_driver=False)  # fmt: skip
                ray_start = time.perf_counter() - started
            try:
                started = time.perf_counter()
                report = rematch_all(services, actor="bench", full=True)
                seconds = time.perf_counter() - started
            finally:
                if executor == "ray":
                    ray.shutdown()
    finally:
        services.close()
    candidates, digest = candidates_digest(home)
    return {"executor": executor, "workers": workers, "seconds": round(seconds, 1),
            "ray_start_seconds": round(ray_start, 1),
            "seconds_loading": round(report.seconds_loading, 1),
            "seconds_scoring": round(report.seconds_scoring, 1),
            "seconds_head_blocks": round(clock.seconds, 1),
            "seconds_storing": round(report.seconds_storing, 1),
            "pairs_scored": report.pairs_scored,
            "scoring_pairs_per_second": round(report.pairs_scored
                                              / max(report.seconds_scoring, 1e-9)),
            "plausible": report.plausible, "kept": report.kept, "blocks": report.blocks,
            "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "peak_tree_mib": round(tree.peak_mib), "candidates": candidates,
            "candidates_digest": digest}  # fmt: skip


def _child(*args: str) -> dict[str, Any]:
    """A step in its own process; its stderr passes through."""
    result = subprocess.run([sys.executable, "-m", "evaluation.bench.rematch_ray", *args],
                            stdout=subprocess.PIPE, text=True, check=False)  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"step {' '.join(args)} failed with exit code {result.returncode}")
    parsed: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed


def _prepared(size: int, home: Path) -> dict[str, Any]:
    home.mkdir(parents=True)
    return _child("--step", "prepare", "--home", str(home), "--size", str(size))


def _estimate(results: dict[str, Any], cpus: int) -> ClusterEstimate | None:
    run = results["runs"].get(ESTIMATE_RUN)
    counts = [PairCount(**c) for c in results["pair_counts"]]
    if run is None or len({c.reports for c in counts}) < 2:
        return None
    fields = {f.name for f in dataclasses.fields(MeasuredRun)} - {"reports", "found_persons"}
    measured = MeasuredRun(reports=results["reports"], found_persons=results["found_persons"],
                           **{k: run[k] for k in fields})  # fmt: skip
    return ClusterEstimate.from_measures(counts, measured, cpus=cpus)


def measure(
    reports: int, *, growth_from: int, runs: Sequence[str], out: Path, cluster_cpus: int
) -> dict[str, Any]:
    """Prepare, count, run; results written after each run, so a cut-off bench keeps
    what it finished."""
    results: dict[str, Any] = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "reports": reports,
        "found_persons": max(1, reports // 10),
        "pair_counts": [],
        "runs": {},
    }
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xunqin-rematch-ray-") as folder:
        prepared = Path(folder) / "prepared"
        _tell(f"{reports} reports: generating and importing")
        results["prepare"] = _prepared(reports, prepared)
        for size in sorted({growth_from, reports}):
            _tell(f"{size} reports: counting blocking's pairs")
            home = prepared
            if size != reports:
                home = Path(folder) / f"growth-{size}"
                _prepared(size, home)
            count = _child("--step", "pairs", "--home", str(home))
            results["pair_counts"].append(count)
            if home == prepared:
                results["pairs_counted_for_runs"] = count["pairs"]
            else:
                shutil.rmtree(home)
        _summarise(results, cluster_cpus)
        _write(results, out, cluster_cpus)
        for name in runs:
            executor, workers = RUNS[name]
            home = Path(folder) / name
            shutil.copytree(prepared, home)  # every run starts from the same store
            load = os.getloadavg()[0]
            _tell(f"{reports} reports: full re-match, {name}")
            run = _child("--step", "run", "--home", str(home), "--executor", executor,
                         "--workers", str(workers))  # fmt: skip
            run["load_before"] = round(load, 2)
            results["runs"][name] = run
            shutil.rmtree(home)
            _summarise(results, cluster_cpus)
            _write(results, out, cluster_cpus)
    return results


def _summarise(results: dict[str, Any], cluster_cpus: int) -> None:
    runs = results["runs"]
    digests = {r["candidates_digest"] for r in runs.values()}
    results["identical"] = len(digests) == 1 if runs else None
    counted = results.get("pairs_counted_for_runs")
    results["runs_scored_blocked_pairs"] = all(r["pairs_scored"] == counted for r in runs.values())
    ratios = {}
    for kind in ("local", "ray"):
        one, two = runs.get(f"{kind}-1"), runs.get(f"{kind}-2")
        if one is not None and two is not None:
            ratios[kind] = {
                "scoring": round(one["seconds_scoring"] / max(two["seconds_scoring"], 1e-9), 2),
                "whole_run": round(one["seconds"] / max(two["seconds"], 1e-9), 2),
            }
    results["two_against_one"] = ratios
    estimate = _estimate(results, cluster_cpus)
    results["estimate"] = dataclasses.asdict(estimate) if estimate is not None else None


def _write(results: dict[str, Any], out: Path, cluster_cpus: int) -> None:
    (out / "rematch_ray.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "rematch_ray.md").write_text(markdown(results, cluster_cpus=cluster_cpus))


def _runs_table(runs: dict[str, dict[str, Any]]) -> list[str]:
    header = ["run", "load before", "seconds", "scoring s", "head storing blocks s",
              "settling s", "pairs scored", "scoring pairs/s", "plausible", "candidates",
              "peak MiB head", "peak MiB all processes", "Ray start s"]  # fmt: skip
    rows = [[name, r["load_before"], r["seconds"], r["seconds_scoring"],
             r["seconds_head_blocks"], r["seconds_storing"], r["pairs_scored"],
             r["scoring_pairs_per_second"], r["plausible"], r["candidates"], r["peak_mib"],
             r["peak_tree_mib"], r["ray_start_seconds"] if r["executor"] == "ray" else ""]
            for name, r in runs.items()]  # fmt: skip
    return table_lines(header, rows)


def _counts_table(counts: list[dict[str, Any]]) -> list[str]:
    header = ["reports", "found", "pairs", "per report", "by names or attributes",
              "weak-name only", "weak-name served", "reach"]  # fmt: skip
    rows = [[c["reports"], c["found_persons"], c["pairs"],
             round(c["pairs"] / max(1, c["reports"]), 1), c["by_names_or_attributes"],
             c["weak_name_only"], c["weak_name_served"], c["weak_name_reach"]]
            for c in counts]  # fmt: skip
    return table_lines(header, rows)


def markdown(results: dict[str, Any], *, cluster_cpus: int) -> str:
    """The result page."""
    runs = results["runs"]
    lines = [
        "# The full re-match on local workers and on Ray",
        "",
        f"{results['when']}, {results['machine']}, shared with other jobs while it ran "
        "(the load average before each run is in the table: two cores, so 2 workers "
        "compete with the head process and with anything else running). A generated "
        f"population of {results['reports']:,} reports and {results['found_persons']:,} "
        "found persons (less 1% held back, as `rematch_scale` prepares it), no photos; "
        "SQLite; every run a full re-match from its own copy of the same store, in its "
        "own process; Ray on a local instance the run starts (`ray.init(num_cpus=N)`, "
        "not counted in its seconds). `python -m evaluation.bench.rematch_ray`.",
        "",
        *_runs_table(runs),
        "",
        "Scoring is the phase workers or Ray spread (blocking, scoring, and the head "
        "storing each block's plausible pairs as it comes back, timed apart); loading "
        "and settling (choosing, sharing, explaining and writing the candidates) run in "
        "the head process whatever the executor. Peak MiB of all processes is the "
        "largest sum of PSS over the run's process and everything it started, sampled "
        "twice a second.",
        "",
    ]
    for kind, ratio in results.get("two_against_one", {}).items():
        lines.append(f"- {kind}: 2 against 1 {'workers' if kind == 'local' else 'CPUs'}, "
                     f"scoring {ratio['scoring']}x as fast, the whole run "
                     f"{ratio['whole_run']}x.")  # fmt: skip
    if runs:
        settling = [r["seconds_storing"] for r in runs.values()]
        lines.append(
            "- The machine was shared: a load average above 2 means its two cores were "
            "already busy, and then 2 workers measure contention as much as parallelism. "
            f"Settling, the same work in every run, took {min(settling)} to "
            f"{max(settling)} s."
        )
    if "local-1" in runs and "ray-1" in runs:
        share = runs["ray-1"]["scoring_pairs_per_second"] / max(
            1, runs["local-1"]["scoring_pairs_per_second"]
        )
        lines.append(
            f"- One Ray CPU scored at {share:.0%} of one local worker's rate: each of Ray's "
            "scorers (one actor a CPU) unpacks the run's work from the object store once, "
            "in a process whose caches start cold, where forked workers inherit the work "
            "as it is. The estimate below takes the Ray rate."
        )
    identical = results.get("identical")
    lines += [
        f"- Stored candidates (report, found person, score, probability) identical in "
        f"every run: **{identical}** ({next(iter(runs.values()))['candidates'] if runs else 0}"
        " candidates, compared by digest).",
        "",
        "## Blocking's pairs at two sizes",
        "",
        *_counts_table(results["pair_counts"]),
        "",
        "Counted with blocking as a full run chooses pairs (a store of at most 4,000,000 "
        "report x found pairs scores every pair instead; blocking is counted regardless). "
        f"The runs scored exactly the pairs counted at their size: "
        f"**{results.get('runs_scored_blocked_pairs')}**.",
        "",
    ]
    estimate = _estimate(results, cluster_cpus)
    if estimate is None:
        lines += ["No estimate: it needs the run on Ray with 1 CPU and counts at two sizes.", ""]
    else:
        lines += estimate.markdown_lines()
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark (or, with ``--step``, one step of it in this process)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--growth-from", type=int, default=3000,
                        help="the second size at which blocking's pairs are counted")  # fmt: skip
    parser.add_argument("--runs", nargs="+", choices=list(RUNS), default=list(RUNS))
    parser.add_argument("--cluster-cpus", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--step", choices=["prepare", "pairs", "run"])
    parser.add_argument("--home", type=Path)
    parser.add_argument("--size", type=int)
    parser.add_argument("--executor", choices=["local", "ray"], default="local")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    if args.step is not None:
        if args.home is None:
            parser.error("--step needs --home")
        result: dict[str, Any]
        if args.step == "prepare":
            if args.size is None:
                parser.error("--step prepare needs --size")
            result = prepare(args.size, args.home)
        elif args.step == "pairs":
            result = dataclasses.asdict(count_pairs(args.home))
        else:
            executor: Executor = "ray" if args.executor == "ray" else "local"
            result = run_once(args.home, executor=executor, workers=args.workers)
        sys.stdout.write(json.dumps(result) + "\n")
        return
    results = measure(args.reports, growth_from=args.growth_from, runs=args.runs, out=args.out,
                      cluster_cpus=args.cluster_cpus)  # fmt: skip
    _tell(f"written to {args.out}/rematch_ray.md")
    if not results["identical"]:
        raise SystemExit("the runs stored different candidates: see rematch_ray.json")


if __name__ == "__main__":
    main()
