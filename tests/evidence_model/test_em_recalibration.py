"""Recalibration of the total: learned from decided pairs, carried by the model and its scores."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from matching.evidence_model import (
    EvidenceModel,
    EvidenceScore,
    LabelledPair,
    Recalibration,
    fit_recalibration,
    learn_from_decisions,
    refit_model,
    waterfall_html,
    waterfall_png,
)
from matching.evidence_model.recalibration import (
    IDENTITY,
    MAX_SHIFT,
    MIN_SLOPE,
    SHIFT_STEP,
    WeightTally,
    coherent_with_prior,
    expected_matches,
)


def _simulated(
    slope: float, intercept: float, n: int, *, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Totals spread like shortlisted pairs' and outcomes drawn from a known calibration."""
    rng = np.random.default_rng(seed)
    totals = rng.normal(-3.0, 6.0, n)
    p = 1.0 / (1.0 + np.exp2(-(slope * totals + intercept)))
    return totals, rng.random(n) < p


@pytest.mark.parametrize(
    ("slope", "intercept"),
    [(0.9, -3.0), (0.5, -1.0), (1.0, 0.0), (1.3, 2.0)],
)
def test_fit_recovers_a_known_slope_and_intercept(slope: float, intercept: float) -> None:
    totals, same = _simulated(slope, intercept, 30_000, seed=int(slope * 10) + 7)
    fitted = fit_recalibration(totals, same)
    assert fitted.slope == pytest.approx(slope, abs=0.05)
    assert fitted.intercept == pytest.approx(intercept, abs=0.2)
    assert fitted.decisions == 30_000


def test_no_decisions_give_back_the_base() -> None:
    assert fit_recalibration([], []) == IDENTITY
    assert IDENTITY.is_identity and IDENTITY.decisions == 0
    base = Recalibration(0.8, -1.0, 50)
    assert fit_recalibration([], [], base=base) is base


def test_the_prior_pulls_toward_the_base() -> None:
    totals, same = _simulated(0.5, -4.0, 2000, seed=3)
    weak = fit_recalibration(totals, same, strength=1.0)
    strong = fit_recalibration(totals, same, strength=20_000.0)
    assert abs(strong.slope - 1.0) < abs(weak.slope - 1.0)
    assert abs(strong.intercept) < abs(weak.intercept)
    assert weak.slope == pytest.approx(0.5, abs=0.1)
    # Toward any base, not only the identity.
    base = Recalibration(2.0, 3.0)
    toward = fit_recalibration(totals, same, strength=20_000.0, base=base)
    assert abs(toward.slope - 2.0) < abs(strong.slope - 2.0)
    assert toward.decisions == 2000


def test_a_few_decisions_barely_move_it() -> None:
    totals, same = _simulated(0.5, -4.0, 12, seed=11)
    few = fit_recalibration(totals, same)
    many = fit_recalibration(*_simulated(0.5, -4.0, 20_000, seed=12))
    assert abs(few.slope - 1.0) < 0.2 and abs(few.intercept) < 1.0
    assert abs(many.slope - 1.0) > 0.4


def test_the_slope_stays_positive_so_ranks_never_change() -> None:
    totals, same = _simulated(1.0, 0.0, 5000, seed=5)
    backwards = fit_recalibration(totals, ~same, strength=1.0)
    assert backwards.slope == MIN_SLOPE > 0
    ordered = sorted(totals)
    probabilities = [backwards.probability(t) for t in ordered]
    assert probabilities == sorted(probabilities)
    # The intercept is still fitted: about the share of "same" among these decisions.
    share = float((~same).mean())
    mean_p = float(np.mean([backwards.probability(t) for t in totals]))
    assert mean_p == pytest.approx(share, abs=0.05)


@pytest.mark.parametrize(
    ("totals", "same", "strength", "message"),
    [
        ([1.0, 2.0], [True], 10.0, "2 totals but 1 decisions"),
        ([math.nan], [True], 10.0, "finite"),
        ([1.0], [True], 0.0, "strength"),
    ],
)
def test_fit_rejects_bad_input(
    totals: list[float], same: list[bool], strength: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        fit_recalibration(totals, same, strength=strength)


def test_a_recalibration_maps_log_odds() -> None:
    r = Recalibration(0.5, -2.0, 10)
    assert r.log_odds(6.0) == pytest.approx(1.0)
    assert r.probability(6.0) == pytest.approx(2 / 3)
    assert not r.is_identity and "10 reviewer decisions" in r.describe()
    assert IDENTITY.probability(0.0) == 0.5
    with pytest.raises(ValueError, match="positive"):
        Recalibration(0.0, 1.0)
    with pytest.raises(ValueError, match="finite"):
        Recalibration(1.0, math.inf)


def _recalibrated(model: EvidenceModel, r: Recalibration) -> EvidenceModel:
    return model.with_params(replace(model.params, recalibration=r))


def test_scores_read_the_probability_from_the_calibrated_total(
    default_model: EvidenceModel, make_missing: Any, make_found: Any
) -> None:
    missing, found = make_missing(names=("刘建华",)), make_found(names=("刘建华",))
    plain = default_model.score(missing, found)
    r = Recalibration(0.8, -3.0, 400)
    score = _recalibrated(default_model, r).score(missing, found)
    assert score.total_weight == pytest.approx(plain.total_weight)
    assert score.calibrated_weight == pytest.approx(0.8 * plain.total_weight - 3.0)
    assert score.probability == pytest.approx(r.probability(plain.total_weight))
    assert score.probability < plain.probability
    data = score.to_json()
    assert data["total_weight"] == pytest.approx(plain.total_weight, abs=1e-4)
    assert data["probability"] == score.probability
    assert data["calibration"] == {"slope": 0.8, "intercept": -3.0, "decisions": 400}
    assert "calibration" not in plain.to_json() and not plain.calibrated
    again = EvidenceScore.from_json(data)
    assert again.probability == pytest.approx(score.probability, rel=1e-4)
    assert again.summary() == score.summary()
    page = waterfall_html(again, png=b"")
    assert "400 reviewer decisions" in page and f"{score.calibrated_weight:+.2f}" in page
    step = score.calibrated_weight - score.total_weight
    assert f"<tr><td>calibration</td><td class='w'>{step:+.2f}</td>" in page
    assert "<td>calibration</td>" not in waterfall_html(plain, png=b"")
    assert waterfall_png(again).startswith(b"\x89PNG")


def test_confirmation_steps_follow_the_calibrated_probability(
    default_model: EvidenceModel, make_missing: Any, make_found: Any
) -> None:
    missing = make_missing(names=("覃建华",), hometown="四川省南充市", birth_year=1960)
    found = make_found(names=("覃建华",), accent="四川口音", age_min=60, age_max=66)
    plain = default_model.score(missing, found)
    assert plain.probability >= 0.5 and plain.confirm_by
    # A calibration that puts the pair below even odds: nothing to confirm yet.
    doubtful = Recalibration(0.05, -10.0)
    score = _recalibrated(default_model, doubtful).score(missing, found)
    assert score.probability < 0.5 and score.confirm_by == ()


def test_learning_from_decisions_fits_the_recalibration(
    decided_pairs: Callable[[int], list[LabelledPair]],
) -> None:
    model = EvidenceModel.default()
    decided = decided_pairs(60)
    learned = learn_from_decisions(model, decided, m_strength=5, u_strength=5)
    r = learned.params.recalibration
    assert r != IDENTITY and r.decisions == len(decided)
    entry = learned.params.history[-1]
    assert entry["step"] == "recalibration" and entry["version"] == learned.version
    assert entry["confirmed"] + entry["rejected"] == len(decided)
    # Fitted on the totals under the updated m and u (not the starting model's).
    totals = [learned.total_weight(p.missing, p.found) for p in decided]
    expected = fit_recalibration(totals, [p.same for p in decided])
    assert r.slope == pytest.approx(expected.slope, rel=1e-6)
    assert r.intercept == pytest.approx(expected.intercept, rel=1e-6, abs=1e-9)
    # No decisions: nothing to fit, the recalibration stays.
    assert learn_from_decisions(learned, []).params.recalibration == r


def test_refit_learns_the_recalibration_from_decisions(
    small_population: Any, decided_pairs: Callable[[int], list[LabelledPair]]
) -> None:
    _, missing, found = small_population
    decided = decided_pairs(60)
    refitted, report = refit_model(EvidenceModel.default(), missing, found, decided=decided,
                                   n_random_pairs=2000, seed=1)  # fmt: skip
    r = refitted.params.recalibration
    assert r.decisions == len(decided) and not r.is_identity
    assert (report.recalibration_slope, report.recalibration_intercept) == (r.slope, r.intercept)
    steps = [h["step"] for h in refitted.params.history]
    assert steps[-2:] == ["reviewer_decisions", "recalibration"]
    assert {h["version"] for h in refitted.params.history[-3:]} == {refitted.version}
    assert report.prior == EvidenceModel.default().params.prior, "the prior is held"


def test_a_refit_starts_reviewers_recalibration_from_the_re_matchs_shift(
    small_population: Any, decided_pairs: Callable[[int], list[LabelledPair]]
) -> None:
    pop, missing, found = small_population
    index_m = {v.ref: i for i, v in enumerate(missing)}
    index_f = {v.ref: j for j, v in enumerate(found)}
    true = [(index_m[t.missing_ref], index_f[t.found_ref]) for t in pop.truth]
    candidates = sorted({*true, *((i, (i * 7) % len(found)) for i in range(len(missing)))})
    model = EvidenceModel.default().with_prior(0.003)  # 0.003 x 160 x 80 = 38 expected
    few = decided_pairs(0)[:3]
    refitted, _ = refit_model(model, missing, found, candidate_pairs=candidates,
                              decided=few, n_random_pairs=3000, seed=1)  # fmt: skip
    alone, _ = refit_model(model, missing, found, candidate_pairs=candidates,
                           n_random_pairs=3000, seed=1)  # fmt: skip
    r = refitted.params.recalibration
    assert r.decisions == 3 and r.intercept < -0.5, "three decisions leave the shift mostly"
    assert alone.params.recalibration.is_identity, "no decisions: the re-match shifts"


def test_the_first_decisions_start_from_the_shift_the_re_match_applied(
    decided_pairs: Callable[[int], list[LabelledPair]],
) -> None:
    # A handful of decisions barely move a recalibration from where it starts: from the
    # re-match's shift, not from no correction (which would undo the shift at once).
    shift = Recalibration(1.0, -3.75, 0, 800.0)
    decided = decided_pairs(60)[:6]
    model = EvidenceModel.default()
    from_shift = learn_from_decisions(model, decided, recalibration_base=shift)
    from_nothing = learn_from_decisions(model, decided)
    assert from_shift.params.recalibration.intercept == pytest.approx(-3.75, abs=0.5)
    assert from_nothing.params.recalibration.intercept == pytest.approx(0.0, abs=0.5)
    assert from_shift.params.recalibration.decisions == 6


def _tally(totals: np.ndarray) -> WeightTally:
    tally = WeightTally()
    for total in totals.tolist():
        tally.add(total)
    return tally


@pytest.mark.parametrize("excess", [1.0, 3.6, 5.5])
def test_a_shift_without_labels_removes_the_excess_confidence(excess: float) -> None:
    # Pairs whose true log2 odds are t - excess, scored t by an over-confident model:
    # the number of matches the prior expects is all the fit is told.
    rng = np.random.default_rng(5)
    totals = np.concatenate([rng.normal(-16.0, 3.0, 200_000), rng.normal(4.0, 6.0, 2_000)])
    expected = float(np.sum(1.0 / (1.0 + np.exp2(-(totals - excess)))))
    fitted = coherent_with_prior(_tally(totals), expected)
    assert fitted.slope == 1.0 and fitted.decisions == 0
    assert fitted.intercept == pytest.approx(-excess, abs=SHIFT_STEP)
    assert fitted.intercept % SHIFT_STEP == 0 and fitted.intercept <= -excess + 0.01
    assert fitted.expected_matches == expected
    assert "matches the prior expects" in fitted.describe()


def test_the_shift_only_lowers_and_by_a_few_bits_at_most() -> None:
    totals = np.array([-20.0, -10.0, 0.0, 5.0])
    assert coherent_with_prior(_tally(totals), 1.6).intercept == 0.0, "less sure: left alone"
    shifted = coherent_with_prior(_tally(totals), 0.4)
    p = 1.0 / (1.0 + np.exp2(-(totals + shifted.intercept)))
    # Rounded down to an eighth of a bit: at most that much below the prior's sum.
    assert 0.4 * 2**-SHIFT_STEP * 0.97 <= float(p.sum()) <= 0.4 * 1.03  # 1/16-bit bins
    # A sum a thousand times the prior's is a prior that does not fit, not dependence.
    assert coherent_with_prior(_tally(totals), 0.001).intercept == pytest.approx(-MAX_SHIFT)
    assert coherent_with_prior(WeightTally(), 3.0) == IDENTITY
    with pytest.raises(ValueError, match="positive"):
        coherent_with_prior(_tally(totals), 0.0)


def test_the_prior_expects_at_most_one_match_per_person() -> None:
    assert expected_matches(1e-4, 4000, 2000) == pytest.approx(800.0)
    assert expected_matches(1e-4, 1_000_000, 50_000) == 50_000.0
    assert expected_matches(0.5, 3, 10) == 3.0
    with pytest.raises(ValueError, match="prior"):
        expected_matches(1.0, 10, 10)


def test_a_shift_without_labels_survives_a_stored_explanation(
    default_model: EvidenceModel, make_missing: Callable[..., Any], make_found: Callable[..., Any]
) -> None:
    fitted = Recalibration(1.0, -3.5, 0, 812.0)
    score = default_model.with_recalibration(fitted).score(make_missing(), make_found())
    stored = score.to_json()
    assert stored["calibration"]["expected_matches"] == 812.0
    again = EvidenceScore.from_json(stored)
    assert again.calibration == fitted  # (the stored total is rounded)
    assert again.probability == pytest.approx(score.probability, rel=1e-3)
    assert "expected_matches" not in Recalibration(0.8, -1.0, 40).to_json()
    with pytest.raises(ValueError, match="expected matches"):
        Recalibration(1.0, -1.0, 0, 0.0)
