"""Fixtures for the evidence model's tests: record views made to order, a small population."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pytest

from evaluation.population import Population, generate_population
from evaluation.population_views import views_from_rows
from matching.evidence_model import EvidenceModel, LabelledPair
from matching.evidence_model.facts import FoundFacts, MissingFacts, found_facts, missing_facts
from matching.views import FaceView, FoundView, MissingView

_ids = iter(range(1, 10**9))


def _missing(**fields: Any) -> MissingView:
    fields.setdefault("id", next(_ids))
    fields.setdefault("ref", f"M{fields['id']}")
    return MissingView(**fields)


def _found(**fields: Any) -> FoundView:
    fields.setdefault("id", next(_ids))
    fields.setdefault("ref", f"F{fields['id']}")
    return FoundView(**fields)


def _face(vector: np.ndarray, *, year: int | None = None, age: int | None = None) -> FaceView:
    return FaceView(
        face_id=next(_ids),
        embedding=np.asarray(vector, dtype=np.float32),
        taken_year=year,
        age_at_photo=age,
    )


def along(direction: int, length: float = 1.0) -> np.ndarray:
    """A 128-d vector along one axis (fixture ``unit``)."""
    vector = np.zeros(128, dtype=np.float32)
    vector[direction] = length
    return vector


@pytest.fixture
def make_missing() -> Callable[..., MissingView]:
    """A report with only the given fields (a fresh id each time)."""
    return _missing


@pytest.fixture
def make_found() -> Callable[..., FoundView]:
    """A found person with only the given fields (a fresh id each time)."""
    return _found


@pytest.fixture
def face() -> Callable[..., FaceView]:
    """A face from a 128-d vector, with the photo's year and the age in it."""
    return _face


@pytest.fixture
def unit() -> Callable[..., np.ndarray]:
    """A 128-d vector along one axis, of a given length."""
    return along


Facts = Callable[..., tuple[MissingFacts, FoundFacts]]


@pytest.fixture
def facts() -> Facts:
    """Facts of a report and a found person built from keyword fields (m_*/f_*)."""

    def build(**fields: Any) -> tuple[MissingFacts, FoundFacts]:
        m = {k[2:]: v for k, v in fields.items() if k.startswith("m_")}
        f = {k[2:]: v for k, v in fields.items() if k.startswith("f_")}
        return missing_facts(_missing(**m)), found_facts(_found(**f))

    return build


@pytest.fixture(scope="session")
def default_model() -> EvidenceModel:
    """The shipped model."""
    return EvidenceModel.default()


@pytest.fixture(scope="session")
def small_population() -> tuple[Population, list[MissingView], list[FoundView]]:
    """A small generated population (no photos) and its views."""
    pop = generate_population(
        seed=5, n_missing=160, n_found=80, n_true_pairs=40, today=date(2026, 11, 1)
    )
    missing, found = views_from_rows(pop.missing, pop.found)
    return pop, missing, found


@pytest.fixture
def decided_pairs(
    small_population: tuple[Population, list[MissingView], list[FoundView]],
) -> Callable[[int], list[LabelledPair]]:
    """Reviewers' decisions on the small population: every true pair confirmed, then up
    to ``rejected`` pairs of a report with the next found person rejected."""
    pop, missing, found = small_population
    by_m = {v.ref: v for v in missing}
    by_f = {v.ref: v for v in found}
    true_keys = {(p.missing_ref, p.found_ref) for p in pop.truth}

    def decided(rejected: int) -> list[LabelledPair]:
        confirmed = [LabelledPair(by_m[m], by_f[f], True) for m, f in sorted(true_keys)]
        wrong = [
            LabelledPair(m, f, False)
            for m, f in zip(missing[:rejected], found[1 : rejected + 1], strict=True)
            if (m.ref, f.ref) not in true_keys
        ]
        return confirmed + wrong

    return decided
