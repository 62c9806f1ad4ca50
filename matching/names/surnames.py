"""How common a surname is: a shared 王 is weak evidence, a shared 覃 is strong.

The table (``data/surnames.tsv``) holds the 400 most common surnames with their share of
the population. The shares are approximate (see the file's header): 王 and 李 about 7%
each, 张 6.8%, 刘 5.4%, 陈 4.5%, and the top 100 cover about 85% of people.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources

from matching.names.normalise import fold_name

UNLISTED_SURNAME_SHARE = 0.00004
"""Share assumed for a surname outside the table: below the rarest listed one."""


@cache
def _table() -> Mapping[str, float]:
    text = resources.files("matching.names").joinpath("data/surnames.tsv").read_text("utf-8")
    shares: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#") or line.startswith("surname\t"):
            continue
        surname, _rank, share, _basis = line.split("\t")
        shares[surname] = float(share)
    return shares


def surname_share(surname: str) -> float:
    """The fraction of people bearing ``surname`` (0.0712 for 王); small if unlisted.

    Traditional forms are folded first (劉 counts as 刘).
    """
    table = _table()
    share = table.get(surname)
    if share is None:
        share = table.get(fold_name(surname))
    return share if share is not None else UNLISTED_SURNAME_SHARE


def known_surnames() -> frozenset[str]:
    """Every surname in the share table."""
    return frozenset(_table())


def surname_table() -> tuple[tuple[str, float], ...]:
    """The share table, most common surname first."""
    return tuple(_table().items())
