"""Model files: round trip, validation that says what is wrong, versions."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from matching.evidence_model import (
    EvidenceModel,
    ModelFileError,
    Recalibration,
    next_version,
)
from matching.evidence_model.comparisons import standard_comparisons
from matching.evidence_model.model_file import params_from_json, params_to_json
from matching.evidence_model.recalibration import IDENTITY
from usecases.model_files import load_model, save_model


def _data(model: EvidenceModel) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(params_to_json(model.params)))
    return data


def test_default_model_loads_with_a_version_and_notes(default_model: EvidenceModel) -> None:
    assert default_model.version.startswith("fs-")
    assert default_model.params.notes["prior"]
    assert "asian_faces" in json.dumps(params_to_json(default_model.params))
    face = default_model.params.comparison("face")
    assert {s.label for s in face.strata} >= {"adult_recent", "child_to_adult"}


def test_round_trip(default_model: EvidenceModel, tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    save_model(default_model, path)
    again = load_model(path)
    assert again.version == default_model.version
    assert again.params.prior == pytest.approx(default_model.params.prior)
    for a, b in zip(again.params.comparisons, default_model.params.comparisons, strict=True):
        for sa, sb in zip(a.strata, b.strata, strict=True):
            assert sa.m == pytest.approx(sb.m, rel=1e-5)
            assert sa.u == pytest.approx(sb.u, rel=1e-5)
    assert not list(tmp_path.glob("*.tmp"))


def _break_version(d: dict[str, Any]) -> None:
    d["version"] = "v1"


def _break_sum(d: dict[str, Any]) -> None:
    d["comparisons"][2]["strata"][0]["m"]["same"] = 0.5


def _drop_level(d: dict[str, Any]) -> None:
    del d["comparisons"][2]["strata"][0]["u"]["different"]


def _drop_comparison(d: dict[str, Any]) -> None:
    d["comparisons"] = [c for c in d["comparisons"] if c["name"] != "age"]


def _rename_levels(d: dict[str, Any]) -> None:
    d["comparisons"][2]["levels"] = ["null", "yes", "no"]


def _bad_prior(d: dict[str, Any]) -> None:
    d["prior"]["lambda"] = 1.5


def _unknown_stratum(d: dict[str, Any]) -> None:
    d["comparisons"][0]["strata"][0]["label"] = "teenage"


def _older_strata(d: dict[str, Any]) -> None:
    hometown = next(c for c in d["comparisons"] if c["name"] == "hometown")
    hometown["strata"] = [s for s in hometown["strata"] if s["label"] == "all"]


def _text_probability(d: dict[str, Any]) -> None:
    d["comparisons"][2]["strata"][0]["m"]["same"] = "high"


def _negative_slope(d: dict[str, Any]) -> None:
    d["recalibration"] = {"slope": -0.5, "intercept": 0.0}


def _text_intercept(d: dict[str, Any]) -> None:
    d["recalibration"] = {"slope": 0.9, "intercept": "low", "decisions": 3}


def _fractional_decisions(d: dict[str, Any]) -> None:
    d["recalibration"] = {"slope": 0.9, "intercept": -3.0, "decisions": 2.5}


def _recalibration_list(d: dict[str, Any]) -> None:
    d["recalibration"] = [0.9, -3.0]


def _levels_not_a_list(d: dict[str, Any]) -> None:
    d["comparisons"][0]["levels"] = 5


def _name_a_list(d: dict[str, Any]) -> None:
    d["comparisons"][0]["name"] = ["face"]


def _label_a_list(d: dict[str, Any]) -> None:
    d["comparisons"][0]["strata"][0]["label"] = ["adult_recent"]


BROKEN = [
    (_break_version, "is not like 'fs-2026.11.28-1'"),
    (_break_sum, "sum to"),
    (_drop_level, "no probability for level(s) different"),
    (_drop_comparison, "no comparison 'age'"),
    (_rename_levels, "do not match the code's"),
    (_bad_prior, "prior.lambda"),
    (_unknown_stratum, "unknown stratum teenage"),
    (_older_strata, "no stratum grew_up_away (expected all, grew_up_away); a file from before"),
    (_text_probability, "expected a number, got str"),
    (_negative_slope, "recalibration.slope: -0.5 is outside"),
    (_text_intercept, "recalibration.intercept: expected a number, got str"),
    (_fractional_decisions, "recalibration.decisions: expected a count"),
    (_recalibration_list, "recalibration: expected an object"),
    (_levels_not_a_list, "levels must be a list"),
    (_name_a_list, "no comparison 'face'"),
    (_label_a_list, "no stratum adult_recent"),
]


@pytest.mark.parametrize(("breaking", "message"), BROKEN)
def test_validation_says_what_is_wrong(
    default_model: EvidenceModel, breaking: Any, message: str
) -> None:
    data = _data(default_model)
    breaking(data)
    with pytest.raises(ModelFileError) as caught:
        params_from_json(data, standard_comparisons(), source="test.json")
    assert message in str(caught.value)
    assert "test.json" in str(caught.value)


def test_all_problems_are_listed(default_model: EvidenceModel) -> None:
    data = _data(default_model)
    _break_version(data)
    _bad_prior(data)
    with pytest.raises(ModelFileError) as caught:
        params_from_json(data, standard_comparisons())
    assert len(caught.value.problems) == 2


def test_unreadable_files(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelFileError, match="not JSON"):
        load_model(tmp_path / "bad.json")
    with pytest.raises(ModelFileError, match="cannot read"):
        load_model(tmp_path / "missing.json")
    (tmp_path / "utf16.json").write_text('{"format": 1}', encoding="utf-16")
    with pytest.raises(ModelFileError, match="not UTF-8 text"):
        load_model(tmp_path / "utf16.json")


def test_next_version() -> None:
    day = date(2026, 11, 28)
    assert next_version("fs-2026.11.28-1", today=day) == "fs-2026.11.28-2"
    assert next_version("fs-2026.11.27-4", today=day) == "fs-2026.11.28-1"
    assert next_version(None, today=day) == "fs-2026.11.28-1"


def test_a_recalibration_round_trips_and_is_optional(
    default_model: EvidenceModel, tmp_path: Path
) -> None:
    assert default_model.params.recalibration == IDENTITY  # the shipped file has none
    recalibrated = replace(
        default_model.params,
        recalibration=Recalibration(0.87, -2.95, 1234),
        notes={**default_model.params.notes, "recalibration": "from reviewers"},
    )
    path = tmp_path / "model.json"
    save_model(default_model.with_params(recalibrated), path)
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert stored["recalibration"] == {
        "slope": 0.87, "intercept": -2.95, "decisions": 1234, "note": "from reviewers"
    }  # fmt: skip
    again = load_model(path).params
    assert again.recalibration == Recalibration(0.87, -2.95, 1234)
    assert again.notes["recalibration"] == "from reviewers"
    del stored["recalibration"]
    assert params_from_json(stored, standard_comparisons()).recalibration == IDENTITY
