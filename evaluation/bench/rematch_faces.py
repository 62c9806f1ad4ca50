"""Faces for the re-match benchmark: synthetic faces stored and indexed, and what the
re-match's face blocking reaches with them.

The benchmark's population (``evaluation.bench.rematch_scale``) is written as import
files in the population folder; the faces are drawn again from those files whenever a
step needs them (the same refs, order, true pairs and seed draw the same faces), so the
records held back for the incremental run get theirs when they are imported. What was
asked for is kept in ``faces.json`` there: no file, no faces.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from evaluation.population import read_truth
from evaluation.stored_faces import PopulationFaces, store_faces
from matching.views import FoundView, MissingView, found_view, missing_view
from records import FoundPerson, MissingReport, Photo, Side
from records.storage.person_records import all_found, all_missing
from records.storage.photos import face_index_rows
from usecases.blocking import ReportBlocking, weak_name_reach
from usecases.rematching import rematch_settings
from usecases.services import Services

FACES_FILE: Final = "faces.json"
KINDS: Final = {Side.MISSING: "missing", Side.FOUND: "found"}
"""Each side's import kind, which names its files in the population folder."""


def ask_for_faces(folder: Path, *, share: float, seed: int) -> None:
    """Record that the population's records get faces (a ``share`` of each side)."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"the face share must be between 0 and 1, got {share}")
    (folder / FACES_FILE).write_text(json.dumps({"share": share, "seed": seed}) + "\n")


def _refs(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as rows:
        return [str(json.loads(line)["ref"]) for line in rows if line.strip()]


def population_faces(folder: Path) -> PopulationFaces | None:
    """The faces asked for, drawn from the population's files; None if none were."""
    path = folder / FACES_FILE
    if not path.exists():
        return None
    asked = json.loads(path.read_text())
    refs = {side: _refs(folder / f"{kind}-first.jsonl") + _refs(folder / f"{kind}-later.jsonl")
            for side, kind in KINDS.items()}  # fmt: skip
    return PopulationFaces.draw(refs[Side.MISSING], refs[Side.FOUND],
                                read_truth(folder / "truth.jsonl"),
                                share=float(asked["share"]), seed=int(asked["seed"]))  # fmt: skip


def store_and_index(services: Services, folder: Path, part: str) -> dict[str, int]:
    """Store the faces of the records of one import part (``"first"`` or ``"later"``),
    already imported, and bring the face indexes in step; the counts stored and indexed.

    ``RuntimeError`` when an index does not hold every stored face of its side: the
    re-match would then block without faces and measure nothing about them.
    """
    faces = population_faces(folder)
    stored = dict.fromkeys(KINDS.values(), 0)
    if faces is not None:
        for side, kind in KINDS.items():
            part_refs = set(_refs(folder / f"{kind}-{part}.jsonl"))
            wanted = {ref: held for ref, held in faces.of(side).items() if ref in part_refs}
            stored[kind] = store_faces(services.database, side, wanted,
                                       model=services.face_model.name)  # fmt: skip
    indexes = services.face_indexes  # opened (built from the store) on first use
    indexes.catch_up()  # faces stored since it was opened: added as intake adds them
    out = {f"{kind}_faces_stored": stored[kind] for kind in KINDS.values()}
    with services.database.session() as session:
        for side, kind in KINDS.items():
            searchable = len(face_index_rows(session, side, model=services.face_model.name))
            out[f"{kind}_faces_indexed"] = len(indexes[side])
            if len(indexes[side]) != searchable:
                raise RuntimeError(f"the {kind} face index holds {len(indexes[side])} faces, "
                                   f"the store {searchable}")  # fmt: skip
    return out


def refs_with_photos(session: Session, side: Side) -> set[str]:
    """The refs of one side's records that have a photo."""
    query = (
        select(MissingReport.ref).join(Photo, Photo.missing_id == MissingReport.id)
        if side is Side.MISSING
        else select(FoundPerson.ref).join(Photo, Photo.found_id == FoundPerson.id)
    )
    return set(session.scalars(query))


def _with_faces(views: Iterable[MissingView | FoundView]) -> set[str]:
    return {view.ref for view in views if view.faces}


def face_reach(services: Services, folder: Path) -> dict[str, Any]:
    """What the re-match's face blocking reaches: the pairs whose faces are neighbours in
    the reports' face index, and how many true pairs are among them, and reached by
    nothing else (neither names, nor sex, birth year and province, nor the weak-name
    reach). The re-match blocks so only above ``all_pairs_limit`` pairs; these figures
    say what blocking would reach at any size."""
    with services.database.session() as session:
        missing = [missing_view(r) for r in all_missing(session)]
        found = [found_view(p) for p in all_found(session)]
    settings = rematch_settings(services.settings)
    rows = np.arange(len(found), dtype=np.int64)
    face_keys = ReportBlocking(
        missing, all_pairs=True, face_indexes=services.face_indexes,
        face_model=services.face_model.name, face_neighbours=settings.face_neighbours,
    ).face_keys(found, rows)  # fmt: skip
    report_at = {v.ref: i for i, v in enumerate(missing)}
    found_at = {v.ref: j for j, v in enumerate(found)}
    truth = [t for t in read_truth(folder / "truth.jsonl")
             if t.missing_ref in report_at and t.found_ref in found_at]  # fmt: skip
    faced_m, faced_f = _with_faces(missing), _with_faces(found)
    both = [t for t in truth if t.missing_ref in faced_m and t.found_ref in faced_f]
    true_keys = np.array([found_at[t.found_ref] * len(missing) + report_at[t.missing_ref]
                          for t in both], dtype=np.int64)  # fmt: skip
    by_faces = true_keys[np.isin(true_keys, face_keys)]
    # Everything else blocking reaches, for the found persons of those pairs only.
    people = np.unique(by_faces // max(1, len(missing)))
    reach = weak_name_reach(found, budget=settings.weak_name_budget)
    other = ReportBlocking(missing, weak_reach=reach).keys([found[j] for j in people.tolist()],
                                                           people)  # fmt: skip
    only_faces = by_faces[~np.isin(by_faces, other)]
    return {
        "reports_with_faces": len(faced_m),
        "found_with_faces": len(faced_f),
        "face_pairs": len(face_keys),
        "true_pairs": len(truth),
        "true_pairs_both_faces": len(both),
        "true_pairs_face_neighbours": len(by_faces),
        "true_pairs_only_faces": len(only_faces),
    }
