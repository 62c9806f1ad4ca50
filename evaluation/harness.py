"""One evaluation run: a generated population through xunqin and the baselines.

The population is written in the import format and goes through the real service path
(import with face detection, re-match, stored candidates) on a fresh SQLite store; the
baselines read the same store, so every method sees the same records and faces.
"""

from __future__ import annotations

import heapq
import shutil
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Select, select

from evaluation.baselines import BASELINES, Pair, SideRecords
from evaluation.face_cache import CachingFaceModel
from evaluation.first_scorer import FirstScorer
from evaluation.metrics import split_by_hash
from evaluation.population import Population, TruePair, generate_population, write_population
from evaluation.scorecard import REVIEWED_SHARE, REVIEWED_TOP, SPLIT_SEED, LearningFigures
from indexes import DlibFaceModel, FaceModel, SerialFaceReader
from matching.evidence_model import (
    EvidenceModel,
    compare_with_threshold_rule,
    refit_model,
)
from matching.evidence_model.face_calibration import LABELLED_SETS, CalibrationCheck
from records import Candidate, CandidateStatus, Database, FoundPerson, MissingReport
from records.photo_store import PhotoStore
from records.storage.person_records import all_found, all_missing
from records.storage.reviewer_decisions import record_decision
from usecases.face_folders import encode_face_folder
from usecases.face_registry import FaceIndexes
from usecases.intake import Ingestor
from usecases.labelled_store import read_store
from usecases.rematch_job import PairScorer, RematchSettings, rematch

Say = Callable[[str], None]


@dataclass(frozen=True)
class EvalConfig:
    """The population's size and seed, and where the run works."""

    seed: int = 20261128
    n_missing: int = 4000
    n_found: int = 2000
    n_true_pairs: int = 800
    keep: int = 50
    faces_dir: Path | None = None
    work_dir: Path = Path(".cache/eval")
    today: date = date(2026, 11, 1)
    refit_random_pairs: int = 200_000
    """Random pairs ``xunqin model refit`` counts u on, for the ``xunqin_refit`` run."""


@dataclass
class MethodRun:
    """A method's proposed pairs with scores (and probabilities, for xunqin)."""

    name: str
    pairs: list[Pair]
    probabilities: dict[tuple[str, str], float] | None = None
    seconds: float = 0.0


@dataclass
class LearningRun:
    """The product's path for learning from reviewers, replayed: reviewers decide the
    first candidates of some found persons (the truth decides for them), ``xunqin model
    refit`` learns from the decisions in the store, and a re-match follows. Figures are
    taken over the other found persons' candidates, before and after."""

    reviewed: frozenset[str]
    """Found persons whose first candidates were decided."""
    confirmed: int
    rejected: int
    before: MethodRun
    """The model refitted without labels, before any decision."""
    decided_only: MethodRun
    """The same model re-matched after the decisions: their effect on rivals alone."""
    after: MethodRun
    """The model that learned from the decisions."""
    recalibration_slope: float
    recalibration_intercept: float

    def figures(
        self, truth: Iterable[tuple[str, str]], labels: Mapping[str, Mapping[str, str]]
    ) -> LearningFigures:
        """The three runs' figures over the found persons reviewers did not see."""
        return LearningFigures.from_runs(
            [(run.pairs, run.probabilities)
             for run in (self.before, self.decided_only, self.after)],
            truth, labels, self.reviewed, confirmed=self.confirmed, rejected=self.rejected,
            slope=self.recalibration_slope, intercept=self.recalibration_intercept,
        )  # fmt: skip


@dataclass
class EvalRun:
    """Everything a report needs: the population's truth and mix, and each method's pairs."""

    config: EvalConfig
    truth: list[TruePair]
    mix: dict[str, object]
    methods: dict[str, MethodRun]
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    face_check: CalibrationCheck | None = None
    """The calibrated face levels against the 0.6 rule on held-out labelled identities."""
    learning: LearningRun | None = None
    scorer_version: str = ""
    """The version of the evidence model the run started from (xunqin's scorer)."""


def _decide(
    database: Database, run: MethodRun, truth: set[tuple[str, str]], reviewed: frozenset[str]
) -> tuple[int, int]:
    """Decide each reviewed found person's candidates as the truth says, best first, as a
    reviewer reads them: up to :data:`REVIEWED_TOP`, stopping at the one confirmed. Through
    the store, as a reviewer would; the numbers confirmed and rejected."""
    ranked: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for m_ref, f_ref, score in run.pairs:
        if f_ref in reviewed:
            ranked[f_ref].append((score, m_ref))
    chosen: set[tuple[str, str]] = set()
    for f_ref, rows in ranked.items():
        for _, m_ref in heapq.nlargest(REVIEWED_TOP, rows):
            chosen.add((m_ref, f_ref))
            if (m_ref, f_ref) in truth:
                break
    counts = {True: 0, False: 0}
    with database.session() as session:
        for row in session.execute(_candidate_rows()):
            pair = (row.missing_ref, row.found_ref)
            if pair not in chosen:
                continue
            same = pair in truth
            status = CandidateStatus.CONFIRMED if same else CandidateStatus.REJECTED
            record_decision(session, row.id, reviewer="eval", status=status,
                            reason="simulated reviewer: the truth decides")  # fmt: skip
            counts[same] += 1
    return counts[True], counts[False]


def _candidate_rows() -> Select[int, str, str, float, float | None]:
    """Every stored candidate with its report's and found person's refs."""
    return (
        select(
            Candidate.id,
            MissingReport.ref.label("missing_ref"),
            FoundPerson.ref.label("found_ref"),
            Candidate.score,
            Candidate.probability,
        )  # fmt: skip
        .join(MissingReport, Candidate.missing_id == MissingReport.id)
        .join(FoundPerson, Candidate.found_id == FoundPerson.id)
    )


def face_rule_check(faces_dir: Path, model: FaceModel, cache: Path) -> CalibrationCheck:
    """How calibrated face evidence compares with "distance <= 0.6 means the same person",
    on the labelled photos of ``faces_dir``, each fold's identities held out of the fit."""
    embeddings = encode_face_folder(faces_dir, model, cache=cache, sets=LABELLED_SETS)
    return compare_with_threshold_rule(embeddings)


def _side(records: list[MissingReport] | list[FoundPerson]) -> SideRecords:
    faces: list[NDArray[np.float32]] = []
    for record in records:
        vectors = [
            np.frombuffer(face.embedding, dtype=np.float32)
            for photo in record.photos
            for face in photo.faces
            if face.searchable
        ]
        faces.append(np.stack(vectors) if vectors else np.zeros((0, 128), np.float32))
    return SideRecords([r.ref for r in records], [r.name for r in records], faces)


def _stored_candidates(database: Database, name: str, seconds: float) -> MethodRun:
    with database.session() as session:
        rows = session.execute(_candidate_rows()).all()
    return MethodRun(
        name,
        [(r.missing_ref, r.found_ref, float(r.score)) for r in rows],
        {(r.missing_ref, r.found_ref): float(r.probability) for r in rows
         if r.probability is not None},
        seconds,
    )  # fmt: skip


def run_evaluation(
    config: EvalConfig,
    *,
    face_model: FaceModel | None = None,
    evidence_model: EvidenceModel | None = None,
    say: Say | None = None,
    population: Population | None = None,
) -> EvalRun:
    """Generate (or take) a population, run xunqin and every baseline, collect their pairs."""
    tell = say or (lambda _: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    pop = population or generate_population(
        seed=config.seed,
        n_missing=config.n_missing,
        n_found=config.n_found,
        n_true_pairs=config.n_true_pairs,
        faces_dir=config.faces_dir,
        today=config.today,
    )
    population_dir = config.work_dir / "population"
    write_population(pop, population_dir)
    timings["generate"] = time.perf_counter() - started
    tell(f"population: {len(pop.missing)} reports, {len(pop.found)} found, {len(pop.truth)} true")

    home = config.work_dir / "home"
    shutil.rmtree(home, ignore_errors=True)
    database = Database(f"sqlite:///{(home / 'xunqin.db').resolve()}")
    database.upgrade()
    model = face_model or CachingFaceModel(
        DlibFaceModel(), config.work_dir.parent / "eval-face-cache.pkl"
    )
    indexes = FaceIndexes(home / "index", model=model.name)
    indexes.open(database)
    ingestor = Ingestor(database, PhotoStore(home / "photos"), SerialFaceReader(model), indexes)
    counts: dict[str, int] = {}
    try:
        for kind in ("missing", "found"):
            mark = time.perf_counter()
            # The population's photos are the faces folder's, named by absolute paths.
            report = ingestor.import_file(
                population_dir / f"{kind}.jsonl",
                kind,
                actor="eval",
                photos_dir=config.faces_dir or population_dir,
            )
            timings[f"import_{kind}"] = time.perf_counter() - mark
            counts[f"{kind}_rows"] = report.rows
            for status, number in report.photos.items():
                counts[f"{kind}_photos_{status}"] = number
            tell(f"imported {kind}: {report.rows} rows in {timings[f'import_{kind}']:.1f} s")
    finally:
        if isinstance(model, CachingFaceModel):
            model.save()

    def _rematched(scorer: PairScorer, name: str) -> MethodRun:
        mark = time.perf_counter()
        result = rematch(
            database,
            face_indexes=indexes,
            face_model=model.name,
            settings=RematchSettings(keep_per_record=config.keep),
            scorer=scorer,
        )
        seconds = time.perf_counter() - mark
        timings[f"rematch {name}"] = seconds
        counts[f"pairs scored {name}"] = result.pairs_scored
        tell(f"re-matched ({name}): {result.pairs_scored} pairs scored in {seconds:.1f} s")
        return _stored_candidates(database, name, seconds)

    # Each re-match replaces the pending candidates of the one before: the first scorer
    # runs first, and what stays in the store is the last evidence model's.
    evidence = evidence_model or EvidenceModel.default()
    runs = {"first_scorer": _rematched(FirstScorer(today=config.today), "first_scorer"),
            "xunqin": _rematched(evidence, "xunqin")}  # fmt: skip

    # What a deployment does overnight: refit the model on its own store without labels
    # (``xunqin model refit``), then re-match with it.
    mark = time.perf_counter()
    views = read_store(database)
    refitted, refit = refit_model(
        evidence, views.missing, views.found, candidate_pairs=views.candidates,
        n_random_pairs=config.refit_random_pairs,
    )  # fmt: skip
    timings["refit xunqin"] = time.perf_counter() - mark
    counts["refit em pairs"] = refit.em_pairs
    tell(f"refitted without labels: EM over {refit.em_pairs} pairs agreeing on a rare name")
    runs["xunqin_refit"] = _rematched(refitted, "xunqin_refit")

    mark = time.perf_counter()
    reviewed, _ = split_by_hash([row["ref"] for row in pop.found], share=REVIEWED_SHARE,
                                seed=SPLIT_SEED)  # fmt: skip
    true_pairs = {(t.missing_ref, t.found_ref) for t in pop.truth}
    confirmed, rejected = _decide(database, runs["xunqin_refit"], true_pairs, reviewed)
    # The decisions alone, the model unchanged: a confirmed pair leaves its people's other
    # candidates next to nothing, a rejected one is no rival, for persons not reviewed too.
    decided_only = _rematched(refitted, "xunqin_decided")
    views = read_store(database)
    learned, _ = refit_model(
        refitted, views.missing, views.found, candidate_pairs=views.candidates,
        decided=views.decided, n_random_pairs=config.refit_random_pairs,
    )  # fmt: skip
    timings["learn from decisions"] = time.perf_counter() - mark
    tell(f"learned from {confirmed} confirmed and {rejected} rejected candidates")
    after = _rematched(learned, "xunqin_decisions")
    learning = LearningRun(
        reviewed, confirmed, rejected, runs["xunqin_refit"], decided_only, after,
        learned.params.recalibration.slope, learned.params.recalibration.intercept,
    )  # fmt: skip
    methods = {name: runs[name] for name in ("xunqin", "xunqin_refit", "first_scorer")}
    with database.session() as session:
        missing_side = _side(all_missing(session))
        found_side = _side(all_found(session))
    for name, baseline in BASELINES.items():
        mark = time.perf_counter()
        pairs = baseline(missing_side, found_side, keep=config.keep)
        methods[name] = MethodRun(name, pairs, None, time.perf_counter() - mark)
        tell(f"baseline {name}: {len(pairs)} pairs")
    database.dispose()
    face_check = None
    if config.faces_dir is not None:
        mark = time.perf_counter()
        cache = config.work_dir.parent / "face_calibration_embeddings.npz"
        face_check = face_rule_check(config.faces_dir, model, cache)
        timings["face check"] = time.perf_counter() - mark
        tell(f"face evidence against the 0.6 rule: {face_check.source}")
    timings["total"] = time.perf_counter() - started
    return EvalRun(config, pop.truth, dict(pop.mix), methods, timings, counts, face_check,
                   learning, scorer_version=evidence.version)  # fmt: skip
