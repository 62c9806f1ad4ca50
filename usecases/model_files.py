"""Model files: the evidence model read from and written to disk (``home/model.json``, or
``XUNQIN_MODEL_FILE``). Parsing and checking the text is the model's own
(``matching.evidence_model``); the file is the use cases'.
"""

from __future__ import annotations

import os
from pathlib import Path

from matching.evidence_model import EvidenceModel, ModelFileError


def load_model(path: Path) -> EvidenceModel:
    """The model in a file (``ModelFileError`` says everything wrong with it)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as err:
        raise ModelFileError(str(path), [f"cannot read the file: {err}"]) from err
    except UnicodeDecodeError as err:
        raise ModelFileError(str(path), [f"not UTF-8 text: {err}"]) from err
    return EvidenceModel.from_text(text, source=str(path))


def save_model(model: EvidenceModel, path: Path) -> None:
    """Write the model atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(model.to_text(), encoding="utf-8")
    os.replace(tmp, path)
