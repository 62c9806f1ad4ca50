"""Recalibration in the evaluation: a seeded split of found persons, fitted on one side only."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evaluation.metrics import (
    CalibrationBin,
    hashed_share,
    max_calibration_gap,
    split_by_hash,
)
from evaluation.report import held_out_section
from evaluation.scorecard import HeldOutRecalibration, log2_odds
from matching.evidence_model import fit_recalibration

REFS = [f"F{i:05d}" for i in range(2000)]


def test_the_split_is_seeded_deterministic_and_per_key() -> None:
    reviewed, held_out = split_by_hash(REFS, share=0.3, seed="s1")
    assert reviewed | held_out == set(REFS) and not reviewed & held_out
    assert len(reviewed) / len(REFS) == pytest.approx(0.3, abs=0.03)
    assert split_by_hash(reversed(REFS), share=0.3, seed="s1") == (reviewed, held_out)
    # A key's side does not depend on which other keys are split with it.
    some, _ = split_by_hash(REFS[:100], share=0.3, seed="s1")
    assert some == reviewed & set(REFS[:100])
    other, _ = split_by_hash(REFS, share=0.3, seed="s2")
    assert other != reviewed
    assert split_by_hash(REFS, share=0.0, seed="s1")[0] == frozenset()
    assert all(0.0 <= hashed_share(r, seed="s1") < 1.0 for r in REFS[:50])
    with pytest.raises(ValueError, match="share"):
        split_by_hash(REFS, share=1.5, seed="s1")


def test_max_calibration_gap() -> None:
    table = [CalibrationBin(0, 0.5, 0.2, 0.1, 5), CalibrationBin(0.5, 1, 0.9, 0.6, 5)]
    assert max_calibration_gap(table) == pytest.approx(0.3)
    assert math.isnan(max_calibration_gap([]))


def test_log2_odds_of_stored_probabilities() -> None:
    assert log2_odds(0.5) == 0.0
    assert log2_odds(0.8) == pytest.approx(2.0)
    assert log2_odds(1 / 1025) == pytest.approx(-10.0)
    assert log2_odds(1.0) == 53.0 and log2_odds(0.0) < -1000


def _overconfident(
    seed: int, n_found: int = 600, per_found: int = 30
) -> tuple[list[tuple[str, str, float]], set[tuple[str, str]], dict[tuple[str, str], float]]:
    """Candidates whose stored probabilities say 2t where the truth is 0.8t - 3 bits."""
    rng = np.random.default_rng(seed)
    pairs, truth, probabilities = [], set(), {}
    for j in range(n_found):
        f = f"F{j:05d}"
        for i in range(per_found):
            m = f"M{j:05d}-{i}"
            t = float(rng.normal(-4.0, 5.0))
            pairs.append((m, f, t))
            probabilities[(m, f)] = 1.0 / (1.0 + 2.0 ** (-t))
            if rng.random() < 1.0 / (1.0 + 2.0 ** (-(0.8 * t - 3.0))):
                truth.add((m, f))
    return pairs, truth, probabilities


def test_held_out_figures_fit_on_reviewed_persons_only() -> None:
    pairs, truth, probabilities = _overconfident(1)
    held = HeldOutRecalibration.from_pairs(pairs, truth, probabilities)
    reviewed, held_out = split_by_hash({f for _, f, _ in pairs}, share=0.3,
                                       seed="xunqin-reviewed-1")  # fmt: skip
    assert (held.reviewed_persons, held.held_out_persons) == (len(reviewed), len(held_out))
    assert held.decisions == sum(1 for _, f, _ in pairs if f in reviewed)
    assert held.held_out_pairs == sum(1 for _, f, _ in pairs if f in held_out)
    # The fit is exactly the one on the reviewed persons' pairs.
    decided = sorted((m, f) for m, f, _ in pairs if f in reviewed)
    expected = fit_recalibration(
        [log2_odds(probabilities[p]) for p in decided], [p in truth for p in decided]
    )
    assert held.recalibration == expected
    assert held.recalibration.slope == pytest.approx(0.8, abs=0.08)
    assert held.recalibration.intercept == pytest.approx(-3.0, abs=0.4)
    # Changing what is true of held-out persons changes nothing fitted.
    flipped = {p for p in truth if p[1] in reviewed} | {
        (m, f) for m, f, _ in pairs if f in held_out and (m, f) not in truth
    }
    again = HeldOutRecalibration.from_pairs(pairs, flipped, probabilities)
    assert again.recalibration == held.recalibration
    assert again.ece_before != held.ece_before
    # Over-confident before, close after, on persons it never saw.
    assert held.max_gap_before > 0.2 and held.ece_before > 0.05
    assert held.max_gap_after < 0.05 and held.ece_after < 0.02
    assert [b.count for b in held.deciles_before] == [b.count for b in held.deciles_after]
    text = "\n\n".join(held_out_section(held))
    assert f"slope {held.recalibration.slope:.3f}" in text
    assert "| decile | pairs | observed share | predicted before | predicted after |" in text


def test_held_out_figures_are_deterministic() -> None:
    pairs, truth, probabilities = _overconfident(2, n_found=200)
    first = HeldOutRecalibration.from_pairs(pairs, truth, probabilities)
    second = HeldOutRecalibration.from_pairs(list(reversed(pairs)), truth, probabilities)
    assert first == second
    other_seed = HeldOutRecalibration.from_pairs(pairs, truth, probabilities, seed="other")
    assert other_seed.decisions != first.decisions
