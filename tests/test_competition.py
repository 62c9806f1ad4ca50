"""Sharing a pair's chance with the candidates competing for the same people."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.competition import (
    MAX_RAISE,
    NEARLY_AS_LIKELY,
    RAISE_STEP,
    SHARING_STEP,
    Competition,
    share_between_candidates,
)
from matching.evidence import Score, SignalEvidence
from matching.evidence_model import EvidenceScore


def _share(
    pairs: list[tuple[int, int, float]], *, fit_shift: bool = False
) -> tuple[float, list[float], list[tuple[int, int]]]:
    found = np.array([f for f, _, _ in pairs], dtype=np.int64)
    missing = np.array([m for _, m, _ in pairs], dtype=np.int64)
    weights = np.array([w for _, _, w in pairs], dtype=np.float64)
    sharing = share_between_candidates(found, missing, weights, fit_shift=fit_shift)
    competitions = [sharing.of(k) for k in range(len(pairs))]
    shared = [
        1.0 / (1.0 + 2.0 ** -c.log_odds(w))
        for c, (_, _, w) in zip(competitions, pairs, strict=True)
    ]
    counts = [(c.other_reports, c.other_found) for c in competitions]
    return sharing.shift, shared, counts


def _alone(weight: float) -> float:
    return 1.0 / (1.0 + 2.0**-weight)


@pytest.mark.parametrize(
    ("pairs", "expected", "counts"),
    [
        # (found, report, calibrated log2 odds) -> shared probability, (other reports,
        # other persons) at least a quarter as likely
        pytest.param([(0, 0, 3.0)], [_alone(3.0)], [(0, 0)], id="a pair alone keeps its chance"),
        pytest.param(
            [(0, 0, 3.0), (0, 1, 3.0)], [8 / 17, 8 / 17], [(1, 0), (1, 0)],
            id="two reports fit one person equally: each about half",
        ),
        pytest.param(
            [(0, 0, 3.0), (1, 0, 3.0)], [8 / 17, 8 / 17], [(0, 1), (0, 1)],
            id="two persons fit one report equally: each about half",
        ),
        pytest.param(
            [(0, 0, 3.0), (0, 1, 0.0), (0, 2, -10.0)],
            [8 / (10 + 2**-10), 1 / (10 + 2**-10), 2**-10 / (10 + 2**-10)],
            [(0, 0), (1, 0), (2, 0)],
            id="a far weaker report takes little and is not counted as a rival of the best",
        ),
        pytest.param(
            [(0, 0, 0.0), (0, 1, -1.0), (0, 2, -5.0)],
            [1 / 2.53125, 0.5 / 2.53125, 2**-5 / 2.53125], [(1, 0), (1, 0), (2, 0)],
            id="counted: rivals within two bits below, or above",
        ),
        pytest.param(
            [(0, 0, 2.0), (0, 1, 2.0), (1, 1, 2.0)],
            [4 / 9, 4 / 13, 4 / 9], [(1, 0), (1, 1), (0, 1)],
            id="a report in two queues shares with both sides",
        ),
    ],
)  # fmt: skip
def test_shared_probabilities(
    pairs: list[tuple[int, int, float]], expected: list[float], counts: list[tuple[int, int]]
) -> None:
    _, shared, got_counts = _share(pairs)
    # What sharing takes is rounded to SHARING_STEP bits: odds within 2**(1/128).
    assert shared == pytest.approx(expected, rel=2 ** (SHARING_STEP / 2) - 1)
    assert got_counts == counts
    assert all(s <= _alone(w) + 1e-12 for s, (_, _, w) in zip(shared, pairs, strict=True))


def test_the_shift_keeps_the_expected_matches_and_orders_the_queue() -> None:
    rng = np.random.default_rng(7)
    # Forty found persons: half with one clear report, half nameless with ten alike (a
    # third of a match among the ten, as a calibrated model would say).
    pairs = [(f, f, 4.0) for f in range(20)]
    pairs += [(f, 100 + 10 * f + r, float(rng.normal(-5.0, 0.3))) for f in range(20, 40)
              for r in range(10)]  # fmt: skip
    shift, shared, _ = _share(pairs, fit_shift=True)
    alone = [_alone(w) for _, _, w in pairs]
    assert 0.0 < shift < MAX_RAISE and shift / RAISE_STEP == int(shift / RAISE_STEP)
    # Rounded down to an eighth of a bit: a little under, never over, the sum alone.
    assert sum(alone) * 0.9 < sum(shared) <= sum(alone)
    clear, crowded = shared[:20], shared[20:]
    assert min(clear) > max(crowded), "the only fit comes before one of ten"
    # Crowded pairs give up chance (each within the sharing's grain of what the raise
    # gives back, at most).
    assert sum(crowded) < sum(alone[20:]) and max(crowded) <= max(alone[20:])


def test_a_lone_pair_is_raised_with_the_rest_and_says_so() -> None:
    # Crowded pairs lose chance to sharing; the raise that keeps the sum gives some of it
    # to the pair that has no rival, and its explanation says why it went up.
    pairs = [(0, 0, -3.0)] + [(1, 10 + r, -5.0) for r in range(10)]
    shift, shared, _ = _share(pairs, fit_shift=True)
    assert shift > 0 and shared[0] > _alone(-3.0)
    competition = share_between_candidates(
        np.array([0] + [1] * 10), np.arange(11), np.array([w for _, _, w in pairs]), fit_shift=True
    ).of(0)
    text = competition.describe(_alone(-3.0), shared[0])
    assert text.startswith("no other candidate fits this person or this report nearly as well")
    assert f"raised {shift:g} bits first" in text


def test_the_raise_stops_at_its_cap_when_rivals_cannot_add_up() -> None:
    # Two reports each 90% likely for one person: together they cannot hold 1.8 matches.
    shift, shared, _ = _share([(0, 0, math.log2(9)), (0, 1, math.log2(9))], fit_shift=True)
    assert shift == MAX_RAISE
    assert shared == pytest.approx([0.5, 0.5], abs=0.01)


_PAIRS = st.lists(
    st.tuples(st.integers(0, 4), st.integers(0, 5), st.floats(-12.0, 12.0)),
    min_size=1, max_size=25, unique_by=lambda p: (p[0], p[1]),
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(_PAIRS, st.booleans())
def test_sharing_properties(pairs: list[tuple[int, int, float]], fit: bool) -> None:
    shift, shared, counts = _share(pairs, fit_shift=fit)
    alone = [_alone(w) for _, _, w in pairs]
    if not fit:
        assert all(s <= a + 1e-12 for s, a in zip(shared, alone, strict=True))
    assert sum(shared) <= sum(alone) * (1 + 1e-9) or shift == 0.0
    _, mirrored, _ = _share([(m, f, w) for f, m, w in pairs], fit_shift=fit)
    assert shared == pytest.approx(mirrored)
    for k, (f, m, w) in enumerate(pairs):  # the counts against counting by hand
        rivals = [(f2, m2) for f2, m2, w2 in pairs
                  if (f2, m2) != (f, m) and w2 >= w - NEARLY_AS_LIKELY]  # fmt: skip
        assert counts[k] == (sum(1 for f2, _ in rivals if f2 == f),
                             sum(1 for _, m2 in rivals if m2 == m))  # fmt: skip


def test_sides_are_symmetric() -> None:
    pairs = [(0, 0, 1.0), (0, 1, 0.5), (1, 1, 2.0), (2, 1, -3.0), (2, 2, 0.0)]
    _, shared, counts = _share(pairs)
    _, mirrored, mirrored_counts = _share([(m, f, w) for f, m, w in pairs])
    assert shared == pytest.approx(mirrored)
    assert counts == [(b, a) for a, b in mirrored_counts]


def test_bad_input_is_refused_and_nothing_is_shared_among_no_pairs() -> None:
    with pytest.raises(ValueError, match="equally long"):
        share_between_candidates(np.zeros(2, np.int64), np.zeros(1, np.int64), np.zeros(2))
    empty = share_between_candidates(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    assert empty.shift == 0.0 and len(empty.others_odds) == 0


def test_a_shared_score_explains_itself_and_reads_back() -> None:
    signals = (SignalEvidence("name", "exact", 12.0, "the same name"),)
    score = EvidenceScore("m1", -10.0, signals, confirm_by=("compare DNA",))
    shared = score.shared(Competition(0.5, 15.0, 2, 1))
    assert shared.final_weight == pytest.approx(2.0 + 0.5 - 4.0)
    assert shared.probability == pytest.approx(_alone(-1.5))
    assert shared.probability_alone == pytest.approx(_alone(2.0))
    text = shared.competition_text()
    assert text is not None
    assert text.startswith("2 other reports fit this person and 1 other person fits this report")
    assert "so the chance is shared: 26% (alone 80%; raised 0.5 bits first" in text
    assert shared.confirm_by == (), "26% is not high enough to say what would confirm it"
    stored = shared.to_json()
    assert stored["competition"]["other_reports"] == 2 and stored["final_weight"] == -1.5
    back = EvidenceScore.from_json(stored)
    assert back.probability == pytest.approx(shared.probability)
    assert Score("m1", -10.0, signals).competition_text() is None
    alone = Competition(0.0, 0.01, 0, 0).describe(0.9996, 0.9995)
    assert alone == ("no other candidate fits this person or this report nearly as well: "
                     "over 99% (alone over 99%)")  # fmt: skip
    assert "0.3% (alone 0.6%)" in Competition(0.0, 1.0, 1, 0).describe(0.006, 0.003)
    assert "under 0.01% (alone 0.05%)" in Competition(0.0, 9.0, 1, 0).describe(5e-4, 6e-13)
    weaker = Competition(0.0, 0.5, 0, 0).describe(0.5, 0.4)
    assert weaker.startswith("no other candidate fits nearly as well, but weaker ones together")
    with pytest.raises(ValueError, match="negative"):
        Competition(0.0, -1.0, 0, 0)
    assert math.isclose(Competition(0.0, 0.0, 0, 0).log_odds(3.0), 3.0)


def test_a_confirmed_rival_is_named_in_the_explanation_and_kept() -> None:
    # Person 0 is confirmed with report 0; report 1 also fits person 0, and report 0
    # also fits person 1. Pair 3 (person 2, report 2) has nobody confirmed around it.
    found = np.array([0, 0, 1, 2], np.int64)
    missing = np.array([0, 1, 0, 2], np.int64)
    log_odds = np.array([math.inf, 3.0, 3.0, 3.0])
    sharing = share_between_candidates(found, missing, log_odds, fit_shift=False)
    assert sharing.of(1).confirmed_elsewhere == ("person",)
    assert sharing.of(2).confirmed_elsewhere == ("report",)
    assert sharing.of(0).confirmed_elsewhere == () == sharing.of(3).confirmed_elsewhere
    rival = sharing.of(1)
    assert rival.describe(0.89, 1e-9).startswith(
        "a reviewer confirmed this person with another report, so this pair's chance is next"
    )
    back = Competition.from_json(rival.to_json())  # the odds are stored to 6 digits
    assert back.confirmed_elsewhere == ("person",)
    assert back.others_odds == pytest.approx(rival.others_odds, rel=1e-5)
    assert "confirmed_elsewhere" not in sharing.of(3).to_json()  # stored as before
    with pytest.raises(ValueError, match="person or report"):
        Competition.from_json({**rival.to_json(), "confirmed_elsewhere": ["family"]})
    # One child reported twice, both reports confirmed: neither confirmation is the
    # other's explanation.
    twice = share_between_candidates(np.zeros(2, np.int64), np.arange(2, dtype=np.int64),
                                     np.full(2, math.inf), fit_shift=False)  # fmt: skip
    assert twice.of(0).confirmed_elsewhere == () == twice.of(1).confirmed_elsewhere


def test_reviewers_decisions_do_not_move_the_raise_of_the_other_pairs() -> None:
    # Forty people in care each fit two reports about equally, so the raise is above
    # zero; forty more pairs, apart from them, are held down by a confirmed pair of the
    # same person (its report closed), and forty are rejected.
    rng = np.random.default_rng(7)
    n = 40
    found = np.r_[np.arange(n), np.arange(n)].astype(np.int64)
    missing = np.arange(2 * n, dtype=np.int64)
    log_odds = rng.normal(2.0, 1.0, 2 * n)
    alone = share_between_candidates(found, missing, log_odds)
    assert alone.shift > 0
    held = np.arange(n, 2 * n, dtype=np.int64) + n
    with_decisions = share_between_candidates(
        np.r_[found, held, held, held].astype(np.int64),
        np.r_[missing, held + n, held + 2 * n, held + 3 * n].astype(np.int64),
        np.r_[log_odds, np.full(n, 2.0), np.full(n, math.inf), np.full(n, -math.inf)],
    )
    assert with_decisions.shift == alone.shift
    # Nothing left open: nothing to fit, no raise.
    decided = share_between_candidates(held, held, np.full(n, math.inf))
    assert decided.shift == 0.0


def test_what_sharing_takes_moves_in_steps_so_a_far_weaker_rival_changes_nothing() -> None:
    alone = Competition(0.0, 0.0, 0, 0)
    assert alone.sharing_weight == 0.0
    for others in (0.001, 0.5, 3.0, 1e6):
        taken = Competition(0.0, others, 0, 0).sharing_weight
        assert taken / SHARING_STEP == round(taken / SHARING_STEP)
        assert abs(taken + math.log2(1 + others)) <= SHARING_STEP / 2
    # A rival a thousandth as likely takes less than half a step: nothing at all.
    assert Competition(0.0, 0.001, 0, 0).log_odds(3.0) == 3.0


def test_a_sharing_gives_every_pairs_log_odds_at_once_as_its_competition_does() -> None:
    rng = np.random.default_rng(4)
    found = rng.integers(0, 30, 400)
    missing = rng.integers(0, 60, 400)
    weights = rng.normal(-3.0, 6.0, 400)
    sharing = share_between_candidates(found, missing, weights, fit_shift=True)
    places = np.arange(0, 400, 3, dtype=np.int64)
    calibrated = weights[places] * 0.9 + 0.5
    each = [sharing.of(int(p)).log_odds(float(c)) for p, c in zip(places, calibrated, strict=True)]
    np.testing.assert_allclose(sharing.log_odds(calibrated, places), each, rtol=0, atol=1e-12)
