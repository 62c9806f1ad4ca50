"""Memory of the re-match's weak-name pairs: int64 keys against a set of tuples.

    .venv/bin/python -m evaluation.bench.pairs --out bench/results

A found person whose names cannot find their report (none, or only a 小名) reaches up
to 2,000 reports of a fitting sex and birth year (:func:`usecases.blocking.weak_name_keys`),
so the nightly job holds millions of pairs. The pairs of a generated population's
found persons (names removed, so every one with an age and a found date is served) are
chosen twice in the same run: as int64 keys, as the re-match holds them, and as the set
of (report, found) tuples the re-match held before (the baseline, made here from the
keys, so its peak includes choosing them). tracemalloc measures what each holds when
done, and its peak.

Results go to ``<out>/pairs.json`` and ``<out>/pairs.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from evaluation.markdown import table_lines
from evaluation.population import generate_population
from evaluation.population_views import views_from_rows
from matching.views import FoundView, MissingView
from usecases import blocking

MIB = 2**20


def nameless_population(
    n_missing: int, n_found: int, seed: int
) -> tuple[list[MissingView], list[FoundView]]:
    """A generated population as the matcher sees it, every name left out."""
    pop = generate_population(seed=seed, n_missing=n_missing, n_found=n_found,
                              n_true_pairs=n_found // 2, today=date(2026, 11, 1))  # fmt: skip
    missing, found = views_from_rows(pop.missing, pop.found)
    return ([replace(view, names=()) for view in missing],
            [replace(view, names=()) for view in found])  # fmt: skip


def measure(choose: Callable[[], Any]) -> dict[str, float]:
    """Pairs chosen, MiB held when done and at the peak, and seconds taken."""
    tracemalloc.start()
    started = time.perf_counter()
    chosen = choose()
    seconds = time.perf_counter() - started
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"pairs": len(chosen), "held_mib": round(held / MIB, 1),
            "peak_mib": round(peak / MIB, 1), "seconds": round(seconds, 1)}  # fmt: skip


def run(n_missing: int, n_found: int, seed: int) -> dict[str, Any]:
    """Both ways of holding the pairs, in one run."""
    missing, found = nameless_population(n_missing, n_found, seed)
    blocking.weak_name_keys(missing[:100], found[:100])  # caches filled outside the measures
    keys = measure(lambda: blocking.weak_name_keys(missing, found))
    tuples = measure(lambda: blocking.weak_name_pairs(missing, found))
    return {
        "reports": n_missing,
        "found_persons": n_found,
        "seed": seed,
        "int64 keys": keys,
        "set of tuples (baseline)": tuples,
        "held ratio": round(tuples["held_mib"] / max(keys["held_mib"], 0.1), 1),
    }


def markdown(result: dict[str, Any]) -> str:
    """The result as a Markdown table."""
    rows = [[way, f"{r['pairs']:,}", f"{r['held_mib']:.1f}", f"{r['peak_mib']:.1f}",
             f"{r['seconds']:.1f}"]
            for way in ("int64 keys", "set of tuples (baseline)")
            for r in [result[way]]]  # fmt: skip
    head = (f"Weak-name pairs of {result['found_persons']:,} nameless found persons against "
            f"{result['reports']:,} reports (seed {result['seed']}): the tuples hold "
            f"x{result['held ratio']} the memory of the keys. (The tuples are made from "
            "the keys, so their peak includes choosing them.)\n\n")  # fmt: skip
    table = table_lines(["held as", "pairs", "MiB held", "MiB peak", "seconds"], rows)
    return head + "\n".join(table) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write ``pairs.json`` and ``pairs.md``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument("--found", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args(argv)
    result = run(args.reports, args.found, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "pairs.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (args.out / "pairs.md").write_text(markdown(result), encoding="utf-8")
    sys.stdout.write(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
