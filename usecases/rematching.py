"""Re-matching: every open report against every person in care, both directions.

The overnight job and the command line's ``xunqin rematch`` both come here; the settings
of the job are read from the service's settings in one place.
"""

from __future__ import annotations

from dataclasses import replace

from usecases.auditing import audit_once
from usecases.rematch_job import Executor, Progress, RematchReport, RematchSettings, rematch
from usecases.services import Services
from usecases.settings import Settings


def rematch_settings(settings: Settings) -> RematchSettings:
    """What the re-match keeps and how far it reaches, from the service's settings."""
    return RematchSettings(
        keep_per_record=settings.keep_per_record,
        weak_name_budget=settings.weak_name_budget,
        pairs_per_person=settings.rematch_pairs_per_person or None,
        block_size=settings.rematch_block_size,
        workers=settings.rematch_workers,
        executor=settings.rematch_executor,
        ray_address=settings.ray_address,
    )


def rematch_all(
    services: Services,
    *,
    actor: str,
    progress: Progress | None = None,
    full: bool = False,
    executor: Executor | None = None,
    ray_address: str | None = None,
) -> RematchReport:
    """Score the pairs of new and changed records (every pair when ``full``), keep each
    record's best candidates and store them; audited with counts.

    ``executor`` and ``ray_address``, when given, take the settings' place for this run.
    """
    settings = rematch_settings(services.settings)
    if executor is not None:
        settings = replace(settings, executor=executor)
    if ray_address is not None:
        settings = replace(settings, ray_address=ray_address)
    report = rematch(
        services.database,
        face_indexes=services.face_indexes,
        face_model=services.face_model.name,
        settings=settings,
        scorer=services.evidence_model,
        progress=progress,
        full=full,
        actor=actor,
    )
    audit_once(services.database, actor=actor, action="rematch", subject_kind="job",
               detail={"run": report.run_id, "kind": report.kind, "executor": report.executor,
                       "reports": report.reports, "found_persons": report.found_persons,
                       "pairs_scored": report.pairs_scored, "kept": report.kept,
                       "created": report.created, "removed": report.removed})  # fmt: skip
    return report
