"""Reports and found persons as the flat columns Splink compares, for the Splink anchor.

Splink compares a column of the left record with the same column of the right one, so
both sides get one schema: a column a side does not have is empty there (a report has a
birth year, a found person an age range). Everything a comparison reads that takes our
own reading of a text (the gazetteer's coordinates, the hometown's provinces and dialect
areas, marks and conditions as canonical traits) is read here once a record, from the
same facts the evidence model derives, so that Splink's SQL compares like with like.
Names are given as written, as toneless pinyin (``pypinyin``'s first reading of each
character) and by surname (the first character of a Han name, the first word of a Latin
one; compound surnames are not split).

``pair_keys`` lists, for each record, the positions of the given pairs it is in: Splink
blocks on it to score exactly those pairs (see :mod:`evaluation.bench.splink_scorer`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pypinyin import lazy_pinyin

from matching.evidence_model.facts import (
    FoundFacts,
    HomeFacts,
    MissingFacts,
    found_facts,
    missing_facts,
)
from matching.names.forms import usable_names
from matching.places import Place
from matching.views import FoundView, MissingView
from records import Sex

COLUMNS = (
    "unique_id", "pair_keys", "name", "names", "pinyins", "surnames", "sex", "birth_year",
    "age_min", "age_max", "lost_on", "found_on", "city", "latitude", "longitude", "home_city",
    "home_narrow", "home_areas", "home_provinces", "height_cm", "marks", "mark_kinds",
    "conditions", "condition_families", "faces",
)  # fmt: skip
"""Both sides' columns, in order."""

SQL_TYPES = {
    "unique_id": "BIGINT", "pair_keys": "BIGINT[]", "name": "VARCHAR", "names": "VARCHAR[]",
    "pinyins": "VARCHAR[]", "surnames": "VARCHAR[]", "sex": "VARCHAR", "birth_year": "INTEGER",
    "age_min": "INTEGER", "age_max": "INTEGER", "lost_on": "DATE", "found_on": "DATE",
    "city": "VARCHAR", "latitude": "DOUBLE", "longitude": "DOUBLE", "home_city": "VARCHAR",
    "home_narrow": "VARCHAR[]", "home_areas": "VARCHAR[]", "home_provinces": "VARCHAR[]",
    "height_cm": "DOUBLE", "marks": "VARCHAR[]", "mark_kinds": "VARCHAR[]",
    "conditions": "VARCHAR[]", "condition_families": "VARCHAR[]", "faces": "FLOAT[128][]",
}  # fmt: skip
"""The DuckDB type of each column (pandas leaves lists and empty columns untyped)."""

_LATIN = re.compile(r"[a-z]+")


def _listed(values: Collection[str]) -> list[str] | None:
    """The distinct values sorted, or None for none: Splink's null levels test for NULL."""
    return sorted(set(values)) if values else None


def name_columns(names: Sequence[str]) -> dict[str, Any]:
    """A record's first name and all its usable names as written, as toneless pinyin,
    and their surnames."""
    written = usable_names(names)
    pinyins: list[str] = []
    surnames: list[str] = []
    for name in written:
        latin = _LATIN.findall(name.lower())
        if latin and not any("\u4e00" <= ch <= "\u9fff" for ch in name):
            pinyins.append("".join(latin))
            surnames.append(latin[0])
        else:
            pinyins.append("".join(lazy_pinyin(name, errors="ignore")))
            surnames.append(name.strip()[0])
    return {
        "name": written[0] if written else None,
        "names": _listed(written),
        "pinyins": _listed(pinyins),
        "surnames": _listed(surnames),
    }


def _home(home: HomeFacts) -> dict[str, Any]:
    return {
        "home_city": home.city_code,
        "home_narrow": _listed(home.narrow),
        "home_areas": _listed(home.areas),
        "home_provinces": _listed(home.provinces),
    }


def _place(place: Place | None) -> dict[str, Any]:
    if place is None:
        return {"city": None, "latitude": None, "longitude": None}
    return {"city": place.city_code, "latitude": place.latitude, "longitude": place.longitude}


def _shared(facts: MissingFacts | FoundFacts) -> dict[str, Any]:
    """The columns both kinds of record fill the same way."""
    view = facts.view
    faces = facts.faces.embeddings
    return {
        **name_columns(view.names),
        "sex": None if view.sex is Sex.UNKNOWN else view.sex.value,
        **_home(facts.home),
        **_place(facts.place),
        "height_cm": view.height_cm,
        "marks": _listed({f"{m.kind}/{m.part}/{m.side}" for m in facts.marks}),
        "mark_kinds": _listed({m.kind for m in facts.marks}),
        "conditions": _listed({c.concept for c in facts.conditions}),
        "condition_families": _listed({c.family for c in facts.conditions}),
        "faces": [face.tolist() for face in faces] if len(faces) else None,
    }


def report_row(view: MissingView) -> dict[str, Any]:
    """A report's columns (without ``unique_id`` and ``pair_keys``)."""
    return {**_shared(missing_facts(view)), "birth_year": view.birth_year, "age_min": None,
            "age_max": None, "lost_on": view.missing_date, "found_on": None}  # fmt: skip


def found_row(view: FoundView) -> dict[str, Any]:
    """A found person's columns (without ``unique_id`` and ``pair_keys``); one end of
    an age range stands for both, as the age comparison takes it."""
    low = view.age_min if view.age_min is not None else view.age_max
    high = view.age_max if view.age_max is not None else view.age_min
    return {**_shared(found_facts(view)), "birth_year": None, "age_min": low, "age_max": high,
            "lost_on": None, "found_on": view.found_date}  # fmt: skip


def pair_key_lists(rows: NDArray[np.int64], size: int) -> list[list[int] | None]:
    """For each record ``0..size-1``, the positions ``k`` with ``rows[k]`` equal to it
    (None for a record in no pair)."""
    order = np.argsort(rows, kind="stable")
    bounds = np.searchsorted(rows[order], np.arange(size + 1))
    return [order[bounds[r] : bounds[r + 1]].tolist() or None for r in range(size)]


def side_frame(
    rows: Sequence[dict[str, Any]], pair_keys: Sequence[list[int] | None]
) -> pd.DataFrame:
    """One side's records as a frame of :data:`COLUMNS`, ``unique_id`` its row number."""
    if len(rows) != len(pair_keys):
        raise ValueError(f"{len(rows)} records but {len(pair_keys)} lists of pair keys")
    return pd.DataFrame.from_records(
        [{"unique_id": r, "pair_keys": keys, **row}
         for r, (row, keys) in enumerate(zip(rows, pair_keys, strict=True))],
        columns=list(COLUMNS),
    )  # fmt: skip
