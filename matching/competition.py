"""Sharing a pair's chance with the candidates that compete for the same people.

A found person is at most one report's person, and a report is at most one found
person's. The evidence model weighs each pair alone: when five reports fit a nameless man
about equally, each gets the probability one of them would get alone, and the reviewers'
queue holds five likely-looking pairs for one person to find. Here each pair's odds (its
calibrated total) compete with the odds of every other plausible candidate of the same
found person and of the same report, and with the odds that neither has a match among
them (one):

    shared probability = odds / (1 + odds + the others' odds)

Sharing only lowers, so the odds are first raised by one shift, fitted without labels,
that keeps the sum of the probabilities (the matches expected among these pairs) what it
was. The order within one found person's candidates barely moves; the order across the
queue does: a pair that is the only fit for both people comes before one of many.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

MAX_RAISE: Final = 6.0
"""The most the odds are raised before sharing, in bits (as far as the label-free shift
may lower them: :data:`~matching.evidence_model.recalibration.MAX_SHIFT`)."""
RAISE_STEP: Final = 1.0 / 8.0
"""The raise is whole eighths of a bit, rounded down, so that a store that barely changed
keeps its raise and its stored candidates."""
SHARING_STEP: Final = 1.0 / 8.0
"""What sharing takes is rounded to this many bits (odds within 4.4%), the grain of the
raise and of the label-free shift: rivals that take less than half a step take nothing,
so a pair's stored chance changes only when its competition really does. (At 1/64 bit,
100 new reports among 10,000 moved a quarter of all candidates by one step, a
thousandth of their probability: rewritten for nothing a reviewer could see.)"""
NEARLY_AS_LIKELY: Final = 2.0
"""Competitors within this many bits of a pair (a quarter as likely, or more) are counted
in its explanation."""
_CLIP: Final = 1000.0
"""log2 odds beyond this are treated as this (2**1000 still fits a float)."""


@dataclass(frozen=True)
class Competition:
    """How one pair's chance is shared with its competitors.

    ``others_odds`` is the sum of the odds of the other candidates of the same found
    person and of the same report, after ``shift``; ``other_reports`` and ``other_found``
    count those at least a quarter as likely as this pair.
    """

    shift: float
    others_odds: float
    other_reports: int
    other_found: int
    confirmed_elsewhere: tuple[str, ...] = ()
    """Which of the pair's two people a reviewer confirmed in another pair: "person"
    (the found person, with another report), "report" (the report, with another person)."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.shift) and math.isfinite(self.others_odds)):
            raise ValueError("a competition's shift and others' odds must be finite")
        if self.others_odds < 0 or self.other_reports < 0 or self.other_found < 0:
            raise ValueError("a competition's others' odds and counts must not be negative")

    @property
    def sharing_weight(self) -> float:
        """What sharing takes, in log2 odds (zero or less), in whole steps of
        :data:`SHARING_STEP`: a rival far weaker than a pair does not move it, so a new
        record changes only the candidates it really competes with."""
        return -round(math.log2(1.0 + self.others_odds) / SHARING_STEP) * SHARING_STEP

    def log_odds(self, calibrated_weight: float) -> float:
        """The shared log2 odds of a pair whose calibrated total is ``calibrated_weight``."""
        return calibrated_weight + self.shift + self.sharing_weight

    def describe(self, alone: float, shared: float) -> str:
        """One line for a reviewer: who else fits, and the probability alone and shared."""
        rivals = []
        if self.confirmed_elsewhere:
            # A confirmed rival holds the chance whatever the evidence: say so, not "fits".
            whom = " and ".join(_CONFIRMED_ELSEWHERE[side] for side in self.confirmed_elsewhere)
            text = f"a reviewer confirmed {whom}, so this pair's chance is next to nothing"
            return f"{text}: {_percent(shared)} (alone {_percent(alone)})"
        if self.other_reports:
            rivals.append(_count(self.other_reports, "other report") + " this person")
        if self.other_found:
            rivals.append(_count(self.other_found, "other person") + " this report")
        if rivals:
            text = f"{' and '.join(rivals)} at least a quarter as well, so the chance is shared"
        elif shared < 0.9 * _raised(alone, self.shift):
            # No single rival is close, but many weak ones together took a tenth or more.
            text = "no other candidate fits nearly as well, but weaker ones together take a share"
        else:
            text = "no other candidate fits this person or this report nearly as well"
        outcome = f"{_percent(shared)} (alone {_percent(alone)}"
        if self.shift:
            # The raise that keeps the expected matches moves chance from crowded pairs to
            # clear ones: a reviewer should see it, not only the sharing.
            outcome += f"; raised {self.shift:g} bits first, as every pair was, to keep the "
            outcome += "matches expected"
        return f"{text}: {outcome})"

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        stored: dict[str, Any] = {
            "shift": self.shift,
            "others_odds": float(f"{self.others_odds:.6g}"),
            "other_reports": self.other_reports,
            "other_found": self.other_found,
        }
        if self.confirmed_elsewhere:
            stored["confirmed_elsewhere"] = list(self.confirmed_elsewhere)
        return stored

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Competition:
        """The stored form read back; KeyError names a missing key."""
        return cls(
            float(data["shift"]),
            float(data["others_odds"]),
            int(data["other_reports"]),
            int(data["other_found"]),
            tuple(_confirmed_side(side) for side in data.get("confirmed_elsewhere", ())),
        )


def _confirmed_side(side: object) -> str:
    if side not in _CONFIRMED_ELSEWHERE:
        raise ValueError(f"a competition's confirmed side is person or report, not {side!r}")
    return str(side)


_CONFIRMED_ELSEWHERE: Final = {
    "person": "this person with another report",
    "report": "this report with another person",
}


def _raised(probability: float, shift: float) -> float:
    """A probability with its odds raised by ``shift`` bits."""
    if probability >= 1.0:
        return 1.0
    odds: float = probability / (1.0 - probability) * 2.0**shift
    return odds / (1.0 + odds)


def _count(n: int, noun: str) -> str:
    return f"1 {noun} fits" if n == 1 else f"{n} {noun}s fit"


def _percent(p: float) -> str:
    if p >= 0.995:
        return "over 99%"
    if p < 0.0001:
        return "under 0.01%"
    if p < 0.01:
        return f"{100 * p:.1g}%"
    return f"{p:.0%}"


@dataclass(frozen=True, eq=False)
class Sharing:
    """The competition of every plausible pair, by position in the arrays it was made
    from (:func:`share_between_candidates`)."""

    shift: float
    others_odds: NDArray[np.float64]
    other_reports: NDArray[np.int64]
    other_found: NDArray[np.int64]
    person_confirmed_elsewhere: NDArray[np.bool_]
    report_confirmed_elsewhere: NDArray[np.bool_]

    def log_odds(
        self, calibrated: NDArray[np.float64], places: NDArray[np.int64]
    ) -> NDArray[np.float64]:
        """:meth:`Competition.log_odds` of the pairs at ``places`` at once, whose
        calibrated totals are ``calibrated``: the raise, less what sharing takes in whole
        steps of :data:`SHARING_STEP`."""
        taken = np.round(np.log2(1.0 + self.others_odds[places]) / SHARING_STEP) * SHARING_STEP
        return calibrated + self.shift - taken

    def of(self, pair: int) -> Competition:
        """The competition of the pair at position ``pair``."""
        flags = (("person", self.person_confirmed_elsewhere),
                 ("report", self.report_confirmed_elsewhere))  # fmt: skip
        elsewhere = tuple(side for side, flagged in flags if flagged[pair])
        return Competition(
            self.shift,
            float(self.others_odds[pair]),
            int(self.other_reports[pair]),
            int(self.other_found[pair]),
            elsewhere,
        )


def _sigmoid(log_odds: NDArray[np.float64]) -> NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp2(-log_odds))


def _nearly_as_likely(groups: NDArray[np.int64], weights: NDArray[np.float64]) -> NDArray[np.int64]:
    """For each pair, how many other pairs of its group are within NEARLY_AS_LIKELY bits
    below it, or above it."""
    order = np.lexsort((weights, groups))
    sorted_groups, sorted_weights = groups[order], weights[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    ends = np.r_[starts[1:], len(order)]
    counts = np.empty(len(order), dtype=np.int64)
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        block = sorted_weights[start:end]
        first = np.searchsorted(block, block - NEARLY_AS_LIKELY, side="left")
        counts[start:end] = (end - start) - first - 1
    out = np.empty(len(order), dtype=np.int64)
    out[order] = counts
    return out


def _rest_of_group(groups: NDArray[np.int64], values: NDArray[np.float64]) -> NDArray[np.float64]:
    """For each pair, the sum of ``values`` over the other pairs of its group."""
    rest: NDArray[np.float64] = np.bincount(groups, weights=values)[groups] - values
    return rest


def share_between_candidates(
    found: NDArray[np.int64],
    missing: NDArray[np.int64],
    log_odds: NDArray[np.float64],
    *,
    fit_shift: bool = True,
) -> Sharing:
    """The competition of every pair ``k`` of found person ``found[k]`` and report
    ``missing[k]`` with calibrated log2 odds ``log_odds[k]``.

    The pairs should be every plausible one, not only those kept as candidates: a
    competitor left out would leave a pair's probability too high. Without
    ``fit_shift`` (a store too small for the sum of its probabilities to mean much)
    sharing only lowers.
    """
    if not len(found) == len(missing) == len(log_odds):
        raise ValueError("found, missing and log_odds must be equally long")
    given = np.asarray(log_odds, dtype=np.float64)
    weights = np.clip(given, -_CLIP, _CLIP)
    if len(weights) == 0:
        empty = np.zeros(0)
        none = np.zeros(0, dtype=np.bool_)
        return Sharing(0.0, empty, empty.astype(np.int64), empty.astype(np.int64), none, none)
    # A reviewer's confirmation comes as infinite odds: its pair's people are spoken for.
    confirmed = np.isposinf(given).astype(np.float64)
    decided = ~np.isfinite(given)
    # A decided pair's own chance is the decision's: no confirmation elsewhere explains it.
    confirmed_for_found = (_rest_of_group(found, confirmed) > 0) & ~decided
    confirmed_for_missing = (_rest_of_group(missing, confirmed) > 0) & ~decided
    odds = np.exp2(weights)
    # The competitors of a pair: the rest of its found person's and of its report's.
    # (Rivals below a pair's float precision are lost in the subtraction: they would not
    # move its probability either.)
    others = np.maximum(0.0, _rest_of_group(found, odds) + _rest_of_group(missing, odds))
    # The raise is fitted on the pairs reviewers left open: a decided pair's chance is
    # the decision's, and a rival a confirmation holds down would otherwise lend its lost
    # chance to every other pair in the store.
    fitted = ~(decided | confirmed_for_found | confirmed_for_missing)
    target = float(_sigmoid(weights[fitted]).sum())
    fitted_weights, fitted_others = weights[fitted], others[fitted]

    def shared_sum(shift: float) -> float:
        # As stored: what sharing takes in whole steps (Competition.sharing_weight), so
        # the stored probabilities, not exact ones, stay within the target. It still
        # rises with the raise: a raise of one step moves what sharing takes by a step
        # at most.
        taken = np.round(np.log2(1.0 + 2.0**shift * fitted_others) / SHARING_STEP) * SHARING_STEP
        return float(_sigmoid(fitted_weights + shift - taken).sum())

    # The most whole steps whose shared sum stays within the target (it rises with the
    # raise): a binary search over the 49 candidates, not a bisection of the real line.
    # With no open pair there is nothing to fit: no raise.
    low, high = 0, int(MAX_RAISE / RAISE_STEP) if fit_shift and fitted.any() else 0
    while low < high:
        middle = (low + high + 1) // 2
        if shared_sum(middle * RAISE_STEP) <= target:
            low = middle
        else:
            high = middle - 1
    shift = low * RAISE_STEP
    return Sharing(
        shift,
        others * 2.0**shift,
        _nearly_as_likely(found, weights),
        _nearly_as_likely(missing, weights),
        confirmed_for_found,
        confirmed_for_missing,
    )
