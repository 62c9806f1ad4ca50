"""The ``xunqin`` command line.

Every command reads the same settings as the API (``XUNQIN_HOME``,
``XUNQIN_DATABASE_URL``); answers meant for programs go to standard output as JSON,
JSONL or CSV, and progress and messages go to standard error.
"""

from __future__ import annotations

import csv
import json
import logging
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.services import Services
from api.settings import Settings, get_settings
from indexes import FaceIntakeError, SeveralFacesFoundError
from records import CandidateStatus, RecordsError, Sex, Side

app = typer.Typer(
    name="xunqin",
    help="xunqin 寻亲: match people in rescue stations' care with missing-person reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, soft_wrap=True)  # messages are read by scripts too: no wrapping


class KindOption(StrEnum):
    """Which kind of record a file holds."""

    missing = "missing"
    found = "found"


class FormatOption(StrEnum):
    """Output formats for candidate lists."""

    jsonl = "jsonl"
    csv = "csv"


def _services() -> Services:
    return Services(get_settings())


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


def _progress(description: str) -> Progress:
    return Progress(
        TextColumn(description),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="a .jsonl or .csv file (UTF-8)")],
    kind: Annotated[KindOption, typer.Option("--kind", help="missing or found")],
    actor: Annotated[str, typer.Option(help="who is importing, for the audit log")] = "cli",
) -> None:
    """Import reports or found persons; bad rows are reported, the rest imported."""
    services = _services()
    try:
        with _progress(f"importing {file.name}") as bar:
            task = bar.add_task("rows", total=None)
            report = services.ingestor.import_file(
                file, kind.value, actor=actor, progress=lambda n, _: bar.update(task, completed=n)
            )
    except RecordsError as error:
        raise _fail(str(error)) from error
    finally:
        services.close()
    for problem in report.errors:
        err.print(f"[yellow]line {problem.line}:[/yellow] {problem.message}")
    for line, name, problem in report.photo_problems:
        err.print(f"[yellow]line {line}, photo {name}:[/yellow] {problem}")
    summary = report.to_json()
    typer.echo(json.dumps({k: summary[k] for k in ("rows", "records", "photos")}))
    err.print(
        f"{report.rows} rows: {dict(report.changes)}; photos {dict(report.photos)}; "
        f"{len(report.errors)} bad row(s)"
    )


@app.command()
def rematch() -> None:
    """Score every report against every found person and store the best candidates."""
    from matching.rematch import RematchSettings
    from matching.rematch import rematch as run_rematch

    services = _services()
    try:
        with _progress("re-matching") as bar:
            task = bar.add_task("pairs", total=None)
            report = run_rematch(
                services.database,
                face_indexes=services.face_indexes,
                face_model=services.face_model.name,
                settings=RematchSettings(keep_per_record=services.settings.keep_per_record),
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    finally:
        services.close()
    typer.echo(json.dumps(report.__dict__))


_CSV_HEADER = ("missing_ref", "found_ref", "score", "probability", "rank", "status")


def _candidate_row(ranked: Any) -> dict[str, Any]:
    candidate = ranked.candidate
    return {
        "missing_ref": candidate.missing.ref,
        "found_ref": candidate.found.ref,
        "score": round(candidate.score, 4),
        "probability": candidate.probability,
        "rank": ranked.rank,
        "status": candidate.status.value,
        "model_version": candidate.model_version,
        "summary": candidate.evidence.get("summary"),
    }


@app.command()
def candidates(
    format: Annotated[FormatOption, typer.Option("--format")] = FormatOption.jsonl,
    status: Annotated[CandidateStatus | None, typer.Option(help="only this status")] = None,
    max_rank: Annotated[int | None, typer.Option(help="only ranks up to this")] = None,
    evidence: Annotated[bool, typer.Option(help="include the per-signal breakdown")] = False,
) -> None:
    """List stored candidates, best first, with their rank for the found person."""
    from records.repository import list_candidates

    services = _services()
    try:
        with services.database.session() as session:
            rows = list_candidates(session, status=status, max_rank=max_rank, limit=None)
            out = []
            for ranked in rows:
                row = _candidate_row(ranked)
                if evidence:
                    row["evidence"] = ranked.candidate.evidence
                out.append(row)
    finally:
        services.close()
    if format is FormatOption.jsonl:
        for row in out:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    fieldnames = list(out[0]) if out else list(_CSV_HEADER)
    writer = csv.DictWriter(sys.stdout, fieldnames=fieldnames)
    writer.writeheader()
    for row in out:
        writer.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v
                         for k, v in row.items()})  # fmt: skip


@app.command("search-photo")
def search_photo(
    photo: Annotated[Path, typer.Argument(help="a photo of the person")],
    side: Annotated[Side, typer.Option(help="search reports (missing) or found persons")] = (
        Side.MISSING
    ),
    k: Annotated[int, typer.Option(min=1, max=100)] = 10,
    face_no: Annotated[int | None, typer.Option(help="which face, if several")] = None,
) -> None:
    """The records whose faces are nearest the face in PHOTO, as JSON."""
    from matching.search import search_by_photo

    services = _services()
    try:
        data = photo.read_bytes()
        result = search_by_photo(
            services.database,
            services.face_model,
            services.face_indexes,
            data,
            side=side,
            k=k,
            face_no=face_no,
            limits=services.image_limits,
        )
    except OSError as error:
        raise _fail(f"cannot read {photo}: {error.strerror}") from error
    except SeveralFacesFoundError as error:
        typer.echo(
            json.dumps({"error": "several_faces", "faces": [f.__dict__ for f in error.faces]})
        )
        raise _fail(f"{error}: ask again with --face-no N", 3) from error
    except FaceIntakeError as error:
        raise _fail(str(error), 2) from error
    finally:
        services.close()
    typer.echo(
        json.dumps(
            {
                "side": side.value,
                "face": result.face.__dict__,
                "faces_in_photo": result.faces_in_photo,
                "hits": [
                    {
                        "ref": h.ref,
                        "name": h.name,
                        "distance": round(h.distance, 4),
                        "level": h.evidence.level,
                        "weight": h.evidence.weight,
                    }
                    for h in result.hits
                ],
            },
            ensure_ascii=False,
        )
    )


@app.command("search-name")
def search_name(
    name: Annotated[str, typer.Argument(help="the name as heard or written")],
    sex: Annotated[str | None, typer.Option(help="M/F or 男/女")] = None,
    birth_year: Annotated[int | None, typer.Option("--birth-year")] = None,
    k: Annotated[int, typer.Option(min=1, max=100)] = 10,
) -> None:
    """The reports whose names fit NAME best, as JSON, each with the level and why."""
    from matching.search import search_by_name
    from records.importing import parse_sex

    services = _services()
    try:
        hits = search_by_name(
            services.database, name, sex=parse_sex(sex) if sex else Sex.UNKNOWN,
            birth_year=birth_year, k=k,
        )  # fmt: skip
    except (ValueError, RecordsError) as error:
        raise _fail(str(error)) from error
    finally:
        services.close()
    typer.echo(json.dumps([hit.__dict__ for hit in hits], ensure_ascii=False))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Serve the API and the reviewer page (OpenAPI docs at /docs)."""
    import uvicorn

    from api.app import create_app

    settings = get_settings()
    uvicorn.run(create_app(), host=host or settings.host, port=port or settings.port)


@app.command()
def demo(
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve")] = True,
    faces_dir: Annotated[Path | None, typer.Option(help="folder of development photos")] = None,
) -> None:
    """Build a small demo set with real faces, import it, re-match, show, then serve."""
    from api.demo import run_demo

    settings = get_settings()
    run_demo(settings, faces_dir=faces_dir, console=err)
    if serve_after:
        err.print(
            f"serving on http://{settings.host}:{settings.port}/ (reviewer page), "
            f"/docs (API); Ctrl-C stops"
        )
        serve(None, None)


def main() -> None:
    """Entry point of the ``xunqin`` command."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()


__all__ = ["Settings", "app", "main"]
