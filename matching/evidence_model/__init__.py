"""One calibrated, explainable score from every kind of evidence, learning from reviewers.

A Fellegi-Sunter model (as in splink): each comparison (face, name, sex, age, time,
height, place, hometown, marks, health) places a pair on ordered levels, null first;
each level carries m (chance for a true pair) and u (for different people); the score
is the prior plus the sum of ``log2(m/u)``, turned into a match probability, with every
term explained in a sentence.

Where the numbers come from: documented prior knowledge (:mod:`.priors`), face bins
calibrated on labelled photos (:mod:`.face_calibration`), u counted on random pairs and
m and the prior found by EM without labels (:mod:`.em`, :mod:`.refit`), then refined by
reviewers' confirmed and rejected pairs (:mod:`.decisions`), which also recalibrate the
summed log2 odds (:mod:`.recalibration`: comparisons are not independent, so the sum is
over-confident among shortlisted pairs). The fitted model is a versioned JSON file
(:mod:`.model_file`); ``default_model.json`` ships with the package.

Public surface::

    EvidenceModel.default() / .from_text(text, source=...) / .score(missing, found)
    waterfall_png(score) -> bytes, waterfall_html(score) -> str
    fit_em, estimate_u, refit_model, learn_from_decisions, fit_recalibration
    fit_face_bins, refit_face_calibration,
    compare_with_threshold_rule, with_face_calibration,
    fit_face_curves, with_face_curves, FaceCurve
"""

from matching.evidence_model.decisions import (
    LabelledPair,
    learn_from_decisions,
    recalibrate_from_vectors,
    update_from_vectors,
)
from matching.evidence_model.em import EMResult, estimate_u, fit_em, match_probabilities
from matching.evidence_model.explanation import (
    ComparisonEvidence,
    EvidenceScore,
    confirmation_steps,
)
from matching.evidence_model.face_calibration import (
    CalibrationCheck,
    FaceBinCalibration,
    LabelledEmbeddings,
    compare_with_threshold_rule,
    fit_face_bins,
    refit_face_calibration,
)
from matching.evidence_model.face_curve import FaceCurve
from matching.evidence_model.face_curve_fit import fit_face_curves
from matching.evidence_model.model import EvidenceModel
from matching.evidence_model.model_file import ModelFileError, params_as_text, params_from_text
from matching.evidence_model.params import (
    ComparisonParams,
    ModelParams,
    StratumParams,
    next_version,
)
from matching.evidence_model.priors import prior_params, with_face_calibration, with_face_curves
from matching.evidence_model.recalibration import Recalibration, fit_recalibration
from matching.evidence_model.refit import RefitReport, random_pairs, refit_model
from matching.evidence_model.spec import Comparison, LevelSpec, Outcome, StratumSpec
from matching.evidence_model.vectors import ComparisonVectors
from matching.evidence_model.waterfall import (
    WATERFALL_STYLE,
    waterfall_html,
    waterfall_png,
)

__all__ = [
    "WATERFALL_STYLE",
    "CalibrationCheck",
    "Comparison",
    "ComparisonEvidence",
    "ComparisonParams",
    "ComparisonVectors",
    "EMResult",
    "EvidenceModel",
    "EvidenceScore",
    "FaceBinCalibration",
    "FaceCurve",
    "LabelledEmbeddings",
    "LabelledPair",
    "LevelSpec",
    "ModelFileError",
    "params_as_text",
    "params_from_text",
    "ModelParams",
    "Outcome",
    "Recalibration",
    "RefitReport",
    "StratumParams",
    "StratumSpec",
    "compare_with_threshold_rule",
    "confirmation_steps",
    "estimate_u",
    "fit_em",
    "fit_face_bins",
    "fit_face_curves",
    "fit_recalibration",
    "learn_from_decisions",
    "match_probabilities",
    "next_version",
    "prior_params",
    "random_pairs",
    "recalibrate_from_vectors",
    "refit_face_calibration",
    "refit_model",
    "update_from_vectors",
    "waterfall_html",
    "waterfall_png",
    "with_face_calibration",
    "with_face_curves",
]
