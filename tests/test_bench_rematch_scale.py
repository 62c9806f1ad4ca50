"""The re-match benchmark's faces: what it draws is what the store holds and the face
index serves, and a blocked re-match reaches pairs through them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select

from evaluation.bench.rematch_faces import face_reach, population_faces
from evaluation.bench.rematch_scale import prepare
from matching.views import found_view, missing_view
from records import Face, Photo, Side
from records.storage.candidate_pairs import list_candidates
from records.storage.person_records import all_found, all_missing
from usecases.blocking import ReportBlocking
from usecases.rematch_job import rematch
from usecases.rematching import rematch_settings
from usecases.services import Services
from usecases.settings import Settings

REPORTS = 300


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    home = tmp_path_factory.mktemp("rematch_scale")
    return home, prepare(REPORTS, home, face_share=0.6)


@pytest.fixture
def services(prepared: tuple[Path, dict[str, Any]]) -> Iterator[Services]:
    opened = Services(Settings(home=prepared[0], environment="test", face_workers=0))
    try:
        yield opened
    finally:
        opened.close()


def _first_refs(home: Path, kind: str) -> set[str]:
    with (home / "population" / f"{kind}-first.jsonl").open(encoding="utf-8") as rows:
        return {json.loads(line)["ref"] for line in rows}


def test_prepare_stores_and_indexes_every_face_drawn_for_the_imported_records(
    prepared: tuple[Path, dict[str, Any]], services: Services
) -> None:
    home, result = prepared
    drawn = population_faces(home / "population")
    assert drawn is not None
    for side, kind in ((Side.MISSING, "missing"), (Side.FOUND, "found")):
        imported = _first_refs(home, kind)
        expected = sum(len(f) for ref, f in drawn.of(side).items() if ref in imported)
        with services.database.session() as session:
            rows = session.scalar(select(func.count(Face.id)).join(Photo).where(Photo.side == side))
        assert expected > 0
        assert result[f"{kind}_faces_stored"] == expected
        assert rows == expected
        assert result[f"{kind}_faces_indexed"] == expected
        assert len(services.face_indexes[side]) == expected  # as a new process opens it


def test_stored_faces_are_the_drawn_embeddings_of_their_records(
    prepared: tuple[Path, dict[str, Any]], services: Services
) -> None:
    drawn = population_faces(prepared[0] / "population")
    assert drawn is not None
    with services.database.session() as session:
        views = [missing_view(r) for r in all_missing(session)]
    stored = {v.ref: v.embeddings for v in views if v.faces}
    assert stored.keys() == drawn.missing.keys() & {v.ref for v in views}
    for ref, vectors in stored.items():
        expected = np.stack([face.embedding for face in drawn.missing[ref]])
        assert np.array_equal(vectors, expected)


def test_every_true_pair_with_faces_on_both_sides_is_a_face_neighbour(
    prepared: tuple[Path, dict[str, Any]], services: Services
) -> None:
    reach = face_reach(services, prepared[0] / "population")
    # 50 neighbours among ~270 reports' faces: faces of strangers would reach about a
    # fifth of the true pairs, not all of them.
    assert reach["true_pairs_both_faces"] >= 5
    assert reach["true_pairs_face_neighbours"] == reach["true_pairs_both_faces"]
    assert reach["face_pairs"] > 0


def test_a_blocked_full_run_keeps_pairs_only_the_face_index_reaches(
    services: Services,
) -> None:
    with services.database.session() as session:
        missing = [missing_view(r) for r in all_missing(session)]
        found = [found_view(p) for p in all_found(session)]
    settings = replace(rematch_settings(services.settings), all_pairs_limit=0, workers=1)
    rows = np.arange(len(found), dtype=np.int64)
    by_faces = ReportBlocking(
        missing, all_pairs=True, face_indexes=services.face_indexes,
        face_model=services.face_model.name, face_neighbours=settings.face_neighbours,
    ).face_keys(found, rows)  # fmt: skip
    otherwise = ReportBlocking(missing).keys(found, rows)
    only_faces = {(missing[k % len(missing)].ref, found[k // len(missing)].ref)
                  for k in np.setdiff1d(by_faces, otherwise).tolist()}  # fmt: skip
    assert only_faces

    def kept(*, faces: bool) -> set[tuple[str, str]]:
        rematch(services.database, face_indexes=services.face_indexes if faces else None,
                face_model=services.face_model.name, settings=settings, full=True,
                actor="test")  # fmt: skip
        with services.database.session() as session:
            return {(r.candidate.missing.ref, r.candidate.found.ref)
                    for r in list_candidates(session, limit=None)}  # fmt: skip

    assert kept(faces=True) & only_faces
    assert not kept(faces=False) & only_faces
