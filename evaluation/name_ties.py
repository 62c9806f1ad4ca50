"""How much of the names benchmark's misses are ties the names cannot break.

For every query of the names benchmark (:mod:`evaluation.bench.name_queries`, same
population and seed), xunqin's name search ranks a thousand reports; the true report's
weight is compared with the others'. A query is a *hit* when fewer than ten reports
weigh at least as much; a *tie* when fewer than ten weigh more but, with its equals,
more than ten do; *outranked* when ten or more weigh more; *absent* when the search does
not return it.

Two figures bound what better ranking could do on the same information: recall@10 if
ties were broken at random (what an honest ranking can expect; it should match the
measured recall), and if every tie broke in favour of the true report (a ceiling no
ranking reaches without more to go on).

Run: ``python -m evaluation.name_ties [--reports 10000] [--sex-and-year] [--seed N]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from typing import Any

from evaluation.bench.name_queries import (
    NAMELESS,
    Query,
    benchmark_entries,
    benchmark_population,
    benchmark_queries,
)
from records import Sex
from usecases.name_search import NameSearcher

_DEPTH = 1000
"""Reports ranked per query: enough to count ties of a common 小名."""
BENCH_SEEDS = {10_000: 4, 100_000: 6}
"""The names benchmark's population seed at each size (``name_queries --seed 4``)."""


@dataclass(frozen=True)
class QueryTies:
    """Where one query's true report stands among reports weighing more or the same."""

    kind: str
    outcome: str
    expected_hit: float
    """Chance of being in the first ten if ties were broken at random."""
    ceiling_hit: bool
    """In the first ten if every tie broke in its favour."""


def classify(weights: dict[str, float], truth: str, k: int = 10) -> tuple[str, float, bool]:
    """The outcome, chance of a top-``k`` place with ties broken at random, and whether
    the true report makes the top ``k`` when ties go its way."""
    if truth not in weights:
        return "absent", 0.0, False
    mine = weights[truth]
    above = sum(1 for w in weights.values() if w > mine)
    equal = sum(1 for w in weights.values() if w == mine)  # itself included
    if above >= k:
        return "outranked", 0.0, False
    expected = min(1.0, (k - above) / equal)
    return ("hit" if above + equal <= k else "tie"), expected, True


def query_ties(searcher: NameSearcher, query: Query, *, sex_and_year: bool) -> QueryTies:
    """One query's standing (see the module docstring)."""
    hits = searcher.search(
        query.names, accent=query.accent,
        sex=query.sex if sex_and_year else Sex.UNKNOWN,
        birth_year=query.birth_year if sex_and_year else None, k=_DEPTH,
    )  # fmt: skip
    outcome, expected, ceiling = classify({h.ref: h.weight for h in hits}, query.truth)
    return QueryTies(query.scenario, outcome, expected, ceiling)


def run(n_reports: int, *, sex_and_year: bool, seed: int, n_queries: int = 2000
        ) -> dict[str, Any]:  # fmt: skip
    """Every named query of the benchmark's population, summed up by kind and overall."""
    pop = benchmark_population(n_reports, n_queries, seed)
    entries = [replace(e, regions=frozenset()) for e in benchmark_entries(pop)]  # names only
    searcher = NameSearcher(entries)
    by_kind: dict[str, list[QueryTies]] = defaultdict(list)
    for query in benchmark_queries(pop):
        if query.names and query.scenario not in NAMELESS:
            by_kind[query.scenario].append(query_ties(searcher, query, sex_and_year=sex_and_year))

    def summary(rows: list[QueryTies]) -> dict[str, Any]:
        return {
            "queries": len(rows),
            "outcomes": dict(Counter(r.outcome for r in rows)),
            "recall10_random_ties": round(sum(r.expected_hit for r in rows) / len(rows), 4),
            "recall10_ties_won": round(sum(r.ceiling_hit for r in rows) / len(rows), 4),
        }

    every = [row for rows in by_kind.values() for row in rows]
    return {
        "reports": n_reports,
        "sex_and_birth_year": sex_and_year,
        "seed": seed,
        "all": summary(every),
        "by_kind": {kind: summary(rows) for kind, rows in sorted(by_kind.items())},
    }


def main() -> None:
    """Print the summary as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--sex-and-year", action="store_true")
    parser.add_argument("--seed", type=int, help="default: the names benchmark's at this size")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else BENCH_SEEDS.get(args.reports, 4)
    result = run(args.reports, sex_and_year=args.sex_and_year, seed=seed)
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
