"""Speed of the columnar scorer against the per-pair one, on the same pairs, in one run.

    .venv/bin/python -m evaluation.bench.columnar_speed --out bench/results

A generated population (synthetic faces on a share of the records, see
:mod:`evaluation.population_faces`) is scored as every pair of its reports and found
persons by :class:`~matching.evidence_model.columns.ColumnarScorer`, and on random
samples of the same pairs by ``EvidenceModel.total_weight`` (all pairs would take the
per-pair scorer too long). Both run twice: with names and without (the same model
without its name comparison), because names go through a memo of ``compare_names`` per
distinct pair until the columnar name comparison arrives.

The machine is shared, so each figure is the best of three passes, none helped by
another: the per-pair scorer on three disjoint samples, each in report order as the
columns take pairs; the columnar scorer's first pass with fresh memos (as a run's first
block; with names only once, since the names package remembers the pairs it compared),
then again with full memos. Both measure pairs only: the per-pair scorer's record facts
are derived beforehand and building the columns is timed apart; the names package has
read every record's names once before either runs (a long run has those readings
cached). The samples' columnar weights are checked against the per-pair ones.

Results go to ``<out>/columnar_speed.json`` and ``<out>/columnar_speed.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from evaluation.markdown import table_lines
from evaluation.population import generate_population
from evaluation.population_faces import with_faces
from evaluation.population_views import views_from_rows
from matching.evidence_model import EvidenceModel
from matching.evidence_model.columns import ColumnarScorer, FoundColumns, MissingColumns
from matching.names import compare_names
from matching.views import FoundView, MissingView

T = TypeVar("T")

SAMPLES = 3
"""Passes of each scorer (the best counts): per-pair on disjoint samples, columnar anew."""


def timed(work: Callable[[], T]) -> tuple[T, float]:
    """What ``work`` returns, and the seconds it took."""
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def per_pair_pass(
    model: EvidenceModel,
    missing: Sequence[MissingView],
    found: Sequence[FoundView],
    pairs: tuple[NDArray[np.int64], NDArray[np.int64]],
) -> tuple[NDArray[np.float64], float]:
    """The per-pair scorer's weights of ``pairs`` (report rows, found rows), and seconds."""
    rows = list(zip(pairs[0].tolist(), pairs[1].tolist(), strict=True))
    weights, seconds = timed(lambda: [model.total_weight(missing[a], found[b]) for a, b in rows])
    return np.asarray(weights), seconds


def build_columns(
    scorer: ColumnarScorer, missing: Sequence[MissingView], found: Sequence[FoundView]
) -> tuple[tuple[MissingColumns, FoundColumns], float]:
    """Both sides' columns, and seconds."""
    return timed(lambda: (scorer.missing_columns(missing), scorer.found_columns(found)))


def columnar_pass(
    scorer: ColumnarScorer,
    columns: tuple[MissingColumns, FoundColumns],
    pairs: tuple[NDArray[np.int64], NDArray[np.int64]],
) -> tuple[NDArray[np.float64], float]:
    """The columnar scorer's weights of ``pairs``, and seconds."""
    return timed(lambda: scorer.total_weights(*columns, *pairs))


def measure(
    model: EvidenceModel,
    missing: Sequence[MissingView],
    found: Sequence[FoundView],
    sample: int,
    seed: int,
) -> dict[str, Any]:
    """Both scorers' pairs a second with one model, on every pair and on samples."""
    i, j = np.divmod(np.arange(len(missing) * len(found), dtype=np.int64), len(found))
    # Disjoint samples, each in the order the columns take pairs (report by report), so
    # the names package's caches see the same locality in both scorers.
    drawn = np.random.default_rng(seed).permutation(len(i))[: SAMPLES * sample]
    samples = [np.sort(part) for part in np.array_split(drawn, SAMPLES)]
    for m in missing:  # facts derived once a record, as the columns are (timed apart)
        model.facts.missing(m)
    for f in found:
        model.facts.found(f)
    # The machine is shared, so each scorer's best of a few passes counts, none helped by
    # another: per pair on fresh samples, columnar with fresh memos. With names, one
    # columnar first pass only: the names package remembers pairs it compared.
    per_pair = [per_pair_pass(model, missing, found, (i[rows], j[rows])) for rows in samples]
    slow = min(seconds for _, seconds in per_pair)
    firsts: list[float] = []
    names = any(c.name == "name" for c in model.comparisons)
    while len(firsts) < (1 if names else SAMPLES):
        scorer = ColumnarScorer(model)
        columns, build = build_columns(scorer, missing, found)
        weights, first = columnar_pass(scorer, columns, (i, j))
        firsts.append(first)
    first = min(firsts)
    # With full memos nothing is cached that the first pass did not already hold.
    again = min(columnar_pass(scorer, columns, (i, j))[1] for _ in range(SAMPLES))
    difference = max(
        float(np.max(np.abs(weights[rows] - slow_weights)))
        for rows, (slow_weights, _) in zip(samples, per_pair, strict=True)
    )
    return {
        "comparisons": [c.name for c in model.comparisons],
        "pairs": len(i),
        "columnar_first_passes": len(firsts),
        "per_pair_samples": SAMPLES,
        "columns_seconds": round(build, 3),
        "columnar_first_pass_seconds": round(first, 3),
        "columnar_first_pass_pairs_a_second": round(len(i) / first),
        "columnar_again_seconds": round(again, 3),
        "columnar_again_pairs_a_second": round(len(i) / again),
        "per_pair_sample": sample,
        "per_pair_seconds": round(slow, 3),
        "per_pair_pairs_a_second": round(sample / slow),
        "speedup_first_pass": round((len(i) / first) / (sample / slow), 1),
        "speedup_again": round((len(i) / again) / (sample / slow), 1),
        "sample_max_weight_difference": difference,
    }


def read_names(views: Sequence[MissingView | FoundView]) -> None:
    """Have the names package read every record's names once (its caches hold each
    name's readings), so neither scorer pays for the first reading of a name."""
    for view in views:
        compare_names(view.names, view.names)


def run(
    n_missing: int, n_found: int, *, seed: int, sample: int, face_share: float
) -> dict[str, Any]:
    """Both scorers with and without names, on one population."""
    pop = generate_population(seed=seed, n_missing=n_missing, n_found=n_found,
                              n_true_pairs=n_found // 2, today=date(2026, 11, 1))  # fmt: skip
    missing, found = with_faces(
        *views_from_rows(pop.missing, pop.found), pop.truth, seed=seed, share=face_share
    )
    read_names([*missing, *found])
    shipped = EvidenceModel.default()
    with_names = EvidenceModel(shipped.params, comparisons=shipped.comparisons)
    without_names = EvidenceModel(
        shipped.params, comparisons=tuple(c for c in shipped.comparisons if c.name != "name")
    )
    named = measure(with_names, missing, found, sample, seed)
    nameless = measure(without_names, missing, found, sample, seed)
    today = named["per_pair_pairs_a_second"]
    return {
        "reports": n_missing,
        "found_persons": n_found,
        "seed": seed,
        "face_share": face_share,
        "records_with_faces": sum(bool(v.faces) for v in (*missing, *found)),
        "faces": sum(len(v.faces) for v in (*missing, *found)),
        "cpus": os.cpu_count(),
        "load_average_at_start": round(os.getloadavg()[0], 1),
        "with names (memo)": named,
        "without names": nameless,
        # Today's re-match scores every comparison per pair: how the columns without names
        # (the name columns still to come) compare with it.
        "nameless_columnar_against_per_pair_with_names": {
            "first_pass": round(nameless["columnar_first_pass_pairs_a_second"] / today, 1),
            "again": round(nameless["columnar_again_pairs_a_second"] / today, 1),
        },
    }


def markdown(result: dict[str, Any]) -> str:
    """The result as a Markdown table."""
    rows = []
    for label in ("with names (memo)", "without names"):
        r = result[label]
        rows += [
            [label, "columnar, first pass", f"{r['pairs']:,}",
             f"{r['columnar_first_pass_seconds']:.2f}",
             f"{r['columnar_first_pass_pairs_a_second']:,}", f"x{r['speedup_first_pass']}"],
            [label, "columnar, again (memos full)", f"{r['pairs']:,}",
             f"{r['columnar_again_seconds']:.2f}", f"{r['columnar_again_pairs_a_second']:,}",
             f"x{r['speedup_again']}"],
            [label, "per pair (total_weight)", f"{r['per_pair_sample']:,}",
             f"{r['per_pair_seconds']:.2f}", f"{r['per_pair_pairs_a_second']:,}", "x1"],
        ]  # fmt: skip
    largest = max(result[k]["sample_max_weight_difference"]
                  for k in ("with names (memo)", "without names"))  # fmt: skip
    against = result["nameless_columnar_against_per_pair_with_names"]
    head = (
        f"Every pair of {result['reports']:,} reports and {result['found_persons']:,} found "
        f"persons (seed {result['seed']}; {result['records_with_faces']:,} records with "
        f"{result['faces']:,} synthetic faces), scored by the columnar scorer and, on random "
        f"samples of {result['without names']['per_pair_sample']:,} of the same pairs taken "
        "in report order, by the per-pair scorer, in one process; each figure is the best of "
        "three passes (the columnar first pass with names: one) "
        f"({result['cpus']} CPUs, shared: load {result['load_average_at_start']} at the "
        "start). Record facts are derived before either is timed; "
        "building the columns took "
        f"{result['with names (memo)']['columns_seconds']:.2f} s. The sample's weights "
        "differ by at most "
        f"{largest:.1e}. Without names, the columns score x{against['first_pass']} "
        f"(x{against['again']} again) the pairs a second of the per-pair scorer with names."
        "\n\n"
    )  # fmt: skip
    header = ["model", "scorer", "pairs", "seconds", "pairs a second", "against per pair"]
    return head + "\n".join(table_lines(header, rows)) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write ``columnar_speed.json`` and ``columnar_speed.md``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--reports", type=int, default=2_000)
    parser.add_argument("--found", type=int, default=200)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--sample", type=int, default=4_000, help="pairs the per-pair scorer scores"
    )
    parser.add_argument("--face-share", type=float, default=0.6)
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args(argv)
    result = run(args.reports, args.found, seed=args.seed, sample=args.sample,
                 face_share=args.face_share)  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "columnar_speed.json").write_text(
        json.dumps(result, indent=1) + "\n", encoding="utf-8"
    )
    (args.out / "columnar_speed.md").write_text(markdown(result), encoding="utf-8")
    sys.stdout.write(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
