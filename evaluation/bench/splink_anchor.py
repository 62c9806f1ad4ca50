"""The columnar scorer against Splink on DuckDB, on the same pairs: the re-match's anchor.

    .venv/bin/python -m evaluation.bench.splink_anchor --reports 10000 --out bench/results

A generated population (``--reports`` reports, a tenth as many found persons, half of
them with a report; synthetic faces on a share of the records, see
:mod:`evaluation.population_faces`) is blocked as the re-match blocks it
(:class:`usecases.blocking.ReportBlocking`, names and attributes; no face index), and the
candidate pairs are scored twice in one process:

- by our :class:`~matching.evidence_model.columns.ColumnarScorer` with the shipped
  model, a fresh scorer (empty memos) each pass;
- by Splink 4 on DuckDB (:mod:`evaluation.bench.splink_scorer`), each pass one
  ``linker.inference.predict()`` over exactly the given pairs (Splink blocks on a list
  of the pairs' keys in each record; its own log says how long that join took).

Each scorer's best of three passes counts (the machine is shared), and the first passes
are reported beside it. What is timed is the scoring alone: our columns, and Splink's
rows and their loading into DuckDB (with the term frequencies of names), are timed
apart. Both first passes carry one-time work: ours compares each distinct pair of names
once and remembers the outcome for the process, as a re-match run does, so its later
passes are several times faster (every record's names are read once before either
scorer runs, as a long run has them); Splink's concatenates the two tables with the
term frequencies, which it keeps for the later passes, and otherwise remembers nothing
between passes. DuckDB runs on all the machine's cores; our scorer on one.

What the anchor is and is not. It is the speed of a well-known engine scoring the same
pairs with the nearest comparisons it offers, with m and u fixed from our model (no
training). It is not a comparison of quality, and Splink's comparisons do less than
ours: names are compared as written, as toneless pinyin and by surname with exact and
Jaro-Winkler levels, without our dialect rules, mishearings, 小名, traditional forms or
several readings of a character; faces are the closest pair's Euclidean distance in our
bins through custom SQL (Splink's library compares one vector a record, by cosine),
without the strata by photo age; age, time, height and place have our bands but one
stratum each (Splink has one m and u a level), no growth curve for a child's height and
no province-only places; marks and health agree on canonical traits we read beforehand,
without rare traits or related families. So Splink does about the same kinds of work a
pair as ours, somewhat less. As Splink writes every level as its own SQL condition, an
expression several levels share (the closest faces, the best Jaro-Winkler over two lists
of names) may be evaluated once a level: that is the engine's way, and part of what is
measured. The correlation of the two weights over the pairs is reported beside the
speeds.

Results go to ``<out>/splink_anchor.json`` and ``<out>/splink_anchor.md``; progress to
stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from evaluation.bench.results import write_results
from evaluation.bench.splink_columns import found_row, pair_key_lists, report_row, side_frame
from evaluation.bench.splink_scorer import SplinkPass, SplinkScorer, SplinkScores
from evaluation.markdown import table_lines
from evaluation.population import generate_population
from evaluation.population_faces import with_faces
from evaluation.population_views import views_from_rows
from matching.evidence_model import EvidenceModel
from matching.evidence_model.columns import ColumnarScorer
from matching.names import compare_names
from matching.views import FoundView, MissingView
from usecases.blocking import ReportBlocking

T = TypeVar("T")
Pairs = tuple[NDArray[np.int64], NDArray[np.int64]]

PASSES = 3
"""Scoring passes of each scorer; the best counts."""


def _tell(message: str) -> None:
    sys.stderr.write(f"[splink_anchor] {message}\n")
    sys.stderr.flush()


def timed(work: Callable[[], T]) -> tuple[T, float]:
    """What ``work`` returns, and the seconds it took."""
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def population(
    reports: int, *, seed: int, face_share: float
) -> tuple[list[MissingView], list[FoundView]]:
    """The reports and found persons (a tenth as many, half of them true pairs)."""
    found = max(1, reports // 10)
    pop = generate_population(seed=seed, n_missing=reports, n_found=found,
                              n_true_pairs=max(1, found // 2), today=date(2026, 11, 1))  # fmt: skip
    return with_faces(*views_from_rows(pop.missing, pop.found), pop.truth, seed=seed,
                      share=face_share)  # fmt: skip


def candidate_pairs(missing: Sequence[MissingView], found: Sequence[FoundView]) -> Pairs:
    """The re-match's candidate pairs (report rows, found rows), found person by found
    person, each once."""
    keys = ReportBlocking(missing).keys(found, np.arange(len(found), dtype=np.int64))
    j, i = np.divmod(keys, len(missing))
    return i, j


def columnar_passes(
    model: EvidenceModel,
    missing: Sequence[MissingView],
    found: Sequence[FoundView],
    pairs: Pairs,
    *,
    passes: int = PASSES,
) -> tuple[NDArray[np.float64], dict[str, float]]:
    """Our weights of ``pairs``, and the seconds of the columns and of each pass."""
    scorer = ColumnarScorer(model)
    columns, build = timed(lambda: (scorer.missing_columns(missing), scorer.found_columns(found)))
    seconds = []
    weights = np.zeros(0)
    for k in range(passes):
        scorer = ColumnarScorer(model)  # empty memos, as a new run's
        weights, spent = timed(partial(scorer.total_weights, *columns, *pairs))
        seconds.append(spent)
        _tell(f"columnar pass {k + 1}: {spent:.2f} s")
    return weights, {"columns": build, "first": seconds[0], "best": min(seconds)}


def splink_passes(
    model: EvidenceModel,
    missing: Sequence[MissingView],
    found: Sequence[FoundView],
    pairs: Pairs,
    *,
    passes: int = PASSES,
) -> tuple[SplinkScores, dict[str, Any]]:
    """Splink's scores of ``pairs`` (the best pass's), and the seconds of each step."""
    rows, build = timed(lambda: ([report_row(v) for v in missing], [found_row(v) for v in found]))
    frames = (side_frame(rows[0], pair_key_lists(pairs[0], len(missing))),
              side_frame(rows[1], pair_key_lists(pairs[1], len(found))))  # fmt: skip
    splink, loading = timed(lambda: SplinkScorer(model.params, *frames))
    _tell(f"Splink loaded in {loading:.2f} s ({splink.threads} DuckDB threads)")
    try:
        runs: list[SplinkPass] = []
        for k in range(passes):
            runs.append(splink.score())
            _tell(f"Splink pass {k + 1}: {runs[-1].seconds:.2f} s")
        threads = splink.threads
    finally:
        splink.close()
    best = min(runs, key=lambda run: run.seconds)
    return best.scores, {"rows": build, "loading": loading, "first": runs[0].seconds,
                         "best": best.seconds, "blocking_of_best": best.blocking_seconds,
                         "threads": threads}  # fmt: skip


def agreement(
    pairs: Pairs, n_missing: int, ours: NDArray[np.float64], scores: SplinkScores
) -> dict[str, Any]:
    """Whether Splink scored exactly the given pairs, each once, and how its weights
    go with ours."""
    given = pairs[1] * n_missing + pairs[0]
    got = scores.j * n_missing + scores.i
    order_given, order_got = np.argsort(given), np.argsort(got)
    same = len(got) == len(given) and np.array_equal(given[order_given], got[order_got])
    correlation = (float(np.corrcoef(ours[order_given], scores.weights[order_got])[0, 1])
                   if same and len(given) > 1 else None)  # fmt: skip
    return {"splink_rows": len(got), "distinct_pairs_in_splink": int(len(np.unique(got))),
            "exactly_the_given_pairs": bool(same), "weights_correlation": correlation}  # fmt: skip


def _rates(pairs: int, seconds: dict[str, Any]) -> dict[str, Any]:
    return {"first_pass_seconds": round(seconds["first"], 3),
            "best_seconds": round(seconds["best"], 3),
            "first_pass_pairs_a_second": round(pairs / seconds["first"]),
            "pairs_a_second": round(pairs / seconds["best"])}  # fmt: skip


def run(reports: int, *, seed: int, face_share: float, passes: int = PASSES) -> dict[str, Any]:
    """Both scorers on one population's candidate pairs."""
    load = os.getloadavg()[0]
    _tell(f"{reports} reports: generating")
    missing, found = population(reports, seed=seed, face_share=face_share)
    _tell("blocking")
    pairs, blocking = timed(lambda: candidate_pairs(missing, found))
    n = len(pairs[0])
    _tell(f"{n:,} pairs in {blocking:.1f} s; reading every record's names once")
    for view in (*missing, *found):
        compare_names(view.names, view.names)
    model = EvidenceModel.default()
    ours, ours_seconds = columnar_passes(model, missing, found, pairs, passes=passes)
    scores, splink_seconds = splink_passes(model, missing, found, pairs, passes=passes)
    columnar = {"columns_seconds": round(ours_seconds["columns"], 3), **_rates(n, ours_seconds)}
    splink = {"rows_seconds": round(splink_seconds["rows"], 3),
              "loading_seconds": round(splink_seconds["loading"], 3),
              **_rates(n, splink_seconds),
              "blocking_seconds_of_best_pass": splink_seconds["blocking_of_best"],
              "duckdb_threads": splink_seconds["threads"]}  # fmt: skip
    return {
        "reports": len(missing), "found_persons": len(found), "seed": seed,
        "face_share": face_share,
        "records_with_faces": sum(bool(v.faces) for v in (*missing, *found)),
        "pairs": n, "blocking_seconds": round(blocking, 1), "passes": passes,
        "cpus": os.cpu_count(), "load_average_at_start": round(load, 1),
        "splink_version": version("splink"), "duckdb_version": version("duckdb"),
        "columnar": columnar, "splink": splink,
        "ratio": round(columnar["pairs_a_second"] / splink["pairs_a_second"], 1),
        "ratio_first_passes": round(columnar["first_pass_pairs_a_second"]
                                    / splink["first_pass_pairs_a_second"], 1),
        "check": agreement(pairs, len(missing), ours, scores),
    }  # fmt: skip


def markdown(result: dict[str, Any]) -> str:
    """The result as a page: what was run, a table, what the first passes carry, the
    check."""
    ours, splink, check = result["columnar"], result["splink"], result["check"]
    rows = [
        ["columnar (ours)", f"{ours['columns_seconds']:.2f} (columns)",
         f"{ours['first_pass_seconds']:.2f}", f"{ours['first_pass_pairs_a_second']:,}",
         f"x{result['ratio_first_passes']}", f"{ours['best_seconds']:.2f}",
         f"{ours['pairs_a_second']:,}", f"x{result['ratio']}"],
        [f"Splink {result['splink_version']} on DuckDB {result['duckdb_version']}",
         f"{splink['rows_seconds']:.2f} (rows) + {splink['loading_seconds']:.2f} (loading)",
         f"{splink['first_pass_seconds']:.2f}", f"{splink['first_pass_pairs_a_second']:,}",
         "x1", f"{splink['best_seconds']:.2f}", f"{splink['pairs_a_second']:,}", "x1"],
    ]  # fmt: skip
    blocking = splink["blocking_seconds_of_best_pass"]
    said = (
        f" (in the best, {blocking:.2f} s went on blocking on the pairs' keys)" if blocking else ""
    )
    correlation = check["weights_correlation"]
    head = (
        "# The columnar scorer against Splink on DuckDB (same pairs)\n\n"
        f"The re-match's candidate pairs of {result['reports']:,} reports and "
        f"{result['found_persons']:,} found persons (seed {result['seed']}; "
        f"{result['records_with_faces']:,} records with synthetic faces): "
        f"{result['pairs']:,} pairs, scored in one process by our columnar scorer and by "
        "Splink with the nearest comparisons it offers and m and u fixed from our model "
        "(`python -m evaluation.bench.splink_anchor`; what Splink's comparisons leave out "
        f"is in the module's docstring). {result['passes']} passes each; preparing the data "
        f"is timed apart. DuckDB ran {splink['duckdb_threads']} threads, our scorer one "
        f"({result['cpus']} CPUs, shared: load {result['load_average_at_start']} at the "
        "start).\n\n"
    )  # fmt: skip
    tail = (
        "\nRead the two ratios together. Our first pass compares each distinct pair of "
        "names once with the names package and remembers the outcome for the process, as a "
        "re-match run does; the later passes find every pair of names remembered, so our "
        "best pass is the scoring without the name comparisons' first cost. Splink "
        "remembers nothing between passes: each is a full `predict()`"
        f"{said}; its first pass also concatenates the tables with the names' term "
        "frequencies, which it keeps.\n\n"
        f"Splink returned {check['splink_rows']:,} rows, "
        f"{check['distinct_pairs_in_splink']:,} distinct pairs: "
        + ("exactly the given pairs" if check["exactly_the_given_pairs"]
           else "NOT the given pairs")
        + (f"; its weights correlate with ours at {correlation:.2f}" if correlation is not None
           else "")
        + ".\n"
    )  # fmt: skip
    header = ["scorer", "preparing (s)", "first pass (s)", "pairs/s", "against Splink",
              f"best of {result['passes']} (s)", "pairs/s", "against Splink"]  # fmt: skip
    return head + "\n".join(table_lines(header, rows)) + "\n" + tail


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write ``splink_anchor.json`` and ``splink_anchor.md``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--face-share", type=float, default=0.6)
    parser.add_argument("--passes", type=int, default=PASSES)
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args(argv)
    result = run(args.reports, seed=args.seed, face_share=args.face_share, passes=args.passes)
    _tell(f"written to {write_results(args.out, 'splink_anchor', result, markdown(result))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
