"""Refitting the evidence model on the store: u on random pairs, m by EM, then what
reviewers decided. The new model is written beside the store and used by the next
re-match; the refit is audited with its counts (never a record). Also: the model in use,
as JSON (``xunqin model show``)."""

from __future__ import annotations

import logging
from pathlib import Path

from matching.evidence_model import (
    EvidenceModel,
    compare_with_threshold_rule,
    fit_face_bins,
    fit_face_curves,
    refit_model,
    with_face_calibration,
    with_face_curves,
)
from matching.evidence_model.face_calibration import LABELLED_SETS, CalibrationCheck
from matching.evidence_model.face_curve_fit import CURVE_SETS, degraded_for_calibration
from matching.evidence_model.refit import MIN_EM_PAIRS, RefitReport
from usecases.auditing import audit_once
from usecases.face_folders import encode_face_folder
from usecases.labelled_store import read_store
from usecases.model_files import save_model as save_model_file
from usecases.services import Services

logger = logging.getLogger(__name__)

__all__ = ["MIN_EM_PAIRS", "calibrate_faces", "model_in_use", "refit", "save_model"]


def model_in_use(services: Services) -> str:
    """The model in use, as its JSON file holds it (version, prior, every comparison's
    levels); not audited: it holds no personal data."""
    return services.evidence_model.to_text()


def refit(
    services: Services,
    *,
    actor: str,
    out: Path | None = None,
    random_pairs: int = 200_000,
    seed: int = 0,
) -> tuple[EvidenceModel, RefitReport, Path]:
    """Refit the model in use and write it to ``out`` (default ``home/model.json``)."""
    views = read_store(services.database)
    model, report = refit_model(
        services.evidence_model, views.missing, views.found,
        candidate_pairs=views.candidates, decided=views.decided,
        n_random_pairs=random_pairs, seed=seed,
    )  # fmt: skip
    target = save_model(services, model, out)
    audit_once(services.database, actor=actor, action="refit", subject_kind="model",
               detail={"version": model.version, "random_pairs": report.random_pairs,
                       "em_pairs": report.em_pairs, "confirmed": report.confirmed,
                       "rejected": report.rejected})  # fmt: skip
    return model, report, target


def calibrate_faces(
    services: Services, folder: Path, *, actor: str, out: Path | None = None
) -> tuple[EvidenceModel, CalibrationCheck, Path]:
    """Refit the face levels and, where the folder has the photos for them (adults, East
    Asian people, photos named with ages), the face curves on a folder of labelled photos
    (``../shared/faces``'s layout), and write the model; also how the stock distance rule
    does on the same pairs. Without the photos for the curves, the model keeps its own."""
    sets = sorted({*LABELLED_SETS, *CURVE_SETS})
    embeddings = encode_face_folder(folder, services.face_model, sets=sets,
                                    degrade=degraded_for_calibration)  # fmt: skip
    # The bins and the check are of good photos; the poor ones feed the poor strata.
    good = embeddings.subset(~embeddings.poor_or_good())
    calibration = fit_face_bins(good)
    check = compare_with_threshold_rule(good)
    params = with_face_calibration(services.evidence_model.params, calibration)
    try:
        params = with_face_curves(params, fit_face_curves(embeddings))
    except ValueError as err:
        logger.warning("face curves kept as they were: %s", err)
    model = services.evidence_model.with_params(params)
    target = save_model(services, model, out)
    audit_once(services.database, actor=actor, action="calibrate_faces", subject_kind="model",
               detail={"version": model.version})  # fmt: skip
    return model, check, target


def save_model(services: Services, model: EvidenceModel, out: Path | None) -> Path:
    """Write the model where the next re-match reads it (default ``home/model.json``)."""
    target = out or services.settings.home / "model.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    save_model_file(model, target)
    return target
