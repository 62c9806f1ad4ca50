"""A waterfall chart of one candidate's score: the prior, each term, the total.

The reviewer sees where the evidence comes from: bars start where the previous term
ended, up for evidence for the same person, down against; null terms (no evidence) are
listed but have no bar. When the model is recalibrated on reviewers' decisions, the
correction is one more bar after the terms (usually down: summed terms over-state the
evidence). When a re-match shared the chance with competing candidates (other reports
that fit the same person, other people that fit the same report), the raise every pair
got first and the share the rivals took are two more bars, and the total is the one the
probability comes from.

Two forms: a PNG drawn with matplotlib (Agg backend, imported only when drawing) and a
self-contained HTML page with the PNG inlined and the terms as a table. Writing them to
files is the use cases' (``usecases.charts``): this module only draws.
"""

from __future__ import annotations

import base64
import html
import io
from typing import Final

from matching.evidence import Score

CALIBRATION_LABEL = "calibration"
SHARING_LABEL = "shared with other candidates"
RAISE_LABEL = "raised before sharing"


def _bars(score: Score) -> list[tuple[str, float, str]]:
    bars = [("prior", score.prior_weight, "chance that a random pair is the same person")]
    bars += [(f"{s.signal}: {s.level}", s.weight, s.detail) for s in score.signals]
    if score.calibration is not None and score.calibrated:
        bars.append(
            (
                CALIBRATION_LABEL,
                score.calibrated_weight - score.total_weight,
                f"{score.calibration.describe()}; the sum of the terms was "
                f"{score.total_weight:+.2f} bits (comparisons are not independent)",
            )
        )
    competition, reason = score.competition, score.competition_text()
    if competition is not None and reason is not None:
        if competition.shift:
            why = "every pair is raised as much, so that the probabilities still add up to "
            bars.append((RAISE_LABEL, competition.shift, why + "the matches expected"))
        bars.append((SHARING_LABEL, competition.sharing_weight, reason))
    return bars


def waterfall_png(score: Score) -> bytes:
    """The chart as PNG bytes (for an API response)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    bars = _bars(score)
    labels = [label for label, _, _ in bars] + ["total"]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(labels) + 1.6))
    running = 0.0
    for row, (_, weight, _) in enumerate(bars):
        start = 0.0 if row == 0 else running
        colour = "#9e9e9e" if row == 0 else "#2e7d32" if weight > 0 else "#c62828"
        if weight == 0 and row > 0:
            ax.plot([running], [row], marker="|", color="#9e9e9e")
        else:
            ax.barh(row, weight, left=start, color=colour, height=0.6)
            ax.text(start + weight, row, f" {weight:+.1f}", va="center",
                    ha="left" if weight >= 0 else "right", fontsize=8)  # fmt: skip
        running = start + weight
    total = score.final_weight
    ax.barh(len(bars), total, color="#1565c0", height=0.6)
    ax.text(total, len(bars), f" {total:+.1f}", va="center",
            ha="left" if total >= 0 else "right", fontsize=8)  # fmt: skip
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(labels)), labels=labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("log2 odds (each bit doubles the odds)")
    ax.set_title(
        f"{score.summary()}\nprobability {score.probability:.3g} (model {score.model_version})",
        fontsize=9,
    )
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


WATERFALL_STYLE: Final = """body{font-family:sans-serif;max-width:56em;margin:1em auto}
table{border-collapse:collapse}td{border-bottom:1px solid #ddd;padding:.2em .6em}
td.w{text-align:right;font-variant-numeric:tabular-nums}"""
"""The page's one style element, whole: a Content-Security-Policy allows it by its hash."""


def waterfall_html(score: Score, png: bytes | None = None) -> str:
    """The self-contained HTML page (the PNG inlined), for an API response or a file."""
    png = waterfall_png(score) if png is None else png
    rows = "\n".join(
        f"<tr><td>{html.escape(label)}</td><td class='w'>{weight:+.2f}</td>"
        f"<td>{html.escape(detail)}</td></tr>"
        for label, weight, detail in _bars(score)
    )
    confirm = getattr(score, "confirm_by", ())
    steps = (
        "<h2>What would confirm it</h2><ol>"
        + "".join(f"<li>{html.escape(step)}</li>" for step in confirm)
        + "</ol>"
        if confirm
        else ""
    )
    image = base64.b64encode(png).decode("ascii")
    calibrated = (
        f", {score.calibrated_weight:+.2f} bits after the {CALIBRATION_LABEL} "
        f"({html.escape(score.calibration.describe())})"
        if score.calibration is not None and score.calibrated
        else ""
    )
    shared = score.competition_text()
    if shared is not None:
        calibrated += f", {score.final_weight:+.2f} bits shared ({html.escape(shared)})"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Evidence for a candidate pair</title>
<style>{WATERFALL_STYLE}</style></head><body>
<h1>{html.escape(score.summary())}</h1>
<p>Match probability {score.probability:.3g}; total {score.total_weight:+.2f} bits
(prior {score.prior_weight:+.2f}, evidence {score.evidence_weight:+.2f}){calibrated};
model {html.escape(score.model_version)}. A score is never a decision.</p>
<img alt="waterfall chart of the evidence" src="data:image/png;base64,{image}">
<table><tr><th>term</th><th>bits</th><th>why</th></tr>
{rows}
<tr><td><b>total</b></td><td class='w'><b>{score.final_weight:+.2f}</b></td><td></td></tr>
</table>
{steps}
</body></html>
"""
