"""Many clients at once against a real ``xunqin serve`` process: it answers, it stays up.

Two photo uploads or searches meeting inside dlib used to crash the server (SIGSEGV or
heap corruption) within seconds; faces are now read by worker processes. This runs the
project's load test briefly, on each back end, as officers, reviewers and readers would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.bench.load import LoadConfig, run_load


@pytest.mark.slow
def test_officers_reviewers_and_readers_at_once_get_answers_and_the_server_stays_up(
    database_url: str, tmp_path: Path, sample_photos: Path
) -> None:
    config = LoadConfig(seconds=10, officers=3, reviewers=2, readers=1, missing=60, found=30,
                        photo_records=12, face_workers=2, database_url=database_url)  # fmt: skip
    home = tmp_path / "load-home"
    home.mkdir()
    result = run_load(config, home=home, tell=lambda _: None)
    assert result["server_alive"], result["server_log_tail"]
    assert result["errors"] == 0, result["error_examples"]
    operations = result["operations"]
    # The face work really ran side by side: searches and uploads both answered.
    assert operations["search_photo"]["statuses"].get("200", 0) > 0
    assert operations["upload_photo"]["statuses"].get("201", 0) > 0
    assert operations["decide"]["requests"] > 0
