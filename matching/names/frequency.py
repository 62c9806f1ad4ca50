"""How common the agreeing part of two names is, for weighing the evidence.

Written surnames and given names are looked up directly. A name typed in pinyin has no
characters, so its share is that of every character read that way: "Li" is 李, 黎, 厉...
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache

from matching.names.given_names import (
    UNLISTED_CHAR_SHARE,
    given_char_share,
    given_name_rarity,
    listed_given_chars,
)
from matching.names.readings import char_readings, surname_reading
from matching.names.surnames import UNLISTED_SURNAME_SHARE, known_surnames, surname_share


@cache
def _surname_share_by_reading() -> Mapping[tuple[str, ...], float]:
    # Added up in a fixed order: a set's order follows the process's string hash seed, and
    # a sum's last bits its order (a re-match's workers must weigh alike).
    shares: dict[tuple[str, ...], float] = {}
    for surname in sorted(known_surnames()):
        reading = tuple(sorted(r.strong)[0] for r in surname_reading(surname))
        shares[reading] = shares.get(reading, 0.0) + surname_share(surname)
    return shares


@cache
def _given_share_by_reading() -> Mapping[str, float]:
    shares: dict[str, float] = {}
    for char in sorted(listed_given_chars()):  # in a fixed order, as above
        for reading in sorted(char_readings(char)):
            shares[reading] = shares.get(reading, 0.0) + given_char_share(char)
    return shares


def surname_share_of(surname: str, *, han: bool) -> float:
    """Share of people with this surname, written in characters or typed as pinyin.

    For pinyin, ``surname`` is its syllables joined by spaces ("ou yang").
    """
    if han:
        return surname_share(surname)
    share = _surname_share_by_reading().get(tuple(surname.split()))
    return share if share is not None else UNLISTED_SURNAME_SHARE


def given_rarity_of(given: str, *, han: bool) -> float:
    """Bits of information in a given name, written in characters or typed as pinyin.

    For pinyin, ``given`` is its syllables joined by spaces ("jian hua").
    """
    if han:
        return given_name_rarity(given)
    shares = _given_share_by_reading()
    return sum(-math.log2(min(1.0, shares.get(s, UNLISTED_CHAR_SHARE))) for s in given.split())
