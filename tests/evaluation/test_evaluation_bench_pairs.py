"""The pairs-memory benchmark measures both ways on the same pairs."""

from __future__ import annotations

from pathlib import Path

from evaluation.bench import pairs as bench_pairs


def test_both_ways_hold_the_same_pairs_and_the_page_says_so(tmp_path: Path) -> None:
    assert bench_pairs.main(["--reports", "400", "--found", "80", "--out", str(tmp_path)]) == 0
    result = (tmp_path / "pairs.md").read_text(encoding="utf-8")
    keys, tuples = result.splitlines()[4], result.splitlines()[5]
    assert keys.startswith("| int64 keys |") and tuples.startswith("| set of tuples")
    assert int(keys.split("|")[2].replace(",", "")) > 1000
    held_keys, held_tuples = float(keys.split("|")[3]), float(tuples.split("|")[3])
    assert held_tuples > 5 * held_keys, "eight bytes a pair against a tuple in a set"
