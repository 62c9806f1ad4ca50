"""The explanation a reviewer reads: every comparison's term, and what would confirm it.

These extend the project's :class:`~matching.evidence.Score` and
:class:`~matching.evidence.SignalEvidence` (``Score.to_json()`` keeps its keys and adds
``confirm_by``), so everything that stores or shows a score keeps working.

A score is never a verdict. A candidate the evidence favours says what would settle it:
a DNA comparison (stations send a sample of everyone who cannot say who they are to the
police database) or documents, and the cheaper checks that come first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from matching.competition import Competition
from matching.evidence import Score, SignalEvidence
from matching.evidence_model.recalibration import Recalibration

HIGH_PROBABILITY: Final = 0.5
"""From this match probability on, an explanation lists what would confirm the pair."""
STRONG_TERM: Final = 3.0
"""A term of this many bits or more counts as strong evidence in the advice."""


@dataclass(frozen=True)
class ComparisonEvidence(SignalEvidence):
    """One comparison's term, with the numbers behind it.

    ``weight`` is ``level_weight + tf_adjustment``: the level's log2(m/u), plus, for a
    name agreement, how much rarer (positive) or commoner (negative) the agreeing name
    is than a typical one. ``stratum`` names the circumstance whose m and u were used.
    """

    stratum: str | None = None
    level_weight: float = 0.0
    tf_adjustment: float = 0.0
    m: float | None = None
    u: float | None = None


@dataclass(frozen=True)
class EvidenceScore(Score):
    """A score with what would confirm the pair, for candidates the evidence favours."""

    confirm_by: tuple[str, ...] = ()

    def shared(self, competition: Competition) -> EvidenceScore:
        """This score shared with competing candidates; what would confirm it follows the
        shared probability."""
        shared = replace(self, competition=competition)
        return replace(shared, confirm_by=confirmation_steps(self.signals, shared.probability))

    def signal(self, name: str) -> SignalEvidence:
        """The term of one comparison (KeyError if none)."""
        for signal in self.signals:
            if signal.signal == name:
                return signal
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        """The stored breakdown: ``Score.to_json()`` plus ``confirm_by``."""
        data = super().to_json()
        data["confirm_by"] = list(self.confirm_by)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EvidenceScore:
        """A stored breakdown read back (to draw its waterfall without scoring again).

        Accepts what ``Score.to_json()`` wrote too (the first scorer's candidates);
        a stored ``calibration`` and ``competition`` are kept, so the probability is the
        one stored. Raises ValueError naming the missing key.
        """
        try:
            signals = tuple(
                ComparisonEvidence(
                    str(s["signal"]),
                    str(s["level"]),
                    float(s["weight"]),
                    str(s["detail"]),
                    None if s.get("value") is None else float(s["value"]),
                    stratum=s.get("stratum"),
                    level_weight=float(s.get("level_weight", s["weight"])),
                    tf_adjustment=float(s.get("tf_adjustment", 0.0)),
                    m=s.get("m"),
                    u=s.get("u"),
                )
                for s in data["signals"]
            )
            stored = data.get("calibration")
            calibration = None if stored is None else Recalibration.from_json(stored)
            shared = data.get("competition")
            return cls(
                str(data["model_version"]), float(data["prior_weight"]), signals,
                calibration=calibration,
                competition=None if shared is None else Competition.from_json(shared),
                confirm_by=tuple(data.get("confirm_by", ())),
            )  # fmt: skip
        except KeyError as err:
            raise ValueError(f"a stored score needs {err.args[0]!r}") from err


def confirmation_steps(signals: tuple[SignalEvidence, ...], probability: float) -> tuple[str, ...]:
    """What would settle a likely pair, cheapest first; empty below HIGH_PROBABILITY."""
    if probability < HIGH_PROBABILITY:
        return ()
    by_name = {s.signal: s for s in signals}
    steps: list[str] = []
    face = by_name.get("face")
    if face is None or face.level == "null":
        steps.append("ask the family for a photo and show it to the station's staff")
    elif face.weight >= STRONG_TERM:
        steps.append("arrange a video call between the family and the person in care")
    marks = by_name.get("marks")
    if marks is not None and marks.weight >= STRONG_TERM:
        steps.append(f"check the mark in person ({marks.detail})")
    name = by_name.get("name")
    if name is not None and name.weight <= 0:
        steps.append("ask the person for a 小名 and relatives' names; ask the family the same")
    steps.append(
        "compare DNA: the found person's sample in the police database against the "
        "family's (parents' or siblings') samples"
    )
    steps.append(
        "check documents: the report's 户籍/ID records against the found person's "
        "fingerprints or ID photo, through the police"
    )
    return tuple(steps)
