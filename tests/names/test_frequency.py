"""Surname shares and given-name rarity."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from matching.names import given_name_rarity, surname_share
from matching.names.frequency import given_rarity_of, surname_share_of
from matching.names.surnames import UNLISTED_SURNAME_SHARE, surname_table


@pytest.mark.parametrize(
    ("surname", "share"), [("王", 0.07), ("李", 0.07), ("张", 0.068), ("刘", 0.054), ("陈", 0.045)]
)
def test_anchor_shares(surname: str, share: float) -> None:
    assert surname_share(surname) == pytest.approx(share, abs=0.002)


def test_table_shape() -> None:
    shares = [share for _surname, share in surname_table()]
    assert 380 <= len(shares) <= 450
    assert shares == sorted(shares, reverse=True)
    assert sum(shares[:100]) == pytest.approx(0.85, abs=0.02)
    assert sum(shares) < 1.0


def test_rare_and_unknown_surnames() -> None:
    assert surname_share("覃") < surname_share("王") / 10
    assert surname_share("龘") == UNLISTED_SURNAME_SHARE
    assert surname_share("劉") == surname_share("刘")
    assert 0 < surname_share("欧阳") < surname_share("欧")


def test_pinyin_surname_share_sums_its_characters() -> None:
    assert surname_share_of("li", han=False) > surname_share("李")
    assert surname_share_of("ou yang", han=False) == pytest.approx(surname_share("欧阳"))


def test_given_name_rarity() -> None:
    assert given_name_rarity("") == 0.0
    assert given_name_rarity("伟") < given_name_rarity("龘")
    assert given_name_rarity("建华") < given_name_rarity("建龘")
    assert given_rarity_of("jian hua", han=False) > 0


def test_a_pinyin_names_shares_are_the_same_in_every_process() -> None:
    # Summed over sets, whose order follows each process's string hash seed: the
    # re-match's workers (forked, or Ray's) must weigh a pair to the last bit alike.
    script = (
        "from matching.names.frequency import given_rarity_of, surname_share_of; "
        "print(repr(surname_share_of('liu', han=False)), "
        "repr(given_rarity_of('jing xiao', han=False)))"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2", "3", "4", "5")
    }
    assert len(runs) == 1
