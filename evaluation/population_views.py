"""Views straight from import-format rows, without a store: for fitting and tests on a
generated population (``evaluation.population``), whose rows carry no photos' faces."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from matching.views import FoundView, MissingView, own_names, record_names
from records.importing import parse_found, parse_missing
from records.inputs import FoundFields, MissingFields


def missing_view_from_row(row: Mapping[str, object], record_id: int) -> MissingView:
    """A report's view from its import row (photos are ignored)."""
    f = parse_missing({k: v for k, v in row.items() if k != "photos"}, Path(".")).fields
    if not isinstance(f, MissingFields):
        raise TypeError("parse_missing gave a found person's fields")
    return MissingView(
        id=record_id,
        ref=f.ref,
        names=record_names(f.name, f.aliases),
        sex=f.sex,
        hometown=f.hometown,
        height_cm=f.height_cm,
        features=f.features,
        health=f.health,
        birth_year=f.effective_birth_year,
        missing_date=f.missing_date,
        missing_place=f.missing_place,
        dialect=f.dialect,
    )


def found_view_from_row(row: Mapping[str, object], record_id: int) -> FoundView:
    """A found person's view from its import row (photos are ignored)."""
    f = parse_found({k: v for k, v in row.items() if k != "photos"}, Path(".")).fields
    if not isinstance(f, FoundFields):
        raise TypeError("parse_found gave a report's fields")
    return FoundView(
        id=record_id,
        ref=f.ref,
        names=own_names(f.name, f.aliases, name_assigned=f.name_assigned),
        sex=f.sex,
        hometown=f.hometown,
        height_cm=f.height_cm,
        features=f.features,
        health=f.health,
        age_min=f.age_min,
        age_max=f.age_max,
        found_date=f.found_date,
        found_place=f.found_place,
        accent=f.accent,
    )


def views_from_rows(
    missing_rows: Sequence[Mapping[str, object]], found_rows: Sequence[Mapping[str, object]]
) -> tuple[list[MissingView], list[FoundView]]:
    """Views of every row; ids count from 1 on each side, in row order."""
    return (
        [missing_view_from_row(row, i) for i, row in enumerate(missing_rows, start=1)],
        [found_view_from_row(row, i) for i, row in enumerate(found_rows, start=1)],
    )
