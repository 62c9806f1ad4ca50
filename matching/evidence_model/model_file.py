"""Reading and writing a fitted model as versioned JSON, with errors that say what is wrong.

The file is the model: its version string is what every candidate records as
``model_version``, and its ``notes`` and ``history`` say where each number came from.
Layout (``format`` ``xunqin-evidence-model/1``)::

    {"format": ..., "version": "fs-2026.11.28-1", "description": ...,
     "prior": {"lambda": 0.0001, "note": ...},
     "term_frequency": {"minimum": 1e-07, "max_adjustment_bits": 8.0, "note": ...},
     "comparisons": [{"name": "face", "note": ..., "levels": ["null", "very_close", ...],
                      "tf_reference": {"exact": 0.0001},
                      "strata": [{"label": "adult_recent", "note": ...,
                                  "m": {"very_close": 0.2, ...}, "u": {...}}]}],
     "recalibration": {"slope": 0.9, "intercept": -3.0, "decisions": 1200, "note": ...},
     "notes": {...}, "history": [...]}

``recalibration`` (optional; absent means none) maps the summed log2 odds to calibrated
ones (:mod:`.recalibration`).

Loading checks everything against the comparisons the code implements (their names,
level labels and strata) and collects every problem before raising
:class:`ModelFileError`, so one run shows all that needs fixing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

from matching.evidence_model.face_curve import FaceCurve
from matching.evidence_model.params import (
    VERSION_PATTERN,
    ComparisonParams,
    ModelParams,
    StratumParams,
)
from matching.evidence_model.recalibration import IDENTITY, Recalibration
from matching.evidence_model.spec import Comparison

FORMAT: Final = "xunqin-evidence-model/1"
_SECTION_NOTES: Final = ("prior", "term_frequency", "recalibration")
"""Notes written inside their own section of the file, not under ``notes``."""
SUM_TOLERANCE: Final = 1e-3
"""m or u of a stratum may sum to one within this; they are then rescaled exactly."""


class ModelFileError(ValueError):
    """A model file that cannot be used; ``problems`` lists every reason."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        listed = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"model {source} is not valid:\n{listed}")


def params_to_json(params: ModelParams) -> dict[str, Any]:
    """The JSON-ready form of a model's parameters."""
    comparisons = []
    for comparison in params.comparisons:
        non_null = comparison.levels[1:]
        comparisons.append(
            {
                "name": comparison.name,
                "note": comparison.note,
                "levels": list(comparison.levels),
                "tf_reference": dict(comparison.tf_reference),
                "strata": [
                    {
                        "label": s.label,
                        "note": s.note,
                        "m": {k: _round(v) for k, v in zip(non_null, s.m, strict=True)},
                        "u": {k: _round(v) for k, v in zip(non_null, s.u, strict=True)},
                        **({"curve": s.curve.as_json()} if s.curve is not None else {}),
                    }
                    for s in comparison.strata
                ],
            }
        )
    return {
        "format": FORMAT,
        "version": params.version,
        "description": params.description,
        "prior": {"lambda": params.prior, "note": params.notes.get("prior", "")},
        "term_frequency": {
            "minimum": params.tf_minimum,
            "max_adjustment_bits": params.tf_max_adjustment,
            "note": params.notes.get("term_frequency", ""),
        },
        "comparisons": comparisons,
        "recalibration": {
            **params.recalibration.to_json(),
            "note": params.notes.get("recalibration", ""),
        },
        "notes": {k: v for k, v in params.notes.items() if k not in _SECTION_NOTES},
        "history": [dict(h) for h in params.history],
    }


def _round(value: float) -> float:
    return float(f"{value:.6g}")


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def number(self, value: object, where: str, *, low: float, high: float) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(where, f"expected a number, got {type(value).__name__}")
            return None
        number = float(value)
        if not (low < number <= high) or math.isnan(number):
            self.fail(where, f"{number} is outside ({low}, {high}]")
            return None
        return number

    def text(self, value: object, where: str, *, required: bool = False) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value):
            self.fail(where, "expected text")
            return ""
        return value


def _probabilities(
    check: _Checker, raw: object, labels: Sequence[str], where: str
) -> tuple[float, ...] | None:
    if not isinstance(raw, Mapping):
        check.fail(where, f"expected an object mapping each level ({', '.join(labels)}) to a "
                          "probability")  # fmt: skip
        return None
    missing = [k for k in labels if k not in raw]
    extra = [k for k in raw if k not in labels]
    if missing:
        check.fail(where, f"no probability for level(s) {', '.join(missing)}")
    if extra:
        check.fail(where, f"unknown level(s) {', '.join(map(str, extra))}")
    if missing or extra:
        return None
    values = [check.number(raw[k], f"{where}.{k}", low=0.0, high=1.0) for k in labels]
    if any(v is None for v in values):
        return None
    numbers = [float(v) for v in values if v is not None]
    total = sum(numbers)
    if abs(total - 1.0) > SUM_TOLERANCE:
        check.fail(where, f"probabilities sum to {total:.6f}, not 1")
        return None
    return tuple(v / total for v in numbers)


def _curve(check: _Checker, raw: object, where: str) -> FaceCurve | None:
    """A stratum's curve, if it has one (a face stratum fitted on labelled photos)."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        check.fail(where, "expected an object")
        return None
    try:
        curve = FaceCurve.from_json(raw)
    except (KeyError, TypeError, ValueError) as err:
        check.fail(where, f"not a face curve: {err}")
        return None
    if not all(math.isfinite(v) for v in (curve.intercept, curve.slope, curve.centre,
                                          curve.most, curve.least)):  # fmt: skip
        check.fail(where, "numbers must be finite")
        return None
    return curve


def _comparison(
    check: _Checker, raw: object, spec: Comparison, where: str
) -> ComparisonParams | None:
    if not isinstance(raw, Mapping):
        check.fail(where, "expected an object")
        return None
    labels = tuple(level.label for level in spec.levels)
    stated = raw.get("levels")
    if stated is not None and not isinstance(stated, list):
        check.fail(where, f"levels must be a list of the code's {list(labels)}")
        return None
    if stated is not None and tuple(stated) != labels:
        check.fail(where, f"levels {list(stated)} do not match the code's {list(labels)}")
        return None
    raw_strata = raw.get("strata")
    if not isinstance(raw_strata, list):
        check.fail(where, "expected a list of strata")
        return None
    by_label = {s.get("label"): s for s in raw_strata
                if isinstance(s, Mapping) and isinstance(s.get("label"), str)}  # fmt: skip
    wanted = [s.label for s in spec.strata]
    missing = [s for s in wanted if s not in by_label]
    extra = [str(s) for s in by_label if s not in wanted]
    if missing:
        check.fail(
            where, f"no stratum {', '.join(missing)} (expected {', '.join(wanted)}); a file "
            "from before the code had it: move the file aside (and unset XUNQIN_MODEL_FILE if "
            "it names it) and run `xunqin model refit`, which learns again from the store's "
            "decisions",
        )  # fmt: skip
    if extra:
        check.fail(where, f"unknown stratum {', '.join(extra)} (expected {', '.join(wanted)})")
    if len(by_label) != len(raw_strata):
        check.fail(where, "every stratum must be an object with a distinct label")
    strata = []
    for label in wanted:
        entry = by_label.get(label)
        if entry is None:
            continue
        here = f"{where}.strata[{label}]"
        m = _probabilities(check, entry.get("m"), labels[1:], f"{here}.m")
        u = _probabilities(check, entry.get("u"), labels[1:], f"{here}.u")
        note = check.text(entry.get("note"), f"{here}.note")
        curve = _curve(check, entry.get("curve"), f"{here}.curve")
        if m is not None and u is not None:
            strata.append(StratumParams(label, m, u, note, curve))
    tf_raw = raw.get("tf_reference") or {}
    tf: dict[str, float] = {}
    if not isinstance(tf_raw, Mapping):
        check.fail(f"{where}.tf_reference", "expected an object")
    else:
        adjusted = {level.label for level in spec.levels if level.tf_adjusted}
        for key, value in tf_raw.items():
            if key not in adjusted:
                check.fail(f"{where}.tf_reference", f"{key!r} is not a term-frequency level "
                                                     f"(those are {sorted(adjusted)})")  # fmt: skip
                continue
            number = check.number(value, f"{where}.tf_reference.{key}", low=0.0, high=1.0)
            if number is not None:
                tf[str(key)] = number
    if len(strata) != len(wanted):
        return None
    curved = [s.curve is not None for s in strata]
    if any(curved) and not all(curved):
        check.fail(
            where,
            "either every stratum has a curve or none does: "
            f"{', '.join(s.label for s in strata if s.curve is None)} has none",
        )
        return None
    return ComparisonParams(
        spec.name, labels, tuple(strata), MappingProxyType(tf),
        check.text(raw.get("note"), f"{where}.note"),
    )  # fmt: skip


def params_from_json(
    data: object, comparisons: Sequence[Comparison], *, source: str = "<json>"
) -> ModelParams:
    """Validate a parsed model file against the code's comparisons; ModelFileError if bad."""
    check = _Checker()
    if not isinstance(data, Mapping):
        raise ModelFileError(source, ["expected a JSON object at the top"])
    if data.get("format") != FORMAT:
        check.fail("format", f"expected {FORMAT!r}, got {data.get('format')!r}")
    version = data.get("version")
    if not isinstance(version, str) or not VERSION_PATTERN.match(version):
        check.fail("version", f"{version!r} is not like 'fs-2026.11.28-1'")
    prior_raw = data.get("prior")
    prior = None
    prior_note = ""
    if isinstance(prior_raw, Mapping):
        prior = check.number(prior_raw.get("lambda"), "prior.lambda", low=0.0, high=0.5)
        prior_note = check.text(prior_raw.get("note"), "prior.note")
    else:
        check.fail("prior", "expected an object with 'lambda'")
    tf_raw = data.get("term_frequency") or {}
    tf_minimum, tf_cap, tf_note = 1e-7, 8.0, ""
    if isinstance(tf_raw, Mapping):
        if "minimum" in tf_raw:
            tf_minimum = check.number(tf_raw["minimum"], "term_frequency.minimum",
                                      low=0.0, high=1.0) or tf_minimum  # fmt: skip
        if "max_adjustment_bits" in tf_raw:
            tf_cap = check.number(tf_raw["max_adjustment_bits"],
                                  "term_frequency.max_adjustment_bits", low=0.0,
                                  high=64.0) or tf_cap  # fmt: skip
        tf_note = check.text(tf_raw.get("note"), "term_frequency.note")
    else:
        check.fail("term_frequency", "expected an object")
    raw_list = data.get("comparisons")
    parsed: list[ComparisonParams] = []
    if not isinstance(raw_list, list):
        check.fail("comparisons", "expected a list")
        raw_list = []
    by_name = {c.get("name"): c for c in raw_list
               if isinstance(c, Mapping) and isinstance(c.get("name"), str)}  # fmt: skip
    for spec in comparisons:
        if spec.name not in by_name:
            check.fail("comparisons", f"no comparison {spec.name!r}")
            continue
        found = _comparison(check, by_name[spec.name], spec, f"comparisons[{spec.name}]")
        if found is not None:
            parsed.append(found)
    known = {c.name for c in comparisons}
    for name in by_name:
        if name not in known:
            check.fail("comparisons", f"unknown comparison {name!r} (known: {sorted(known)})")
    notes_raw = data.get("notes") or {}
    notes: dict[str, str] = {}
    if isinstance(notes_raw, Mapping):
        notes = {str(k): check.text(v, f"notes.{k}") for k, v in notes_raw.items()}
    else:
        check.fail("notes", "expected an object of texts")
    recalibration, recalibration_note = _recalibration(check, data.get("recalibration"))
    history = data.get("history") or []
    if not isinstance(history, list) or not all(isinstance(h, Mapping) for h in history):
        check.fail("history", "expected a list of objects")
        history = []
    if check.problems:
        raise ModelFileError(source, check.problems)
    if prior is None or not isinstance(version, str):  # pragma: no cover - checked above
        raise ModelFileError(source, ["prior or version missing"])
    notes["prior"] = prior_note
    notes["term_frequency"] = tf_note
    if recalibration_note:
        notes["recalibration"] = recalibration_note
    return ModelParams(
        version=version,
        prior=prior,
        comparisons=tuple(parsed),
        tf_minimum=tf_minimum,
        tf_max_adjustment=tf_cap,
        description=check.text(data.get("description"), "description"),
        notes=MappingProxyType(notes),
        history=tuple(MappingProxyType(dict(h)) for h in history),
        recalibration=recalibration,
    )


def _recalibration(check: _Checker, raw: object) -> tuple[Recalibration, str]:
    """The ``recalibration`` section: absent is none; numbers checked like the rest."""
    if raw is None:
        return IDENTITY, ""
    where = "recalibration"
    if not isinstance(raw, Mapping):
        check.fail(where, "expected an object with 'slope' and 'intercept'")
        return IDENTITY, ""
    slope = check.number(raw.get("slope"), f"{where}.slope", low=0.0, high=100.0)
    intercept = check.number(raw.get("intercept"), f"{where}.intercept", low=-1000.0, high=1000.0)
    decisions = raw.get("decisions", 0)
    if isinstance(decisions, bool) or not isinstance(decisions, int) or decisions < 0:
        check.fail(f"{where}.decisions", f"expected a count of decisions, got {decisions!r}")
        decisions = 0
    note = check.text(raw.get("note"), f"{where}.note")
    if slope is None or intercept is None:
        return IDENTITY, note
    return Recalibration(slope, intercept, decisions), note


def params_from_text(text: str, comparisons: Sequence[Comparison], *, source: str) -> ModelParams:
    """Parse and validate a model file's text (``source`` names it in the errors)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ModelFileError(source, [f"not JSON: {err}"]) from err
    return params_from_json(data, comparisons, source=source)


def params_as_text(params: ModelParams) -> str:
    """A model file's text: JSON, indented, UTF-8 ready."""
    return json.dumps(params_to_json(params), ensure_ascii=False, indent=2) + "\n"
