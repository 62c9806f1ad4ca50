"""The Ray re-match bench: a tiny real run writes its pages and stores the same candidates
on a local worker and on Ray; the cluster estimate's arithmetic; the tree's memory."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from evaluation.bench.cluster_estimate import ClusterEstimate, MeasuredRun, PairCount
from evaluation.bench.process_memory import TreeMemory
from evaluation.bench.rematch_ray import main

needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="Ray is not installed (the ray extra; `make test` installs it)",
)

SMALL = PairCount(reports=1000, found_persons=100, pairs=3000, by_names_or_attributes=1000,
                  weak_name_only=2000, weak_name_served=20, weak_name_reach=2000)  # fmt: skip
LARGE = PairCount(reports=10_000, found_persons=1000, pairs=120_000,
                  by_names_or_attributes=100_000, weak_name_only=20_000, weak_name_served=200,
                  weak_name_reach=2000)  # fmt: skip
RUN = MeasuredRun(reports=10_000, found_persons=1000, pairs_scored=120_000, plausible=60_000,
                  kept=20_000, seconds_loading=2.0, seconds_scoring=12.0,
                  seconds_head_blocks=3.0, seconds_storing=60.0)  # fmt: skip


@pytest.fixture(scope="module")
def tiny_bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One tiny bench for the module: 300 reports, a local worker and Ray with 1 CPU."""
    if importlib.util.find_spec("ray") is None:
        pytest.skip("Ray is not installed")
    out = tmp_path_factory.mktemp("bench")
    main(["--reports", "300", "--growth-from", "150", "--runs", "local-1", "ray-1",
          "--out", str(out)])  # fmt: skip
    return out, json.loads((out / "rematch_ray.json").read_text())


@needs_ray
@pytest.mark.slow
def test_a_tiny_bench_writes_its_json_and_its_page_with_the_estimate(
    tiny_bench: tuple[Path, dict[str, Any]],
) -> None:
    out, results = tiny_bench
    assert list(results["runs"]) == ["local-1", "ray-1"]
    assert [c["reports"] for c in results["pair_counts"]] == [149, 297]  # 1% held back
    page = (out / "rematch_ray.md").read_text()
    assert "| local-1 |" in page and "| ray-1 |" in page
    assert "## Estimate: 10,000,000 reports x 1,000,000 found persons" in page
    assert results["estimate"]["grown"]["pairs"] > results["estimate"]["bounded"]["pairs"] > 0


@needs_ray
@pytest.mark.slow
def test_a_local_worker_and_ray_store_the_same_candidates(
    tiny_bench: tuple[Path, dict[str, Any]],
) -> None:
    _, results = tiny_bench
    local, on_ray = results["runs"]["local-1"], results["runs"]["ray-1"]
    assert results["identical"] is True
    assert local["candidates"] > 0
    assert local["candidates_digest"] == on_ray["candidates_digest"]
    assert local["pairs_scored"] == on_ray["pairs_scored"] > 0
    assert on_ray["executor"] == "ray" and on_ray["ray_start_seconds"] > 0
    # Ray's own processes (its store, its scheduler, the actors) are counted in the tree:
    # more than a run whose tree is the head and one forked worker.
    assert on_ray["peak_tree_mib"] > local["peak_tree_mib"]


def test_pairs_that_grow_with_both_sides_are_carried_as_a_square() -> None:
    estimate = ClusterEstimate.from_measures([LARGE, SMALL], RUN)
    assert estimate.exponent == pytest.approx(2.0)
    # 100,000 x 1000^2, plus the weak-name pairs at their budget (200,000 served x 2,000
    # would be 400 million).
    assert estimate.weak_name_pairs == 5_000_000
    assert estimate.grown.pairs == pytest.approx(100_000 * 1000**2 + 5_000_000)
    assert estimate.bounded.pairs == pytest.approx(12 * 10_000_000)


def test_more_cpus_shorten_the_scoring_and_never_the_head_node() -> None:
    few = ClusterEstimate.from_measures([SMALL, LARGE], RUN, cpus=10)
    many = ClusterEstimate.from_measures([SMALL, LARGE], RUN, cpus=1000)
    for a, b in ((few.grown, many.grown), (few.bounded, many.bounded)):
        assert a.cluster_scoring_hours == pytest.approx(100 * b.cluster_scoring_hours)
        assert a.head_hours == b.head_hours
        assert b.scoring_hours >= b.head_blocks_hours  # the head's storing bounds it
    # Held per report: 120 million pairs at 10,000 pairs/s are 12,000 CPU-seconds; the
    # plausible half takes 3 s per 60,000 to store and 60 s per 60,000 to settle.
    bounded = many.bounded
    assert bounded.scoring_cpu_hours == pytest.approx(120e6 / 10_000 / 3600)
    assert bounded.head_blocks_hours == pytest.approx(60e6 * 3 / 60_000 / 3600)
    assert bounded.settle_per_plausible_hours == pytest.approx(60e6 * 60 / 60_000 / 3600)
    assert bounded.settle_per_candidate_hours == pytest.approx(60 * 11_000_000 / 11_000 / 3600)
    low, high = bounded.settle_hours
    assert low <= high


def test_the_estimate_needs_two_sizes() -> None:
    with pytest.raises(ValueError, match="two sizes"):
        ClusterEstimate.from_measures([LARGE], RUN)
    with pytest.raises(ValueError, match="two different sizes"):
        ClusterEstimate.from_measures([LARGE, replace(LARGE, pairs=1)], RUN)


def test_the_page_shows_the_arithmetic_and_what_dominates() -> None:
    page = "\n".join(ClusterEstimate.from_measures([SMALL, LARGE], RUN).markdown_lines())
    assert "grow as size^2.00 (log(100,000 / 1,000) / log(10,000 / 1,000))" in page
    assert "min(5,000,000, 200,000 served x 2,000) = 5e+06" in page
    assert "12.0 x 10,000,000 = **1.2e+08 pairs**" in page
    assert "single-node settle/store step dominates" in page


@pytest.mark.skipif(not Path("/proc/self/smaps_rollup").exists(), reason="needs Linux's /proc")
def test_the_memory_of_a_process_tree_counts_its_children() -> None:
    holds = "b = bytearray(b'x') * (200 * 2**20); import time; time.sleep(1.5)"
    with TreeMemory(os.getpid(), every=0.1) as tree:
        subprocess.run([sys.executable, "-c", holds], check=True, timeout=60)
    assert tree.peak_mib > 200
