"""Every operation of the OpenAPI, fuzzed by schemathesis against the app in process.

A bounded run (a fixed seed, derandomized, a few dozen cases an operation, one worker:
face detection must not run in several threads at once) on both back ends, with a
caller who names themselves (``XUNQIN_AUTH=header``) and one with an admin's token. No
answer may be a server error, and every answer must be documented: its status, its
content type, its body and headers. Schema-valid requests the model's own rules refuse
(a date in the future, a photo that is no image) are not counted: their 422 is
documented.

To see every failure of a longer run::

    XUNQIN_SCHEMATHESIS_EXAMPLES=100 .venv/bin/pytest tests/test_schemathesis.py -m slow -rA
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import schemathesis
from schemathesis.engine import events, from_schema
from schemathesis.python import asgi

from api.app import create_app
from records import Role, Side
from records.inputs import FoundFields, MissingFields
from records.storage.person_records import create_found, create_missing
from records.users import add_user
from usecases.rematch_job import rematch
from usecases.services import Services

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("XUNQIN_SCHEMATHESIS_EXAMPLES", "20"))
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "allow_header_conformance",
    "negative_data_rejection",
    "ignored_auth",
)


def _seed(services: Services, sample_photos: Path) -> None:
    """A report and a found person with the same face, and their candidate: ids 1 are
    the first a fuzzer tries, so reads, charts and photos answer 200 too."""
    with services.database.session() as session:
        create_missing(session, MissingFields(ref="M1", name="刘建华", birth_year=1962))
        create_found(session, FoundFields(ref="F1", name="牛建华", age_min=58, age_max=66))
    for side, ref, photo in ((Side.MISSING, "M1", "obama.jpg"), (Side.FOUND, "F1", "obama2.jpg")):
        services.ingestor.add_photo(side, ref, (sample_photos / photo).read_bytes(), actor="t")
    rematch(services.database, face_indexes=services.face_indexes,
            face_model=services.face_model.name)  # fmt: skip


def _run(services: Services, headers: dict[str, str]) -> tuple[int, Counter[str], list[str]]:
    """Cases sent, failures by operation and check, and one example of each."""
    config = schemathesis.Config.from_dict({
        "seed": 17,
        "workers": 1,
        "continue-on-failure": True,
        "cache": {"enabled": False},
        "headers": headers,
        "generation": {"max-examples": EXAMPLES, "deterministic": True},
        "phases": {"stateful": {"enabled": False}},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
    })  # fmt: skip
    app = create_app(services)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    cases, failures, examples = 0, Counter[str](), []
    try:
        for event in from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                recorder = event.recorder
                cases += len(recorder.interactions)
                for checks in recorder.checks.values():
                    for check in checks:
                        if check.failure_info is None:
                            continue
                        key = f"{recorder.label}: {check.name}"
                        if not failures[key]:
                            examples.append(f"{key}\n{check.failure_info.code_sample}")
                        failures[key] += 1
            elif isinstance(event, events.NonFatalError):
                key = f"{event.label}: {type(event.value).__name__} (a server error)"
                if not failures[key]:
                    examples.append(f"{key}\n{event.info.message}")
                failures[key] += 1
            elif isinstance(event, events.FatalError):
                raise event.exception
    finally:
        # The app's lifespan (started by schemathesis) ends before its store goes.
        asgi.shutdown_lifespans()
    return cases, failures, examples


@pytest.mark.parametrize("auth", ["header", "tokens"])
def test_no_operation_answers_a_server_error_or_anything_undocumented(
    auth: str,
    database_url: str,
    make_services: Callable[..., Services],
    sample_photos: Path,
) -> None:
    if auth == "header" and not database_url.startswith("sqlite"):
        # The back end's refusals are the same in both modes: once on PostgreSQL (with
        # tokens, the stricter mode) keeps the suite's time.
        pytest.skip("header mode runs on SQLite; PostgreSQL runs the tokens mode")
    services = make_services(database_url, auth=auth)
    _seed(services, sample_photos)
    headers = {}
    if auth == "tokens":
        with services.database.session() as session:
            token = add_user(session, "admin", Role.ADMIN).token
        headers["Authorization"] = f"Bearer {token}"
    cases, failures, examples = _run(services, headers)
    assert cases > 20 * EXAMPLES, f"only {cases} cases were sent"
    assert not failures, f"{sum(failures.values())} failures of {cases} cases:\n" + "\n\n".join(
        examples
    )
