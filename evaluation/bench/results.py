"""Where a benchmark's results go: ``<name>.json`` and ``<name>.md`` in one folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_results(out: Path, name: str, result: Any, markdown: str) -> Path:
    """Write ``result`` as JSON and ``markdown`` beside it under ``out`` (made if need
    be); the Markdown page's path."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    page = out / f"{name}.md"
    page.write_text(markdown, encoding="utf-8")
    return page
