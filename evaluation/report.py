"""The evaluation report: a dated folder with Markdown, CSV tables, plots and JSON."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from evaluation.markdown import table_lines
from evaluation.metrics import CalibrationBin, max_calibration_gap
from evaluation.scorecard import (
    LABELS,
    REVIEWED_TOP,
    HeldOutRecalibration,
    LearningFigures,
    Scorecard,
)
from matching.evidence_model import CalibrationCheck

KS = (1, 5, 10, 50)


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    return "\n".join(table_lines(header, rows))


def headline_rows(cards: Sequence[Scorecard]) -> list[list[str]]:
    """One row per method: recall@k both ways, reachable recall, workload, pairs, time."""
    return [
        [
            card.name,
            *(_fmt(card.recall_found.recall[k]) for k in KS),
            *(_fmt(card.recall_missing.recall[k]) for k in (1, 10)),
            _fmt(card.max_recall),
            _fmt(card.workload[0.90], 2),
            _fmt(card.workload[0.95], 2),
            str(card.n_pairs),
            f"{card.seconds:.1f}",
        ]
        for card in cards
    ]


HEADLINE_HEADER = [
    "method", "R@1", "R@5", "R@10", "R@50", "M→F R@1", "M→F R@10", "reachable recall",
    "read/true @0.90", "read/true @0.95", "pairs", "seconds",
]  # fmt: skip


def _label_rows(cards: Sequence[Scorecard], label: str, k: int) -> list[list[str]]:
    values = sorted({v for card in cards for v in card.by_label[label]})
    first = cards[0]
    return [
        [value, str(first.by_label[label][value].n_queries)]
        + [_fmt(card.by_label[label].get(value, first.by_label[label][value]).recall[k])
           for card in cards]
        for value in values
    ]  # fmt: skip


def _plots(folder: Path, cards: Sequence[Scorecard], xunqin: Scorecard,
           flags_scores: tuple[list[float], list[float]]) -> list[str]:  # fmt: skip
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    fig, ax = plt.subplots(figsize=(6.5, 5))
    for card in cards:
        points = card.curve.points
        ax.plot([p.recall for p in points], [p.precision for p in points], label=card.name)
    ax.set_xlabel("recall (share of all true pairs)")
    ax.set_ylabel("precision")
    ax.set_title("Precision-recall over the score threshold")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "pr_curves.png", dpi=110)
    plt.close(fig)
    made.append("pr_curves.png")

    true_scores, false_scores = flags_scores
    fig, ax = plt.subplots(figsize=(6.5, 4))
    bins = 40
    ax.hist(false_scores, bins=bins, alpha=0.6, label=f"different people ({len(false_scores)})",
            density=True)  # fmt: skip
    ax.hist(true_scores, bins=bins, alpha=0.6, label=f"same person ({len(true_scores)})",
            density=True)  # fmt: skip
    ax.set_xlabel("xunqin score (log2 odds)")
    ax.set_ylabel("density")
    ax.set_title("Scores of true and false candidate pairs")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "score_histogram.png", dpi=110)
    plt.close(fig)
    made.append("score_histogram.png")

    if xunqin.calibration_deciles:
        fig, ax = plt.subplots(figsize=(5, 5))
        bins_ = [b for b in xunqin.calibration_deciles if b.count]
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect")
        ax.plot([b.mean_predicted for b in bins_], [b.observed_share for b in bins_],
                marker="o", label="xunqin (deciles)")  # fmt: skip
        if xunqin.held_out is not None and xunqin.held_out.held_out_pairs:
            for table, name, marker in (
                (xunqin.held_out.uniform_before, "held out, as stored", "x"),
                (xunqin.held_out.uniform_after, "held out, recalibrated", "s"),
            ):
                ax.plot([b.mean_predicted for b in table], [b.observed_share for b in table],
                        marker=marker, linestyle=":", label=f"{name} (0.1 bins)")  # fmt: skip
        ax.set_xlabel("predicted probability")
        ax.set_ylabel("observed share of true pairs")
        ax.set_title("Calibration")
        ax.legend()
        fig.tight_layout()
        fig.savefig(folder / "calibration.png", dpi=110)
        plt.close(fig)
        made.append("calibration.png")
    return made


def _card_json(card: Scorecard) -> dict[str, Any]:
    return {
        "name": card.name,
        "pairs": card.n_pairs,
        "seconds": card.seconds,
        "recall_found_to_missing": {str(k): v for k, v in card.recall_found.recall.items()},
        "recall_missing_to_found": {str(k): v for k, v in card.recall_missing.recall.items()},
        "queries_found": card.recall_found.n_queries,
        "queries_missing": card.recall_missing.n_queries,
        "reachable_recall": card.max_recall,
        "workload": {str(k): v for k, v in card.workload.items()},
        "by_label": {
            label: {
                value: {"queries": r.n_queries, **{str(k): v for k, v in r.recall.items()}}
                for value, r in values.items()
            }
            for label, values in card.by_label.items()
        },  # fmt: skip
        "by_label_threshold": {
            label: {value: asdict(g) for value, g in values.items()}
            for label, values in card.by_label_threshold.items()
        },
        "calibration_uniform": [asdict(b) for b in card.calibration or []],
        "calibration_deciles": [asdict(b) for b in card.calibration_deciles or []],
        "expected_calibration_error": card.ece,
        "held_out_recalibration": _held_out_json(card.held_out),
        "pr_curve": [
            {"threshold": p.threshold, "precision": p.precision, "recall": p.recall}
            for p in card.curve.points[:: max(1, len(card.curve.points) // 400)]
        ],
    }


def _held_out_json(held: HeldOutRecalibration | None) -> dict[str, Any] | None:
    if held is None:
        return None
    data = asdict(held)
    data["recalibration"] = held.recalibration.to_json()
    return data


def _learning_json(learning: LearningFigures | None) -> dict[str, Any] | None:
    if learning is None:
        return None
    return {
        "reviewed_persons": learning.reviewed_persons,
        "held_out_persons": learning.held_out_persons,
        "decided_per_person": REVIEWED_TOP,
        "confirmed": learning.confirmed,
        "rejected": learning.rejected,
        "recalibration_slope": learning.recalibration_slope,
        "recalibration_intercept": learning.recalibration_intercept,
        "before": _card_json(learning.before),
        "decided_only": _card_json(learning.decided_only),
        "after": _card_json(learning.after),
    }


def _bin_cells(b: CalibrationBin | None) -> list[str]:
    if b is None:
        return ["–", "–", "0"]
    return [_fmt(b.mean_predicted), _fmt(b.observed_share), str(b.count)]


def held_out_section(held: HeldOutRecalibration) -> list[str]:
    """The report's part on recalibration learned from decisions, measured held out."""
    r = held.recalibration
    parts = [
        "### Recalibrated on reviewers' decisions, measured on held-out found persons",
        f"Found persons are split by a seeded hash of their ref: {held.reviewed_persons} "
        f"are reviewed (each of their candidates whose truth is known counts as a "
        f"reviewer's decision; in a generated population, every stored candidate: "
        f"{held.decisions} decisions, {held.confirmed} confirmed) and "
        f"{held.held_out_persons} are held out. The recalibration is fitted "
        f"on the reviewed decisions only (log2 odds of the stored probability in, "
        f"calibrated log2 odds out): slope {r.slope:.3f}, intercept {r.intercept:+.3f} "
        f"bits. Below, the held-out persons' {held.held_out_pairs} candidates "
        f"({held.held_out_true} true) before and after it; ranks do not change.",
        f"Expected calibration error over deciles: {_fmt(held.ece_before)} before, "
        f"{_fmt(held.ece_after)} after. Largest gap in a decile: "
        f"{_fmt(held.max_gap_before)} before, {_fmt(held.max_gap_after)} after.",
    ]
    same_bins = [b.count for b in held.deciles_before] == [b.count for b in held.deciles_after]
    if same_bins:
        parts.append(
            _table(
                ["decile", "pairs", "observed share", "predicted before", "predicted after"],
                [
                    [str(i), str(a.count), _fmt(a.observed_share, 4),
                     _fmt(a.mean_predicted, 4), _fmt(b.mean_predicted, 4)]
                    for i, (a, b) in enumerate(
                        zip(held.deciles_before, held.deciles_after, strict=True), start=1
                    )
                ],
            )
        )  # fmt: skip
    else:  # ties split differently after rounding: show the two tables one after the other
        for name, table in (("before", held.deciles_before), ("after", held.deciles_after)):
            parts.append(
                _table(
                    [f"decile ({name})", "mean predicted", "observed share", "pairs"],
                    [[str(i), *_bin_cells(b)] for i, b in enumerate(table, start=1)],
                )
            )
    before = {round(b.lo, 6): b for b in held.uniform_before}
    after = {round(b.lo, 6): b for b in held.uniform_after}
    parts += [
        "Uniform bins of predicted probability (each side binned by its own prediction):",
        _table(
            ["predicted", "before: mean", "observed", "pairs", "after: mean", "observed",
             "pairs"],
            [
                [f"{lo:.1f}–{lo + 0.1:.1f}", *_bin_cells(before.get(lo)),
                 *_bin_cells(after.get(lo))]
                for lo in sorted(before.keys() | after.keys())
            ],
        ),
    ]  # fmt: skip
    return parts


def learning_section(learning: LearningFigures) -> list[str]:
    """Before and after learning from reviewers' decisions, on persons they did not see."""
    rows = [
        [
            card.name, _fmt(card.recall_found.recall[1]), _fmt(card.recall_found.recall[10]),
            _fmt(card.max_recall), _fmt(card.workload[0.90], 2), _fmt(card.workload[0.95], 2),
            _fmt(card.ece, 4),
            _fmt(max_calibration_gap(card.calibration_deciles or []), 4),
        ]
        for card in learning.cards
    ]  # fmt: skip
    return [
        "## Learning from reviewers' decisions (the product's path)",
        f"Reviewers read the candidates of {learning.reviewed_persons} found persons with a "
        f"report, best first, up to {REVIEWED_TOP}, stopping at the one they confirm "
        f"({learning.confirmed} confirmed, {learning.rejected} rejected; the truth decides for "
        "them, through the store as a reviewer would). A re-match with the model unchanged "
        "shows what the decisions do by themselves (a confirmed pair leaves its people's "
        "other candidates next to nothing, a rejected one is no rival). `xunqin model refit` "
        "then learned from the store's decisions (m moved toward what the confirmed pairs "
        "show; confirmed and rejected pairs fitted the recalibration, slope "
        f"{learning.recalibration_slope:.2f}, intercept "
        f"{learning.recalibration_intercept:.2f} bits) and the re-match followed. Figures "
        f"over the candidates of the {learning.held_out_persons} found persons with a report "
        "whom reviewers did not see; before is the model refitted without labels.",
        _table(
            [
                "model",
                "R@1",
                "R@10",
                "reachable recall",
                "read/true @0.90",
                "read/true @0.95",
                "ECE (deciles)",
                "largest decile gap",
            ],
            rows,
        ),  # fmt: skip
    ]


def face_check_section(check: CalibrationCheck) -> list[str]:
    """The calibrated face levels against the raw 0.6 rule, as report paragraphs."""
    rates = sorted(check.rule.precision_at, reverse=True)
    rows = [
        [f.name, _fmt(f.recall), _fmt(f.false_match_rate), f"x{f.bayes_factor_yes:.1f}",
         *(_fmt(f.precision_at[r]) for r in rates)]
        for f in (check.rule, check.calibrated, check.calibrated_strong)
    ]  # fmt: skip
    bins = [
        [str(b["bin"]), _fmt(float(b["held_out_same"])), _fmt(float(b["held_out_different"])),
         f"{float(b['fitted_weight']):+.2f}", f"{float(b['held_out_weight']):+.2f}"]
        for b in check.bins
    ]  # fmt: skip
    return [
        "## Face evidence against the 0.6 rule",
        f"On the labelled development photos ({check.source}; {check.n_same:.0f} same-person "
        f"and {check.n_different:.0f} different-person pairs, identity-weighted), each "
        "fold's identities held out of the fit. A yes/no rule is judged by the share of "
        "same-person pairs it calls the same (recall), of different-person pairs it calls "
        "the same (false matches), what a yes is worth, and its precision at a share of "
        "true pairs among those compared.",
        _table(
            [
                "rule",
                "recall",
                "false matches",
                "a yes is worth",
                *(f"precision at {r:g}" for r in rates),
            ],
            rows,
        ),  # fmt: skip
        _table(
            [
                "distance bin",
                "same (held out)",
                "different (held out)",
                "fitted bits",
                "held-out bits",
            ],
            bins,
        ),  # fmt: skip
    ]


def write_report(
    out_root: Path,
    cards: Sequence[Scorecard],
    *,
    title: str,
    context: Mapping[str, Any],
    mix: Mapping[str, Any] | None,
    xunqin_scores: tuple[list[float], list[float]],
    when: datetime | None = None,
    face_check: CalibrationCheck | None = None,
    learning: LearningFigures | None = None,
) -> Path:
    """Write the report folder and return it. ``cards[0]`` is xunqin."""
    stamp = (when or datetime.now()).strftime("%Y-%m-%d_%H%M%S")
    folder = out_root / stamp
    folder.mkdir(parents=True, exist_ok=False)
    xunqin = cards[0]
    plots = _plots(folder, cards, xunqin, xunqin_scores)

    with (folder / "headline.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADLINE_HEADER)
        writer.writerows(headline_rows(cards))
    for label in LABELS:
        with (folder / f"recall_by_{label}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow([label, "queries", *(f"{c.name} R@10" for c in cards)])
            writer.writerows(_label_rows(cards, label, 10))

    figures = {
        "title": title,
        "generated": stamp,
        "context": dict(context),
        "methods": [_card_json(card) for card in cards],
        "mix": dict(mix or {}),
        "face_check": asdict(face_check) if face_check is not None else None,
        "learning_from_decisions": _learning_json(learning),
    }
    (folder / "figures.json").write_text(
        json.dumps(figures, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
    )

    parts = [
        f"# {title}",
        f"Generated {stamp}. Every figure is also in `figures.json`; tables are CSV beside it.",
        "## Set-up",
        "\n".join(f"- {key}: {value}" for key, value in context.items()),
        "## Headline",
        "R@k: share of found persons with a report for whom the true report is in the top k "
        "(M→F: the other direction). Reachable recall: share of all true pairs the method "
        "proposes at all. read/true: candidates a reviewer reads, best first over the whole "
        "queue, per true pair found, to reach that recall (– when it cannot).",
        _table(HEADLINE_HEADER, headline_rows(cards)),
        "![precision-recall](pr_curves.png)",
    ]
    for label in LABELS:
        parts += [
            f"## Recall@10 by {label}",
            _table(
                [label, "found persons", *(c.name for c in cards)], _label_rows(cards, label, 10)
            ),  # fmt: skip
        ]
    parts += [
        "## Threshold figures by scenario",
        "Over all candidates of the found persons of each scenario: reachable recall, "
        "candidates read per true pair found at recall 0.90, and (xunqin) the expected "
        "calibration error over deciles.",
    ]
    for label in ("scenario", "gap", "photos"):
        rows = []
        for value in sorted(xunqin.by_label_threshold[label]):
            row = [value, str(xunqin.by_label_threshold[label][value].true_pairs)]
            for card in cards:
                group = card.by_label_threshold[label].get(value)
                row += [
                    _fmt(group.reachable_recall) if group else "–",
                    _fmt(group.workload_90, 2) if group else "–",
                ]
            row.append(_fmt(xunqin.by_label_threshold[label][value].ece))
            rows.append(row)
        header = [label, "true pairs"]
        for card in cards:
            header += [f"{card.name} reach", f"{card.name} read@0.90"]
        parts += [_table([*header, "xunqin ECE"], rows)]
    if face_check is not None:
        parts += face_check_section(face_check)
    if xunqin.calibration_deciles:
        parts += [
            "## Calibration of xunqin's probabilities",
            f"Expected calibration error over deciles: {_fmt(xunqin.ece)}.",
            _table(
                ["predicted (bin)", "mean predicted", "observed share", "pairs"],
                [
                    [
                        f"{b.lo:.3f}–{b.hi:.3f}",
                        _fmt(b.mean_predicted),
                        _fmt(b.observed_share),
                        str(b.count),
                    ]
                    for b in xunqin.calibration_deciles
                ],
            ),  # fmt: skip
        ]
        if xunqin.held_out is not None and xunqin.held_out.held_out_pairs:
            parts += held_out_section(xunqin.held_out)
    if learning is not None:
        parts += learning_section(learning)
    parts += [f"![{name}]({name})" for name in plots if name != "pr_curves.png"]
    if mix:
        parts += [
            "## The population's mix",
            "```json\n" + json.dumps(mix, ensure_ascii=False, indent=1, default=str) + "\n```",
        ]
    (folder / "report.md").write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    latest = out_root / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    latest.symlink_to(folder.name)
    return folder
