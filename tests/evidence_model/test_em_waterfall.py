"""Waterfall charts of a score: a PNG and a self-contained HTML page."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from matching.evidence_model import (
    EvidenceModel,
    EvidenceScore,
    waterfall_html,
    waterfall_png,
)
from records import Sex
from usecases.charts import render_waterfall


def test_render_waterfall_writes_both_files(
    default_model: EvidenceModel, make_missing: Any, make_found: Any, tmp_path: Path
) -> None:
    missing = make_missing(
        names=("刘建华",), sex=Sex.MALE, birth_year=1970, hometown="四川省绵阳市",
        missing_date=date(2023, 6, 1), features=("右臂有疤",),
    )  # fmt: skip
    found = make_found(names=("牛建华",), sex=Sex.MALE, age_min=50, age_max=58, accent="四川口音",
                       found_date=date(2023, 7, 1), features=("右手臂有伤疤",))  # fmt: skip
    score = default_model.score(missing, found)
    files = render_waterfall(score, tmp_path / "charts" / "candidate-1")
    assert files.png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    page = files.html.read_text(encoding="utf-8")
    assert "data:image/png;base64," in page
    assert "prior" in page and "name: dialect_speaker" in page
    assert score.summary() in page
    assert "<script" not in page


def test_a_stored_score_reads_back_and_draws(
    default_model: EvidenceModel, make_missing: Any, make_found: Any
) -> None:
    score = default_model.score(make_missing(names=("刘建华",)), make_found(names=("刘建华",)))
    again = EvidenceScore.from_json(score.to_json())
    assert again.total_weight == pytest.approx(score.total_weight, abs=1e-3)
    assert [s.level for s in again.signals] == [s.level for s in score.signals]
    assert waterfall_png(again).startswith(b"\x89PNG")
    assert "刘建华" in waterfall_html(again)
    with pytest.raises(ValueError, match="signals"):
        EvidenceScore.from_json({"model_version": "x", "prior_weight": 0})


def test_sharing_with_rivals_is_one_more_bar_and_sets_the_total(
    default_model: EvidenceModel, make_missing: Any, make_found: Any
) -> None:
    from matching.competition import Competition
    from matching.evidence_model.waterfall import RAISE_LABEL, SHARING_LABEL

    score = default_model.score(make_missing(names=("刘建华",)), make_found(names=("刘建华",)))
    shared = score.shared(Competition(0.0, 3.0, 3, 0))  # three rivals: two bits less
    assert shared.final_weight == pytest.approx(score.calibrated_weight - 2.0)
    page = waterfall_html(shared)
    assert SHARING_LABEL in page and "3 other reports fit this person" in page
    assert f"<b>{shared.final_weight:+.2f}</b>" in page and RAISE_LABEL not in page
    assert SHARING_LABEL not in waterfall_html(score)
    raised = waterfall_html(score.shared(Competition(1.5, 3.0, 3, 0)))
    assert f"{RAISE_LABEL}</td><td class='w'>+1.50" in raised
    assert f"{SHARING_LABEL}</td><td class='w'>-2.00" in raised
