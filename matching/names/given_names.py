"""How rare a given name is, from how often its characters appear in given names.

The table (``data/given_chars.tsv``) lists common given-name characters with an estimated
share of all given-name characters (see the file's header: approximate). A name made of
common characters (伟, 英, 华) is weak evidence when it agrees; a rare one is strong.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache
from importlib import resources

UNLISTED_CHAR_SHARE = 0.0003
"""Share assumed for a character outside the table: below the rarest listed one."""


@cache
def _table() -> Mapping[str, float]:
    path = resources.files("matching.names").joinpath("data/given_chars.tsv")
    shares: dict[str, float] = {}
    for line in path.read_text("utf-8").splitlines():
        if not line or line.startswith("#") or line.startswith("char\t"):
            continue
        char, _rank, share = line.split("\t")
        shares[char] = float(share)
    return shares


def listed_given_chars() -> frozenset[str]:
    """Every character in the given-name table."""
    return frozenset(_table())


def given_char_share(char: str) -> float:
    """The estimated fraction of given-name characters that are ``char``."""
    return _table().get(char, UNLISTED_CHAR_SHARE)


def given_name_rarity(given_name: str) -> float:
    """How much a given name says, in bits: the sum of -log2(share) of its characters.

    Higher is rarer. 建华 is about 13 bits; a name of two unlisted characters about 23.
    Only Han characters count; an empty given name says nothing (0.0).
    """
    return sum(-math.log2(given_char_share(c)) for c in given_name)
