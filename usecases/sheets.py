"""Importing a station's or a platform's sheet: all of it, or nothing, audited once.

The rules (photos only from the sheet's folder, every row checked first, faces read
before the one transaction) are the ingestor's (``usecases.intake``).
"""

from __future__ import annotations

from pathlib import Path

from records.importing import Kind
from usecases.intake import ImportReport, Progress
from usecases.services import Services


def import_sheet(
    services: Services,
    path: Path,
    kind: Kind,
    *,
    actor: str,
    photos_dir: Path | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import every row of a JSONL or CSV sheet, or refuse it whole
    (``ImportRefusedError`` lists every rejected row by line)."""
    return services.ingestor.import_file(
        path, kind, actor=actor, photos_dir=photos_dir, progress=progress
    )
