"""The evaluation run end to end on a small population, the report, and decisions mode."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from evaluation.from_decisions import decisions_scorecard
from evaluation.harness import EvalConfig, run_evaluation
from evaluation.report import write_report
from evaluation.scorecard import REVIEWED_TOP, Scorecard
from records import CandidateStatus, Database
from records.inputs import FoundFields, MissingFields
from records.storage.candidate_pairs import upsert_candidate
from records.storage.person_records import (
    upsert_found,
    upsert_missing,
)
from records.storage.reviewer_decisions import record_decision


class NoFaces:
    """A face model for populations without photos: any use is a test failure."""

    name = "no-faces"

    def locate(self, rgb: np.ndarray, *, upsample: int) -> list[tuple[int, int, int, int]]:
        raise AssertionError("no photo should reach the face model")

    def encode(self, rgb: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> np.ndarray:
        raise AssertionError("no photo should reach the face model")

    def landmarks(self, rgb: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> list[dict]:  # type: ignore[type-arg]
        raise AssertionError("no photo should reach the face model")


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, list[Scorecard]]:
    work = tmp_path_factory.mktemp("eval")
    config = EvalConfig(seed=5, n_missing=300, n_found=150, n_true_pairs=60, work_dir=work)
    run = run_evaluation(config, face_model=NoFaces())
    truth = [(t.missing_ref, t.found_ref) for t in run.truth]
    labels = {t.found_ref: t.labels for t in run.truth}
    cards = [
        Scorecard.from_pairs(name, m.pairs, truth, labels, probabilities=m.probabilities)
        for name, m in run.methods.items()
    ]
    return run, cards


def test_every_method_runs_on_the_same_population(
    small_run: tuple[object, list[Scorecard]],
) -> None:
    run, cards = small_run
    assert [c.name for c in cards] == [
        "xunqin", "xunqin_refit", "first_scorer", "face_only", "name_ratio", "pinyin_exact"
    ]  # fmt: skip
    card = {c.name: c for c in cards}
    xunqin = cards[0]
    assert xunqin.recall_found.n_queries == 60
    assert xunqin.by_label["scenario"]["exact"].recall[1] >= 0.9
    assert xunqin.by_label["photos"].keys() == {"without_photos"}
    assert xunqin.recall_found.recall[10] >= card["first_scorer"].recall_found.recall[10]
    face = card["face_only"]
    assert face.n_pairs == 0 and face.recall_found.recall[10] == 0.0
    assert xunqin.calibration_deciles and xunqin.ece is not None and not math.isnan(xunqin.ece)
    assert xunqin.recall_found.recall[10] >= card["pinyin_exact"].recall_found.recall[10]
    refit = card["xunqin_refit"]
    assert refit.calibration_deciles and refit.recall_found.n_queries == 60
    assert refit.by_label["scenario"]["exact"].recall[1] >= 0.9


def test_the_report_folder_holds_markdown_tables_plots_and_json(
    small_run: tuple[object, list[Scorecard]], tmp_path: Path
) -> None:
    run, cards = small_run
    folder = write_report(
        tmp_path, cards, title="t", context={"seed": 5}, mix={"x": 1},
        xunqin_scores=([1.0, 2.0], [-3.0, -1.0]),
    )  # fmt: skip
    names = {p.name for p in folder.iterdir()}
    assert {"report.md", "figures.json", "headline.csv", "pr_curves.png", "score_histogram.png",
            "calibration.png", "recall_by_scenario.csv"} <= names  # fmt: skip
    figures = json.loads((folder / "figures.json").read_text(encoding="utf-8"))
    assert [m["name"] for m in figures["methods"]] == [c.name for c in cards]
    assert (
        figures["methods"][0]["recall_found_to_missing"]["10"] == cards[0].recall_found.recall[10]
    )
    text = (folder / "report.md").read_text(encoding="utf-8")
    assert "| xunqin |" in text and "Recall@10 by scenario" in text
    held = cards[0].held_out
    assert held is not None and held.decisions > 0 and held.held_out_pairs > 0
    assert held.decisions + held.held_out_pairs == cards[0].n_pairs
    stored = figures["methods"][0]["held_out_recalibration"]
    assert stored["recalibration"] == held.recalibration.to_json()
    assert stored["decisions"] == held.decisions and len(stored["deciles_after"]) > 1
    by_name = {m["name"]: m for m in figures["methods"]}
    assert by_name["face_only"]["held_out_recalibration"] is None  # no probabilities
    assert "Recalibrated on reviewers' decisions" in text
    assert text.index("## Calibration of xunqin") < text.index("Recalibrated on reviewers")
    assert (tmp_path / "latest").resolve() == folder.resolve()


def test_figures_from_reviewers_decisions(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    database.upgrade()
    with database.session() as session:
        reports = [upsert_missing(session, MissingFields(ref=f"M{i}"))[0] for i in range(3)]
        person, _ = upsert_found(session, FoundFields(ref="F1"))
        ids = [
            upsert_candidate(session, missing_id=r.id, found_id=person.id, score=float(3 - i),
                             probability=0.5, evidence={}, model_version="v")[0].id
            for i, r in enumerate(reports)
        ]  # fmt: skip
        record_decision(session, ids[0], reviewer="a", status=CandidateStatus.REJECTED, reason=None)
        record_decision(
            session, ids[1], reviewer="a", status=CandidateStatus.CONFIRMED, reason=None
        )
    result = decisions_scorecard(database)
    assert result.counts == {"candidates": 3, "confirmed": 1, "rejected": 1}
    assert result.card.recall_found.recall[1] == 0.0 and result.card.recall_found.recall[5] == 1.0
    assert result.card.n_pairs == 3
    assert [p.n_selected for p in result.card.curve.points] == [1, 2]  # judged pairs only
    assert result.confirmed_scores == [2.0] and result.rejected_scores == [3.0]


def test_the_report_compares_face_evidence_with_the_06_rule(
    small_run: tuple[object, list[Scorecard]], tmp_path: Path
) -> None:
    import numpy as np

    from matching.evidence_model import LabelledEmbeddings, compare_with_threshold_rule

    rng = np.random.default_rng(3)
    centres = rng.normal(0, 0.48 / 16, (30, 128))  # different people about 0.62 apart
    vectors = np.repeat(centres, 4, axis=0) + rng.normal(0, 0.4 / 16, (120, 128))
    ids = np.array([f"asian_faces/p{i}" for i in range(30) for _ in range(4)])
    check = compare_with_threshold_rule(LabelledEmbeddings(vectors.astype(np.float32), ids),
                                        folds=3)  # fmt: skip
    _run, cards = small_run
    folder = write_report(
        tmp_path, cards, title="t", context={}, mix=None,
        xunqin_scores=([1.0], [-1.0]), face_check=check,
    )  # fmt: skip
    text = (folder / "report.md").read_text(encoding="utf-8")
    assert "## Face evidence against the 0.6 rule" in text
    assert "| distance <= 0.6 |" in text and "| calibrated weight > 0 |" in text
    figures = json.loads((folder / "figures.json").read_text(encoding="utf-8"))
    assert figures["face_check"]["rule"]["false_match_rate"] == check.rule.false_match_rate
    plain = write_report(tmp_path / "plain", cards, title="t", context={}, mix=None,
                         xunqin_scores=([1.0], [-1.0]))  # fmt: skip
    assert "0.6 rule" not in (plain / "report.md").read_text(encoding="utf-8")


def test_learning_from_decisions_is_replayed_through_the_store_and_reported(
    small_run: tuple[object, list[Scorecard]], tmp_path: Path
) -> None:
    run, cards = small_run
    learned = run.learning  # type: ignore[attr-defined]
    assert learned is not None
    truth = {(t.missing_ref, t.found_ref) for t in run.truth}  # type: ignore[attr-defined]
    # Each reviewed person's candidates were decided best first, as the truth says, up to
    # REVIEWED_TOP and stopping at the one confirmed.
    ranked: dict[str, list[tuple[float, str]]] = {}
    for m, f, score in learned.before.pairs:
        if f in learned.reviewed:
            ranked.setdefault(f, []).append((score, m))
    read = 0
    for f, rows in ranked.items():
        for k, (_score, m) in enumerate(sorted(rows, reverse=True)[:REVIEWED_TOP]):
            if (m, f) in truth:
                read += k + 1
                break
        else:
            read += min(REVIEWED_TOP, len(rows))
    assert learned.confirmed + learned.rejected == read
    assert 0 < learned.confirmed <= sum(1 for _m, f in truth if f in learned.reviewed)
    assert learned.after.name == "xunqin_decisions" and learned.after.pairs
    labels = {t.found_ref: t.labels for t in run.truth}  # type: ignore[attr-defined]
    figures = learned.figures(truth, labels)
    held_out = {f for f in labels if f not in learned.reviewed}
    assert figures.held_out_persons == len(held_out) == figures.after.recall_found.n_queries
    unseen = [p for p in learned.after.pairs if p[1] not in learned.reviewed]
    assert figures.after.n_pairs == len(unseen) < len(learned.after.pairs)
    folder = write_report(tmp_path, cards, title="t", context={}, mix=None,
                          xunqin_scores=([1.0], [-1.0]), learning=figures)  # fmt: skip
    text = (folder / "report.md").read_text(encoding="utf-8")
    assert "## Learning from reviewers' decisions (the product's path)" in text
    assert "| before decisions |" in text and "| after learning |" in text
    assert "| decisions, model unchanged |" in text
    stored = json.loads((folder / "figures.json").read_text(encoding="utf-8"))
    assert stored["learning_from_decisions"]["confirmed"] == learned.confirmed
