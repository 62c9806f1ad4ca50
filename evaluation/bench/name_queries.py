"""The names benchmark: finding a family's report from the name a station wrote down.

Names only: for every found person of a generated population who has a report, search
the reports with the stated name (and aliases) and the accent heard, and see where the
true report ranks. Baselines run on the same queries in the same run: rapidfuzz ratio
on the characters, exact toneless pinyin, Jaro-Winkler on the pinyin. Then the same at
a larger size with sex and birth year given; the name index against brute force; and
query latency of the index, and of an officer's search, at a million reports.

Run: ``python -m evaluation.bench.name_queries --out bench/results`` (``make bench`` runs it).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from pypinyin import Style, lazy_pinyin
from rapidfuzz import fuzz, process
from rapidfuzz.distance import JaroWinkler

from evaluation.population import Population, generate_population
from matching.names import NameIndex, NameLevel, compare_names, regions_from_text
from records import Sex
from usecases.name_search import NameSearcher, ReportEntry, report_regions

# Scenarios whose stated name carries nothing of the person's name: no name at all, or a
# name the station gave. No name matcher can find these; they are shown, not averaged in.
NAMELESS = frozenset({"no_name", "assigned"})
KS = (1, 10)


@dataclass(frozen=True)
class Query:
    """One found person with a report: what the station wrote, and the true report."""

    found_ref: str
    names: tuple[str, ...]
    accent: str | None
    sex: Sex
    birth_year: int | None
    scenario: str
    truth: str


def benchmark_population(n_reports: int, n_queries: int, seed: int) -> Population:
    """The population a recall run of the benchmark searches: ``n_reports`` reports and
    ``n_queries`` found persons, each with one."""
    return generate_population(seed=seed, n_missing=n_reports, n_found=n_queries,
                               n_true_pairs=n_queries, today=date(2026, 11, 1))  # fmt: skip


def benchmark_queries(pop: Population) -> list[Query]:
    """Every found person with a report: what the station wrote, and the true report."""
    truth = {t.found_ref: t for t in pop.truth}
    out = []
    for row in pop.found:
        pair = truth.get(row["ref"])
        if pair is None:
            continue
        ages = [a for a in (row.get("age_min"), row.get("age_max")) if a is not None]
        found_year = int(str(row["found_date"])[:4]) if row.get("found_date") else None
        birth = round(found_year - sum(ages) / len(ages)) if ages and found_year else None
        names = tuple(n for n in (row.get("name"), *(row.get("aliases") or [])) if n)
        out.append(Query(row["ref"], names, row.get("accent"), Sex(row.get("sex") or "U"),
                         birth, pair.scenario, pair.missing_ref))  # fmt: skip
    return out


def benchmark_entries(pop: Population) -> list[ReportEntry]:
    """Every report as name search keeps it."""
    return [
        ReportEntry(
            row["ref"],
            tuple(n for n in (row.get("name"), *(row.get("aliases") or [])) if n),
            Sex(row.get("sex") or "U"),
            row.get("birth_year")
            or (int(row["birth_date"][:4]) if row.get("birth_date") else None),
            report_regions(row.get("hometown"), row.get("dialect"), row.get("missing_place")),
        )
        for row in pop.missing
    ]


def _pinyin(name: str | None) -> str:
    return "".join(lazy_pinyin(name or "", style=Style.NORMAL, errors="ignore")).lower()


Ranker = Callable[[list[Query], list[ReportEntry]], list[list[str]]]


def _rank_matrix(scores: np.ndarray, refs: list[str], k: int) -> list[list[str]]:
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return [[refs[i] for i in row if np.isfinite(scores[q, i])] for q, row in enumerate(top)]


def name_ratio(queries: list[Query], entries: list[ReportEntry]) -> list[list[str]]:
    """rapidfuzz ratio of the stated names as written."""
    refs = [e.ref for e in entries]
    names = [e.names[0] if e.names else "" for e in entries]
    asked = [q.names[0] if q.names else "" for q in queries]
    scores = process.cdist(asked, names, scorer=fuzz.ratio, workers=-1, dtype=np.float32)
    scores = scores.astype(np.float64)
    scores[[not a for a in asked], :] = -np.inf
    scores[:, [not n for n in names]] = -np.inf
    return _rank_matrix(scores, refs, 50)


def jaro_winkler_pinyin(queries: list[Query], entries: list[ReportEntry]) -> list[list[str]]:
    """Jaro-Winkler similarity of the stated names' toneless pinyin."""
    refs = [e.ref for e in entries]
    names = [_pinyin(e.names[0]) if e.names else "" for e in entries]
    asked = [_pinyin(q.names[0]) if q.names else "" for q in queries]
    scores = process.cdist(asked, names, scorer=JaroWinkler.normalized_similarity,
                           workers=-1, dtype=np.float32).astype(np.float64)  # fmt: skip
    scores[[not a for a in asked], :] = -np.inf
    scores[:, [not n for n in names]] = -np.inf
    return _rank_matrix(scores, refs, 50)


def pinyin_exact(queries: list[Query], entries: list[ReportEntry]) -> list[list[str]]:
    """Reports whose stated name has the same toneless pinyin, in reference order."""
    by_key: dict[str, list[str]] = defaultdict(list)
    for entry in entries:
        if entry.names:
            by_key[_pinyin(entry.names[0])].append(entry.ref)
    return [by_key.get(_pinyin(q.names[0]), [])[:50] if q.names else [] for q in queries]


def xunqin_ranker(*, with_sex_and_year: bool, with_hometown: bool = True) -> Ranker:
    """xunqin's name search, optionally told the sex and estimated birth year.

    The accent heard always chooses the dialect rules; ``with_hometown`` also lets it
    favour reports from the provinces it points to (names only, without it).
    """

    def rank(queries: list[Query], entries: list[ReportEntry]) -> list[list[str]]:
        if not with_hometown:
            entries = [replace(e, regions=frozenset()) for e in entries]
        searcher = NameSearcher(entries)
        out: list[list[str]] = []
        for q in queries:
            if not q.names:
                out.append([])
                continue
            hits = searcher.search(
                q.names, accent=q.accent,
                sex=q.sex if with_sex_and_year else Sex.UNKNOWN,
                birth_year=q.birth_year if with_sex_and_year else None, k=50,
            )  # fmt: skip
            out.append([h.ref for h in hits])
        return out

    return rank


def _recall(queries: list[Query], ranked: list[list[str]]) -> dict[str, Any]:
    by_kind: dict[str, list[int | None]] = defaultdict(list)
    for q, refs in zip(queries, ranked, strict=True):
        rank = refs.index(q.truth) + 1 if q.truth in refs else None
        by_kind[q.scenario].append(rank)

    def share(ranks: Sequence[int | None], k: int) -> float:
        return sum(1 for r in ranks if r is not None and r <= k) / len(ranks) if ranks else 0.0

    named = [r for kind, ranks in by_kind.items() if kind not in NAMELESS for r in ranks]
    return {
        "overall_named": {str(k): share(named, k) for k in KS},
        "queries_named": len(named),
        "by_kind": {
            kind: {"queries": len(ranks), **{str(k): share(ranks, k) for k in KS}}
            for kind, ranks in sorted(by_kind.items())
        },
    }


def run_size(n_reports: int, n_queries: int, seed: int, methods: dict[str, Ranker]
             ) -> dict[str, Any]:  # fmt: skip
    """Every method on one population; figures and seconds per method."""
    pop = benchmark_population(n_reports, n_queries, seed)
    queries, entries = benchmark_queries(pop), benchmark_entries(pop)
    out: dict[str, Any] = {"reports": n_reports, "queries": len(queries), "methods": {}}
    for name, ranker in methods.items():
        started = time.perf_counter()
        ranked = ranker(queries, entries)
        seconds = time.perf_counter() - started
        out["methods"][name] = {"seconds": round(seconds, 2), **_recall(queries, ranked)}
    return out


def index_against_brute_force(n_reports: int, n_queries: int, seed: int) -> dict[str, Any]:
    """Does the index find every report brute force places at 小名/partial or better?"""
    pop = generate_population(seed=seed, n_missing=n_reports, n_found=n_queries,
                              n_true_pairs=n_queries)  # fmt: skip
    queries, entries = benchmark_queries(pop), benchmark_entries(pop)
    index: NameIndex[str] = NameIndex()
    for entry in entries:
        index.add(entry.ref, entry.names)
    missed = found = 0
    for q in queries:
        if not q.names:
            continue
        regions = regions_from_text(q.accent) if q.accent else frozenset()
        brute = {
            e.ref for e in entries
            if compare_names(q.names, e.names, speaker_regions=regions).level
            in set(NameLevel) - {NameLevel.NULL, NameLevel.SURNAME_ONLY, NameLevel.DIFFERENT}
        }  # fmt: skip
        hits = {h.record_id for h in index.query(q.names, regions=regions, limit=1_000_000)}
        found += len(brute & hits)
        missed += len(brute - hits)
    total = found + missed
    return {"reports": n_reports, "queries": len(queries), "brute_force_matches": total,
            "index_found": found, "index_missed": missed,
            "recall_vs_brute_force": found / total if total else 1.0}  # fmt: skip


def _percentiles(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p90_ms": round(times[int(0.90 * (len(times) - 1))], 2),
        "p99_ms": round(times[int(0.99 * (len(times) - 1))], 2),
    }


def index_latency(n_reports: int, n_queries: int, seed: int) -> dict[str, Any]:
    """Build name search over ``n_reports`` reports and time single queries: the name
    index alone (as candidate generation asks it), then an officer's search (the index
    plus ranking by sex, birth year and the accent's provinces, ten results)."""
    pop = generate_population(seed=seed, n_missing=n_reports, n_found=n_queries,
                              n_true_pairs=n_queries)  # fmt: skip
    queries, entries = benchmark_queries(pop), benchmark_entries(pop)
    del pop
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    searcher = NameSearcher(entries)
    searcher.index.query(["王伟"], limit=1)  # merge pending postings before timing queries
    build = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    index_times, search_times = [], []
    for q in queries:
        if not q.names:
            continue
        regions = regions_from_text(q.accent) if q.accent else frozenset()
        t0 = time.perf_counter()
        searcher.index.query(q.names, regions=regions, limit=50)
        t1 = time.perf_counter()
        searcher.search(q.names, accent=q.accent, sex=q.sex, birth_year=q.birth_year, k=10)
        t2 = time.perf_counter()
        index_times.append((t1 - t0) * 1000)
        search_times.append((t2 - t1) * 1000)
    return {
        "reports": n_reports, "queries": len(index_times), "build_seconds": round(build, 1),
        **_percentiles(index_times),
        "search": _percentiles(search_times),
        "max_rss_growth_mb": round((rss_after - rss_before) / 1024, 1),
    }  # fmt: skip


BASELINES: dict[str, Ranker] = {
    "rapidfuzz ratio (characters)": name_ratio,
    "exact toneless pinyin": pinyin_exact,
    "Jaro-Winkler (pinyin)": jaro_winkler_pinyin,
}


def markdown(results: dict[str, Any]) -> str:
    """The per-kind tables, as in the README."""
    lines = ["# Names benchmark", ""]
    for key in ("names_10k", "names_100k"):
        run = results.get(key)
        if not run:
            continue
        methods = list(run["methods"])
        lines += [f"## {run['reports']:,} reports, {run['queries']:,} queries (recall@10; @1 "
                  "in brackets)", "", "| kind | queries | " + " | ".join(methods) + " |",
                  "|---|---|" + "---|" * len(methods)]  # fmt: skip
        first = run["methods"][methods[0]]
        for kind, figures in first["by_kind"].items():
            kinds = [run["methods"][m]["by_kind"][kind] for m in methods]
            cells = [f"{k['10']:.3f} ({k['1']:.2f})" for k in kinds]
            mark = " (no usable name)" if kind in NAMELESS else ""
            lines.append(f"| {kind}{mark} | {figures['queries']} | " + " | ".join(cells) + " |")
        cells = [f"**{run['methods'][m]['overall_named']['10']:.3f}** "
                 f"({run['methods'][m]['overall_named']['1']:.2f})" for m in methods]  # fmt: skip
        lines.append(f"| all with a usable name | {first['queries_named']} | "
                     + " | ".join(cells) + " |")  # fmt: skip
        lines.append("")
        lines.append("Seconds: " + ", ".join(f"{m} {run['methods'][m]['seconds']}"
                                             for m in methods))  # fmt: skip
        lines.append("")
    if "index_vs_brute_force" in results:
        r = results["index_vs_brute_force"]
        lines += [f"Name index against brute force ({r['reports']:,} reports, {r['queries']} "
                  f"queries): {r['index_found']} of {r['brute_force_matches']} matches found "
                  f"(recall {r['recall_vs_brute_force']:.4f}).", ""]  # fmt: skip
    if "index_latency" in results:
        r = results["index_latency"]
        lines += [f"Name index at {r['reports']:,} reports: build {r['build_seconds']} s; "
                  f"query p50 {r['p50_ms']} ms, p90 {r['p90_ms']} ms, p99 {r['p99_ms']} ms "
                  f"over {r['queries']} queries; memory growth {r['max_rss_growth_mb']} MB.",
                  ""]  # fmt: skip
        if "search" in r:
            t = r["search"]
            lines += [f"Officer's search at {r['reports']:,} reports (the index asked for a "
                      f"thousand hits, ranked by sex, birth year and the accent's provinces, "
                      f"ten returned): p50 {t['p50_ms']} ms, p90 {t['p90_ms']} ms, "
                      f"p99 {t['p99_ms']} ms.", ""]  # fmt: skip
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write ``names.json`` and ``names.md``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--latency-reports", type=int, default=1_000_000)
    parser.add_argument("--skip-large", action="store_true", help="only the 10,000 run")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"seed": args.seed}
    results["names_10k"] = run_size(
        10_000, args.queries, args.seed,
        {"xunqin": xunqin_ranker(with_sex_and_year=False, with_hometown=False),
         "xunqin + accent's provinces": xunqin_ranker(with_sex_and_year=False),
         # Ties among namesakes broken by everything else the station wrote down.
         "xunqin + sex + birth year + accent's provinces": xunqin_ranker(with_sex_and_year=True),
         **BASELINES},
    )  # fmt: skip
    results["index_vs_brute_force"] = index_against_brute_force(10_000, 300, args.seed + 1)
    if not args.skip_large:
        results["names_100k"] = run_size(
            100_000, args.queries, args.seed + 2,
            {"xunqin": xunqin_ranker(with_sex_and_year=False, with_hometown=False),
             "xunqin + sex + birth year": xunqin_ranker(with_sex_and_year=True,
                                                        with_hometown=False),
             "xunqin + sex + birth year + accent's provinces":
                 xunqin_ranker(with_sex_and_year=True), **BASELINES},
        )  # fmt: skip
        results["index_latency"] = index_latency(args.latency_reports, 1000, args.seed + 3)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "names.json").write_text(json.dumps(results, indent=1, ensure_ascii=False))
    (args.out / "names.md").write_text(markdown(results), encoding="utf-8")
    print(markdown(results))  # noqa: T201 - the benchmark's report to the person running it
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
