"""Golden name comparisons: real-looking cases with the level a reviewer would expect.

The table is ``golden_names.tsv`` beside this file; every case is checked in both
directions, since the level must not depend on which record is on the left.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from matching.names import NameLevel, compare_names

GOLDEN = Path(__file__).with_name("golden_names.tsv")


class GoldenCase(NamedTuple):
    left: list[str]
    right: list[str]
    regions: list[str]
    level: NameLevel
    why: str


def _split(cell: str) -> list[str]:
    return cell.split(";")


def load_golden() -> list[GoldenCase]:
    cases: list[GoldenCase] = []
    lines = [line for line in GOLDEN.read_text("utf-8").splitlines() if not line.startswith("#")]
    header, *rows = lines
    assert header.split("\t") == ["left", "right", "regions", "level", "why"]
    for row in rows:
        left, right, regions, level, why = row.split("\t")
        cases.append(
            GoldenCase(
                _split(left),
                _split(right),
                [r for r in regions.split(";") if r],
                NameLevel[level],
                why,
            )
        )
    return cases


CASES = load_golden()


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{n:03d}-{c.level.name}-{c.why}" for n, c in enumerate(CASES)]
)
def test_golden_case(case: GoldenCase) -> None:
    forward = compare_names(case.left, case.right, speaker_regions=case.regions)
    backward = compare_names(case.right, case.left, speaker_regions=case.regions)
    assert forward.level is case.level, forward.reason
    assert backward.level is case.level, backward.reason


def test_golden_table_is_large_and_covers_every_level() -> None:
    assert len(CASES) >= 150
    assert {case.level for case in CASES} == set(NameLevel)
