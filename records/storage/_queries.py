"""What the store's queries share: the table of each side, select types, and ids cut
into lists an ``IN (...)`` takes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Final, TypeVar

from sqlalchemy import Select

from records.enums import Side
from records.models import FoundPerson, MissingReport

AnySelect = Select[*tuple[Any, ...]]
SelectT = TypeVar("SelectT", bound=AnySelect)
MODELS: Final[dict[Side, type[MissingReport] | type[FoundPerson]]] = {
    Side.MISSING: MissingReport,
    Side.FOUND: FoundPerson,
}
"""The table of each side's records."""
_IN_CHUNK: Final = 10_000  # ids per IN (...) list: SQLite allows 32,766 parameters


def chunks(values: Iterable[int]) -> Iterator[list[int]]:
    """``values`` without repeats, in lists short enough for one ``IN (...)``."""
    items = list(dict.fromkeys(values))
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]
