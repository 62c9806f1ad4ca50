"""A candidate's explanation as a waterfall chart: the prior, each term, the total.

The reviewer page asks for a candidate's chart as a PNG or as a self-contained page
(:func:`candidate_chart_png`, :func:`candidate_chart_html`: the read audited once, in
the caller's unit of work); the command line writes both files for a score it has read
(:func:`render_waterfall`). The drawing itself is pure and lives with the evidence model
(``matching.evidence_model.waterfall``); writing files is the use cases'. The page's one
inline style is :data:`CHART_STYLE`, which the API's security headers allow by its hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy.orm import Session

from matching.evidence import Score
from matching.evidence_model import (
    WATERFALL_STYLE,
    EvidenceModel,
    waterfall_html,
    waterfall_png,
)
from usecases.reading import candidate_score

CHART_STYLE: Final = WATERFALL_STYLE
"""The inline style of the chart's page."""


def candidate_chart_png(
    session: Session, candidate_id: int, *, actor: str, model: EvidenceModel
) -> bytes:
    """The candidate's waterfall chart as a PNG (the read audited)."""
    return waterfall_png(candidate_score(session, candidate_id, actor=actor, model=model))


def candidate_chart_html(
    session: Session, candidate_id: int, *, actor: str, model: EvidenceModel
) -> str:
    """The candidate's waterfall chart in a self-contained page with the evidence table
    (the read audited)."""
    return waterfall_html(candidate_score(session, candidate_id, actor=actor, model=model))


@dataclass(frozen=True)
class WaterfallFiles:
    """The files written."""

    png: Path
    html: Path


def render_waterfall(score: Score, path: Path) -> WaterfallFiles:
    """Write ``<path stem>.png`` and ``<path stem>.html`` beside ``path``; return both."""
    png = waterfall_png(score)
    png_path = path.with_suffix(".png")
    html_path = path.with_suffix(".html")
    png_path.parent.mkdir(parents=True, exist_ok=True)
    png_path.write_bytes(png)
    html_path.write_text(waterfall_html(score, png), encoding="utf-8")
    return WaterfallFiles(png_path, html_path)
