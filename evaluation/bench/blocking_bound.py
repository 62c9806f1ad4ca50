"""What a bound on each found person's blocked pairs would keep: the ranks of true pairs.

    .venv/bin/python -m evaluation.bench.blocking_bound --reports 30000 --out bench/results

Blocking's pairs grow about as the square of the store (``rematch_scale``), so a national
re-match needs each found person's pairs bounded: only the best-ranked reports scored in
full. Whether a bound keeps the true pairs depends on what ranks them. For a generated
population (``--reports`` reports, a tenth as many found persons, a twentieth true pairs;
no photos), a sample of found persons is blocked as the bounded re-match blocks them
(``ReportBlocking.tiered_keys``, bounded), every pair's comparison terms
are computed in columns, and each true pair's rank among its found person's pairs is
read under five rankings:

- ``without names``: sex, age, time, height and place (array comparisons, cheap at any
  size), on top of the prior;
- ``with name keys``: those and the name term the tier of shared name keys stands for
  (``usecases.blocking.name_guess``), before any name is compared;
- ``with names``: those and the names compared;
- ``all but names, name keys``: every comparison but the names, and the name keys'
  term: the guess the re-match bounds by;
- ``full``: the total weight the re-match scores.

It also counts, per found person, the pairs each source of blocking gives (names by
shared key, sex/year/province, the weak-name reach), their union, what is left once
the facts that cost nothing to compare rule pairs out, and the true pairs each reaches.
Results go to ``<out>/blocking_bound.json`` and ``<out>/blocking_bound.md``.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from evaluation.bench.results import write_results
from evaluation.markdown import table_lines
from evaluation.population import generate_population
from evaluation.population_views import views_from_rows
from matching.evidence_model import EvidenceModel
from matching.evidence_model.columns import ColumnarScorer
from matching.names.forms import usable_names
from usecases.blocking import (
    NO_NAME_TIER,
    ReportBlocking,
    name_guess,
    name_tier_weights,
    weak_name_reach,
)

SEED = 19
BOUNDS = (20, 50, 100, 200, 400, 800)
CHEAP = ("sex", "age", "time", "height", "place")
"""The comparisons computed with array operations alone (no per-value comparison)."""
SOURCES = ("names", "attributes", "weak names", "compatible")
NO_TIER = NO_NAME_TIER


def _tell(message: str) -> None:
    sys.stderr.write(f"[blocking_bound] {message}\n")


def _stats(values: NDArray[np.int64]) -> dict[str, float]:
    if not len(values):
        return {"mean": 0.0, "p50": 0.0, "p90": 0.0, "p99": 0.0, "max": 0.0}
    return {"mean": round(float(values.mean()), 1),
            **{f"p{q}": round(float(np.percentile(values, q)), 1) for q in (50, 90, 99)},
            "max": float(values.max())}  # fmt: skip


def measure(reports: int, *, sample: int, seed: int = SEED) -> dict[str, Any]:
    """Rank the true pairs of ``sample`` found persons of a generated population."""
    started = time.perf_counter()
    n_found = max(1, reports // 10)
    population = generate_population(seed=seed, n_missing=reports, n_found=n_found,
                                     n_true_pairs=max(1, reports // 20))  # fmt: skip
    missing, found = views_from_rows(population.missing, population.found)
    report_at = {view.ref: i for i, view in enumerate(missing)}
    found_at = {view.ref: j for j, view in enumerate(found)}
    truth = {found_at[pair.found_ref]: report_at[pair.missing_ref] for pair in population.truth}
    reach = weak_name_reach(found, budget=5_000_000)
    blocking = ReportBlocking(missing, weak_reach=reach)
    people = np.sort(np.random.default_rng(seed).choice(len(found), min(sample, len(found)),
                                                        replace=False))  # fmt: skip
    _tell(f"{reports} reports: blocking {len(people)} found persons")
    n = len(missing)
    per_source: dict[str, list[int]] = {source: [] for source in (*SOURCES, "any")}
    reached: dict[str, int] = dict.fromkeys((*SOURCES, "any"), 0)
    chunks, tier_chunks = [], []
    for j in people.tolist():
        person, row = found[j], np.array([j], dtype=np.int64)
        sources = {
            "names": blocking.name_keys([person], row) % n,
            "attributes": blocking.attribute_reports(person),
            "weak names": blocking.weak_reports(person),
        }
        union = np.unique(np.concatenate(list(sources.values())))
        # What the bounded re-match guesses at: the union less the pairs that share no
        # whole name and that sex, birth year or dates rule out.
        compatible, tiers = blocking.tiered_keys([person], row, bounded=True)
        sources["compatible"] = compatible % n
        chunks.append(compatible)
        tier_chunks.append(tiers)
        for source, rows in sources.items():
            per_source[source].append(len(rows))
            reached[source] += int(j in truth and truth[j] in rows)
        reached["any"] += int(j in truth and truth[j] in union)
        per_source["any"].append(len(union))
    keys = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
    pair_found, pair_missing = np.divmod(keys, n)
    _tell(f"{len(keys):,} pairs: their terms in columns")
    model = EvidenceModel.default()
    scorer = ColumnarScorer(model)
    terms = scorer.terms(scorer.missing_columns(missing), scorer.found_columns(found),
                         pair_missing, pair_found)  # fmt: skip
    cheap = model.prior_weight + sum((terms[name] for name in CHEAP), np.zeros(len(keys)))
    tier = np.concatenate(tier_chunks) if tier_chunks else np.zeros(0, dtype=np.int8)
    _tell(f"pairs by tier: {np.bincount(tier, minlength=NO_TIER + 1).tolist()}")
    # As the re-match's guess reads them: names it can use on both sides.
    named_m = np.array([bool(usable_names(view.names)) for view in missing])
    named_f = np.array([bool(usable_names(view.names)) for view in found])
    both_named = named_m[pair_missing] & named_f[pair_found]
    by_tier = name_tier_weights(model)
    if by_tier is None:
        raise ValueError("the shipped model compares names")
    rankings = {"without names": cheap,
                "with name keys": cheap + name_guess(by_tier, tier, both_named),
                "with names": cheap + terms["name"],
                "all but names, name keys": model.prior_weight
                + name_guess(by_tier, tier, both_named)
                + sum((terms[c] for c in terms if c != "name"), np.zeros(len(keys))),
                "full": model.prior_weight + sum(terms.values(), np.zeros(len(keys)))}  # fmt: skip
    ranks: dict[str, list[int]] = {name: [] for name in rankings}
    true_in_block = 0
    for j in people.tolist():
        if j not in truth:
            continue
        mine = np.flatnonzero(pair_found == j)
        where = mine[pair_missing[mine] == truth[j]]
        if not len(where):
            continue
        true_in_block += 1
        for name, score in rankings.items():
            # Ties count against the true pair: a bound could keep either.
            ranks[name].append(int((score[mine] >= score[where[0]]).sum()) - 1)
    within = {name: {str(k): round(float(np.mean(np.array(r) < k)), 4) if r else 0.0
                     for k in BOUNDS} for name, r in ranks.items()}  # fmt: skip
    return {
        "reports": reports, "found_persons": n_found, "sampled": len(people),
        "true_pairs_sampled": sum(1 for j in people.tolist() if j in truth),
        "true_pairs_blocked": true_in_block, "weak_name_reach": reach,
        "pairs": len(keys),
        "pairs_per_person": {source: _stats(np.array(v, dtype=np.int64))
                             for source, v in per_source.items()},
        "true_pairs_reached": reached,
        "within_bound": within,
        "seconds": round(time.perf_counter() - started, 1),
    }  # fmt: skip


def _markdown(result: dict[str, Any]) -> str:
    lines = [
        "# What a bound on each found person's blocked pairs would keep",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, Python "
        f"{platform.python_version()}. A generated population of {result['reports']:,} "
        f"reports and {result['found_persons']:,} found persons (seed {SEED}, no photos); "
        f"{result['sampled']} found persons sampled and blocked as a full re-match blocks "
        f"them ({result['pairs']:,} pairs), {result['true_pairs_sampled']} of them with a "
        f"true report, {result['true_pairs_blocked']} of those blocked. "
        "`python -m evaluation.bench.blocking_bound`.",
        "",
        "## Share of blocked true pairs within a found person's best k blocked reports",
        "",
        "The pairs the bounded re-match guesses at (blocked, less those that share no whole "
        "name and that sex, birth year or dates rule out). Ranked by sex, age, time, height "
        "and place (without names); by those and the name term the tier of shared name keys "
        "stands for; by those and the names compared; by everything but the names and the "
        "name keys' term (the re-match's guess); and by the full score. Ties count against "
        "the true pair.",
        "",
    ]
    header = ["ranking", *[f"k={k}" for k in BOUNDS]]
    rows = [[name, *[str(v) for v in row.values()]] for name, row in result["within_bound"].items()]
    lines += table_lines(header, rows)
    lines += ["", "## Pairs a found person gets from each source of blocking", ""]
    stats = result["pairs_per_person"]
    reached = result["true_pairs_reached"]
    order = ("names", "attributes", "weak names", "any", "compatible")
    named = {"any": "any (the blocked pairs)", "compatible": "any, less what facts rule out"}
    rows = [[named.get(source, source),
             *[str(stats[source][k]) for k in ("mean", "p50", "p90", "p99", "max")],
             str(reached[source])] for source in order]  # fmt: skip
    lines += table_lines(["source", "mean", "p50", "p90", "p99", "max", "true pairs reached"],
                         rows)  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and write ``blocking_bound.json`` and ``blocking_bound.md``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=30_000)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args(argv)
    if args.reports < 20 or args.sample < 1:
        parser.error("at least 20 reports and one found person sampled")
    result = measure(args.reports, sample=args.sample)
    _tell(f"written to {write_results(args.out, 'blocking_bound', result, _markdown(result))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
