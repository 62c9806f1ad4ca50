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
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from usecases.refusals import FACE_INTAKE, REFUSED, refusal_for
from usecases.services import Services
from usecases.settings import Settings, get_settings
from usecases.vocabulary import (
    CandidateStatus,
    FoundStatus,
    ImportRefusedError,
    LinkStatus,
    MissingStatus,
    PhotoQuery,
    RecordsError,
    Role,
    SeveralFacesFoundError,
    Sex,
    Side,
    parse_sex,
)

if TYPE_CHECKING:
    from usecases.accounts import NewUser

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


class ExecutorOption(StrEnum):
    """Where the re-match's blocks are scored."""

    local = "local"
    ray = "ray"


class FormatOption(StrEnum):
    """Output formats for candidate lists."""

    jsonl = "jsonl"
    csv = "csv"


def _services() -> Services:
    return Services(get_settings())


REFUSALS: tuple[type[Exception], ...] = (*REFUSED, RecordsError)
"""What a command turns into a message and an exit code (``usecases.refusals``' table)."""


def _refused(error: Exception) -> typer.Exit:
    """The refusal's message, as the API tells it; exit 2 for the photo itself (no face,
    unreadable, workers busy), 1 otherwise."""
    told = refusal_for(error)
    return _fail(told.message if told else str(error), 2 if isinstance(error, FACE_INTAKE) else 1)


def _fail(message: str, code: int = 1) -> typer.Exit:
    # The message is text, not markup: a [bracket] in it is printed as it is.
    err.print(f"[red]error:[/red] {escape(message)}")
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
    photos: Annotated[
        Path | None,
        typer.Option(
            "--photos",
            help="the folder the sheet's photos are in (default: the sheet's folder); "
            "no photo outside it is read, relative paths start there",
        ),
    ] = None,
    actor: Annotated[str, typer.Option(help="who is importing, for the audit log")] = "cli",
) -> None:
    """Import reports or found persons, all or nothing: a rejected row stores nothing."""
    from usecases.sheets import import_sheet

    with _services() as services:
        try:
            with _progress(f"importing {file.name}") as bar:
                task = bar.add_task("rows", total=None)
                report = import_sheet(
                    services,
                    file,
                    kind.value,
                    actor=actor,
                    photos_dir=photos,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
        except ImportRefusedError as error:
            for line, reason in error.rejected:
                err.print(f"[yellow]line {line}:[/yellow] {escape(reason)}")
            rejected = [{"line": line, "error": reason} for line, reason in error.rejected]
            typer.echo(json.dumps({"imported": False, "rows": error.rows, "rejected": rejected},
                                  ensure_ascii=False))  # fmt: skip
            raise _fail(str(error)) from error
        except REFUSALS as error:
            raise _refused(error) from error
    for line, name, problem in report.photo_problems:
        err.print(f"[yellow]line {line}, photo {name}:[/yellow] {problem}")
    summary = {"imported": True, "rows": report.rows, "records": dict(report.changes),
               "photos": dict(report.photos)}  # fmt: skip
    typer.echo(json.dumps(summary))
    err.print(f"{report.rows} rows: {dict(report.changes)}; photos {dict(report.photos)}")


@app.command()
def rematch(
    actor: Annotated[str, typer.Option(help="who runs it, for the audit log")] = "cli",
    full: Annotated[
        bool,
        typer.Option(
            "--full", help="score every pair again, not only those of new or changed records"
        ),
    ] = False,
    executor: Annotated[
        ExecutorOption | None,
        typer.Option(
            "--executor",
            help="local: blocks scored in processes here; ray: as tasks on Ray "
            "(default: XUNQIN_REMATCH_EXECUTOR, else local)",
        ),
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(
            "--address",
            help="the Ray cluster, e.g. ray://head:10001 (default: XUNQIN_RAY_ADDRESS, "
            "else a Ray instance started for the run)",
        ),
    ] = None,
) -> None:
    """重新比对：为新增或变更的记录打分并保存最佳候选 / Score the pairs of new and
    changed records (every pair with --full) and store the best candidates."""
    from usecases.ray_blocks import RayExecutorError
    from usecases.rematch_job import RematchAlreadyRunningError
    from usecases.rematching import rematch_all

    chosen = executor.value if executor is not None else get_settings().rematch_executor
    if address is not None and chosen != "ray":
        raise _fail("--address 只用于 Ray（--executor ray） / --address is for --executor ray")
    if not sys.stderr.isatty():
        # No bar to draw: progress goes to the log, a line every few seconds.
        logging.getLogger("usecases.rematch_job").setLevel(logging.INFO)
    try:
        with _services() as services, _progress("重新比对 re-matching") as bar:
            task = bar.add_task("blocks", total=None)
            report = rematch_all(
                services,
                actor=actor,
                full=full,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                executor=chosen,
                ray_address=address,
            )
    except RematchAlreadyRunningError as error:
        raise _fail(str(error), 3) from error
    except RayExecutorError as error:
        raise _fail(str(error)) from error
    typer.echo(json.dumps(report.__dict__, ensure_ascii=False))
    kind = "全量" if report.kind == "full" else "增量"
    where = "（在 Ray 上）" if report.executor == "ray" else ""
    guessed = f"（先粗筛 {report.pairs_guessed} 对）" if report.pairs_guessed else ""
    err.print(
        f"{kind}比对完成{where}：评分 {report.pairs_scored} 对{guessed}，保留候选 {report.kept} 个"
        f"（新增 {report.created}，更新 {report.updated}，删除 {report.removed}）"
    )


@app.command()
def jobs(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="how many runs, newest first")] = 20,
    actor: Annotated[str, typer.Option(help="who is reading, for the audit log")] = "cli",
) -> None:
    """比对任务：最近的重新比对及其进度 / The latest re-match runs and how far they got."""
    from usecases.jobs import KIND_WORDS, STATE_WORDS, rematch_jobs

    with _services() as services, services.database.session() as session:
        states = rematch_jobs(session, actor=actor, limit=limit)
    for state in states:
        typer.echo(json.dumps(state.to_json(), ensure_ascii=False))
        rate = f"，每秒 {state.pairs_per_second:,.0f} 对" if state.pairs_per_second else ""
        left = f"，约剩 {state.seconds_left:,.0f} 秒" if state.seconds_left is not None else ""
        err.print(
            f"#{state.id} {KIND_WORDS.get(state.kind, state.kind)} "
            f"{STATE_WORDS.get(state.state, state.state)}：块 {state.blocks_done}/"
            f"{state.blocks_total}，已评分 {state.pairs_scored:,} 对{rate}{left}"
        )
    if not states:
        err.print("还没有比对任务 / no re-match has run yet")


_CSV_HEADER = (
    "id", "missing_ref", "found_ref", "score", "probability", "rank", "status", "model_version",
    "summary", "shared",
)  # fmt: skip


def _candidate_row(ranked: Any, evidence: dict[str, Any]) -> dict[str, Any]:
    candidate = ranked.candidate
    return {
        "id": candidate.id,  # for `xunqin explain`
        "missing_ref": candidate.missing.ref,
        "found_ref": candidate.found.ref,
        "score": round(candidate.score, 4),
        "probability": candidate.probability,
        "rank": ranked.rank,
        "status": candidate.status.value,
        "model_version": candidate.model_version,
        "summary": evidence.get("summary"),
        "shared": (evidence.get("competition") or {}).get("reason"),
    }


@app.command()
def candidates(
    format: Annotated[FormatOption, typer.Option("--format")] = FormatOption.jsonl,
    status: Annotated[CandidateStatus | None, typer.Option(help="only this status")] = None,
    max_rank: Annotated[int | None, typer.Option(help="only ranks up to this")] = None,
    evidence: Annotated[bool, typer.Option(help="include the per-signal breakdown")] = False,
    actor: Annotated[str, typer.Option(help="who is reading, for the audit log")] = "cli",
) -> None:
    """List stored candidates, best first, with their rank for the found person."""
    from usecases.explaining import Explanations
    from usecases.reading import candidates_page

    with _services() as services:
        with services.database.session() as session:
            rows, _ = candidates_page(session, actor=actor, status=status, max_rank=max_rank,
                                      limit=None, with_evidence=evidence)  # fmt: skip
            explanations = Explanations(session, services.evidence_model)
            out = []
            for ranked in rows:
                explained = explanations.of(ranked.candidate).to_json()
                row = _candidate_row(ranked, explained)
                if evidence:
                    row["evidence"] = explained
                out.append(row)
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


@app.command("rematch-found")
def rematch_found(
    actor: Annotated[str, typer.Option(help="who runs it, for the audit log")] = "cli",
) -> None:
    """Weigh found persons against each other (the same person at two stations, or at one
    years apart) and store each one's best links for review."""
    from usecases.found_links import rematch_found_links

    with _services() as services, _progress("found against found") as bar:
        task = bar.add_task("pairs", total=None)
        report = rematch_found_links(
            services,
            actor=actor,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    typer.echo(json.dumps(report.__dict__))


_LINK_CSV_HEADER = (
    "id", "earlier_ref", "later_ref", "score", "probability", "status", "verdict",
    "model_version", "summary",
)  # fmt: skip


@app.command("found-links")
def found_links(
    format: Annotated[FormatOption, typer.Option("--format")] = FormatOption.jsonl,
    found: Annotated[str | None, typer.Option(help="only this found person's links (ref)")] = None,
    status: Annotated[LinkStatus | None, typer.Option(help="only this status")] = None,
    evidence: Annotated[bool, typer.Option(help="include the per-signal breakdown")] = False,
    actor: Annotated[str, typer.Option(help="who is reading, for the audit log")] = "cli",
) -> None:
    """List links between found persons who may be one person, best first."""
    from usecases.found_link_review import links_page

    with _services() as services:
        try:
            with services.database.session() as session:
                rows, _ = links_page(session, actor=actor, found_ref=found, status=status,
                                     limit=None, with_evidence=evidence)  # fmt: skip
                out = []
                for link in rows:
                    earlier, later = link.stays
                    row: dict[str, Any] = {
                        "id": link.id, "earlier_ref": earlier.ref, "later_ref": later.ref,
                        "score": round(link.score, 4), "probability": link.probability,
                        "status": link.status.value, "verdict": link.status.words,
                        "model_version": link.model_version,
                        "summary": link.evidence.get("summary"),
                    }  # fmt: skip
                    if evidence:
                        row["evidence"] = link.evidence
                    out.append(row)
        except REFUSALS as error:
            raise _refused(error) from error
    if format is FormatOption.jsonl:
        for row in out:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=list(out[0]) if out else list(_LINK_CSV_HEADER))
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
    sex: Annotated[str | None, typer.Option(help="M/F or 男/女; unknown sex passes")] = None,
    region: Annotated[
        str | None, typer.Option(help="where missing (or found), e.g. 四川 or 南充市")
    ] = None,
    hometown: Annotated[str | None, typer.Option(help="the hometown, e.g. 四川")] = None,
    station: Annotated[str | None, typer.Option(help="a station (found persons)")] = None,
    age_min: Annotated[
        int | None, typer.Option(help="estimated age in the photo, lowest (alone: the age)")
    ] = None,
    age_max: Annotated[
        int | None, typer.Option(help="estimated age in the photo, highest (alone: the age)")
    ] = None,
    photo_year: Annotated[
        int | None, typer.Option(help="when taken (searching reports: this year if left out)")
    ] = None,
    birth_year: Annotated[
        int | None, typer.Option(help="searching found persons: the birth year the family knows")
    ] = None,
    actor: Annotated[str, typer.Option(help="who is searching, for the audit log")] = "cli",
) -> None:
    """The open records that best fit the person in PHOTO, one hit a person, as JSON.

    The nearest faces are weighed on face, sex and age (--sex, --age-min/--age-max,
    --photo-year and, searching found persons, --birth-year describe the person in the
    photo); each hit has its probability, shared with the other hits, and its evidence in
    one sentence. "photo_year" in the answer is the year the photo was taken as.
    """
    from usecases.face_registry import FaceFilter
    from usecases.searching import search_by_photo

    with _services() as services:
        try:
            data = photo.read_bytes()
            known_sex = parse_sex(sex) if sex else None
            where = FaceFilter(sex=known_sex, region=region, hometown=hometown,
                               station=station)  # fmt: skip
            query = PhotoQuery(sex=known_sex or Sex.UNKNOWN, age_min=age_min, age_max=age_max,
                               photo_year=photo_year, birth_year=birth_year)  # fmt: skip
            result = search_by_photo(services, data, actor=actor, side=side, k=k,
                                     face_no=face_no, where=where, query=query)  # fmt: skip
        except OSError as error:
            raise _fail(f"cannot read {photo}: {error.strerror}") from error
        except ValueError as error:
            raise _fail(str(error)) from error
        except SeveralFacesFoundError as error:
            typer.echo(
                json.dumps({"error": "several_faces", "faces": [f.__dict__ for f in error.faces]})
            )
            raise _fail(f"{error}: ask again with --face-no N", 3) from error
        except REFUSALS as error:
            raise _refused(error) from error
    typer.echo(
        json.dumps(
            {
                "side": side.value,
                "face": result.face.__dict__,
                "faces_in_photo": result.faces_in_photo,
                "photo_year": result.photo_year,
                "hits": [
                    {
                        "ref": h.ref,
                        "name": h.name,
                        "photo_id": h.photo_id,
                        "distance": round(h.distance, 4),
                        "level": h.face.level,
                        "weight": round(h.face.weight, 4),
                        "probability": round(h.score.probability, 6),
                        "summary": h.score.summary(),
                        "why": [
                            f"{s.signal}: {s.detail} ({s.weight:+.1f})"
                            for s in h.score.signals
                            if s.level != "null"
                        ],
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
    accent: Annotated[str | None, typer.Option(help="accent heard, e.g. 四川 or 四川口音")] = None,
    sex: Annotated[str | None, typer.Option(help="M/F or 男/女")] = None,
    birth_year: Annotated[int | None, typer.Option("--birth-year")] = None,
    k: Annotated[int, typer.Option(min=1, max=100)] = 10,
    actor: Annotated[str, typer.Option(help="who is searching, for the audit log")] = "cli",
) -> None:
    """The reports whose names fit NAME best, as JSON, each with the level and why."""
    from usecases.searching import search_by_name

    with _services() as services:
        try:
            hits = search_by_name(services, name, actor=actor, accent=accent,
                                  sex=parse_sex(sex) if sex else Sex.UNKNOWN,
                                  birth_year=birth_year, k=k)  # fmt: skip
        except ValueError as error:
            raise _fail(str(error)) from error
        except REFUSALS as error:
            raise _refused(error) from error
    typer.echo(json.dumps([hit.__dict__ for hit in hits], ensure_ascii=False))


_CLOSED = {Side.MISSING: MissingStatus.CLOSED, Side.FOUND: FoundStatus.CLOSED}
_OPEN = {Side.MISSING: MissingStatus.OPEN, Side.FOUND: FoundStatus.IN_CARE}


def _set_status(side: Side, ref: str, status: str | None, actor: str, default: str) -> None:
    from usecases.cases import set_record_status

    with _services() as services:
        try:
            enum_type = MissingStatus if side is Side.MISSING else FoundStatus
            try:
                new = enum_type(status or default)
            except ValueError as error:
                choices = ", ".join(s.value for s in enum_type)
                raise _fail(f"{side.value} status must be one of {choices}") from error
            record = set_record_status(services.database, services.face_indexes, side, ref, new,
                                       actor=actor)  # fmt: skip
        except REFUSALS as error:
            raise _refused(error) from error
    typer.echo(json.dumps({"side": side.value, "ref": record.ref, "status": record.status.value}))


@app.command()
def close(
    ref: Annotated[str, typer.Argument(help="the record's reference")],
    kind: Annotated[KindOption, typer.Option("--kind", help="missing or found")],
    status: Annotated[
        str | None,
        typer.Option(help="reunited or closed (missing); identified or closed (found)"),
    ] = None,
    actor: Annotated[str, typer.Option(help="who is closing, for the audit log")] = "cli",
) -> None:
    """Close a case: it leaves face search, re-matching and the candidate lists."""
    side = Side(kind.value)
    _set_status(side, ref, status, actor, _CLOSED[side].value)


@app.command()
def erase(
    refs: Annotated[list[str] | None, typer.Argument(help="the records' references")] = None,
    kind: Annotated[KindOption, typer.Option("--kind", help="missing or found")] = (
        KindOption.missing
    ),
    closed_days: Annotated[
        int | None,
        typer.Option(min=0, help="also every closed case unchanged for this many days"),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="erase; without it, only list")] = False,
    actor: Annotated[str, typer.Option(help="who is erasing, for the audit log")] = "cli",
) -> None:
    """Erase records for good, with their photos, faces, candidates and decisions.

    Lists what would go unless --yes is given. --closed-days N also takes every closed
    case unchanged for N days: a retention sweep.
    """
    from usecases.erasure import Erasure, closed_unchanged_for, erase_records

    side = Side(kind.value)
    chosen = list(dict.fromkeys(refs or []))
    if not chosen and closed_days is None:
        raise _fail("name the records to erase, or give --closed-days")
    done = Erasure()
    complete = False
    services = _services()
    try:
        if closed_days is not None:
            closed = closed_unchanged_for(services.database, side, days=closed_days)
            chosen += [ref for ref in closed if ref not in chosen]
        if yes:
            with _progress("erasing") as bar:
                task = bar.add_task("records", total=len(chosen))
                erase_records(
                    services.database, services.face_indexes, side, chosen, actor=actor,
                    photo_store=services.photo_store, erasure=done,
                    progress=lambda n, total: bar.update(task, completed=n, total=total),
                )  # fmt: skip
        complete = True
    finally:
        if yes:
            # Also when stopped midway (an error, Ctrl-C): what is gone must be said.
            erased = [{"ref": ref, "photos": len(record.photos), "candidates": record.candidates}
                      for ref, record in done.erased.items()]  # fmt: skip
            typer.echo(json.dumps({"side": side.value, "erased": erased, "complete": complete,
                                   "not_found": done.not_found}, ensure_ascii=False))  # fmt: skip
        services.close()
    if not yes:
        typer.echo(json.dumps({"side": side.value, "would_erase": chosen}, ensure_ascii=False))
        err.print(f"{len(chosen)} record(s) would be erased; nothing was: add --yes to erase")
        return
    if done.not_found:
        raise _fail(f"no {side.value} record {', '.join(done.not_found)}")


@app.command()
def doctor(
    fix: Annotated[
        bool,
        typer.Option(
            "--fix",
            help="delete old orphan files, point rows at this store's own "
            "files, bring the face index in step with the store",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="the report as JSON")] = False,
    grace_minutes: Annotated[
        int,
        typer.Option(
            min=0,
            help="orphan files younger than this are left alone "
            "(an upload whose row is not committed yet)",
        ),
    ] = 60,
    quick: Annotated[
        bool, typer.Option("--quick", help="check that files exist, without reading them")
    ] = False,
    actor: Annotated[str, typer.Option(help="who is repairing, for the audit log")] = "cli",
) -> None:
    """Check the store, its photo files and its face index against each other.

    Reports missing and changed photo files, paths outside the photo folder, orphan
    files, and face index lag; --fix repairs what it can (audited, counts only). Exits
    1 while problems remain.
    """
    from datetime import timedelta

    from usecases.doctor import run_doctor
    from usecases.face_registry import FaceIndexes

    grace = timedelta(minutes=grace_minutes)
    with _services() as services:
        # Its own indexes, not the services': opening them would repair before checking.
        indexes = FaceIndexes(services.settings.index_dir, model=services.face_model.name)
        with _progress("checking photo files") as bar:
            task = bar.add_task("photos", total=None)
            report = run_doctor(
                services.database, services.photo_store, indexes, fix=fix, actor=actor,
                grace=grace, check_content=not quick,
                progress=lambda n, total: bar.update(task, completed=n, total=total),
            )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        for line in report.summary(grace=grace):
            typer.echo(line)
    if report.problems_left():
        raise typer.Exit(1)


@app.command()
def reopen(
    ref: Annotated[str, typer.Argument(help="the record's reference")],
    kind: Annotated[KindOption, typer.Option("--kind", help="missing or found")],
    actor: Annotated[str, typer.Option(help="who is reopening, for the audit log")] = "cli",
) -> None:
    """Reopen a closed case: it is searched and matched again."""
    side = Side(kind.value)
    _set_status(side, ref, None, actor, _OPEN[side].value)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Serve the API and the reviewer page (OpenAPI docs at /docs)."""
    import uvicorn

    from api.app import create_app

    settings = get_settings()
    address = host or settings.host
    if settings.auth_mode == "header" and not _is_loopback(address):
        raise _fail(
            f"refusing to serve on {address} while callers only name themselves: set "
            "XUNQIN_AUTH=tokens and add users (xunqin user add), or serve on 127.0.0.1"
        )
    uvicorn.run(create_app(), host=address, port=port or settings.port)


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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


user_app = typer.Typer(
    help="Users of the API (with XUNQIN_AUTH=tokens): add, list, new token, disable."
)
app.add_typer(user_app, name="user")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="the user's name, as the audit log shows it")],
    role: Annotated[Role, typer.Option(help="officer, reviewer or admin")],
) -> None:
    """Add a user and print their access token: it is shown this once, never kept."""
    from usecases.accounts import add_user

    _hand_over_token(lambda services: add_user(services.database, name, role, actor="cli"))


def _hand_over_token(issue: Callable[[Services], NewUser]) -> None:
    """Issue a token (one audited use case) and print it, this once."""
    with _services() as services:
        try:
            new = issue(services)
        except REFUSALS as error:
            raise _refused(error) from error
    shown = {"name": new.user.name, "role": new.user.role.value, "token": new.token}
    typer.echo(json.dumps(shown, ensure_ascii=False))
    err.print("Hand the token over privately: it is not stored and cannot be shown again.")


@user_app.command("list")
def user_list() -> None:
    """Every user: name, role, when added, whether disabled (never tokens)."""
    from usecases.accounts import list_users

    with _services() as services:
        rows = [
            {"name": u.name, "role": u.role.value, "created_at": u.created_at.isoformat(),
             "disabled": u.disabled_at is not None}
            for u in list_users(services.database)
        ]  # fmt: skip
    for row in rows:
        typer.echo(json.dumps(row, ensure_ascii=False))


@user_app.command("token")
def user_token(
    name: Annotated[str, typer.Argument(help="the user's name")],
    enable: Annotated[bool, typer.Option("--enable", help="also enable a disabled user")] = False,
) -> None:
    """Give a user a new access token, shown once; the old one stops working at once."""
    from usecases.accounts import issue_token

    _hand_over_token(
        lambda services: issue_token(services.database, name, actor="cli", enable=enable)
    )


@user_app.command("disable")
def user_disable(name: Annotated[str, typer.Argument(help="the user's name")]) -> None:
    """Disable a user: their token stops working at once."""
    from usecases.accounts import disable_user

    with _services() as services:
        try:
            disable_user(services.database, name, actor="cli")
        except REFUSALS as error:
            raise _refused(error) from error
    typer.echo(json.dumps({"name": name, "disabled": True}, ensure_ascii=False))


model_app = typer.Typer(help="The evidence model: show, refit from the store, calibrate faces.")
app.add_typer(model_app, name="model")


@model_app.command("show")
def model_show() -> None:
    """Print the model in use (version, prior, every comparison's levels) as JSON."""
    from usecases.refitting import model_in_use

    with _services() as services:
        typer.echo(model_in_use(services))


@model_app.command("refit")
def model_refit(
    out: Annotated[
        Path | None, typer.Option(help="where to write (default home/model.json)")
    ] = None,
    random_pairs: Annotated[int, typer.Option(help="random pairs for u")] = 200_000,
    seed: Annotated[int, typer.Option()] = 0,
    actor: Annotated[str, typer.Option(help="who refits, for the audit log")] = "cli",
) -> None:
    """Refit u on random pairs, m by EM, then learn reviewers' decisions."""
    from usecases.refitting import MIN_EM_PAIRS, refit

    with _services() as services:
        model, report, target = refit(services, actor=actor, out=out,
                                      random_pairs=random_pairs, seed=seed)  # fmt: skip
    if report.em_pairs == 0:
        err.print(f"m kept as it was: fewer than {MIN_EM_PAIRS} undecided candidates agree on "
                  "a rare name, too few for EM to learn from")  # fmt: skip
    err.print(f"model {model.version} written to {target}; run `xunqin rematch` to use it")
    typer.echo(json.dumps(report.__dict__, default=str, ensure_ascii=False))


@model_app.command("calibrate-faces")
def model_calibrate_faces(
    folder: Annotated[Path, typer.Argument(help="photos in <set>/<identity>/<photo> folders")],
    out: Annotated[
        Path | None, typer.Option(help="where to write (default home/model.json)")
    ] = None,
    actor: Annotated[str, typer.Option(help="who calibrates, for the audit log")] = "cli",
) -> None:
    """Fit the face levels on labelled photos and compare them with the 0.6 rule."""
    from dataclasses import asdict

    from usecases.refitting import calibrate_faces

    if not folder.is_dir():
        raise _fail(f"{folder} is not a folder")
    with _services() as services:
        model, check, target = calibrate_faces(services, folder, actor=actor, out=out)
    err.print(f"model {model.version} written to {target}; run `xunqin rematch` to use it")
    typer.echo(json.dumps(asdict(check), default=str, ensure_ascii=False))


@app.command()
def explain(
    candidate_id: Annotated[int, typer.Argument(help="the candidate's id")],
    out: Annotated[Path | None, typer.Option(help="write a waterfall chart (PNG + HTML)")] = None,
    actor: Annotated[str, typer.Option(help="who is reading, for the audit log")] = "cli",
) -> None:
    """A candidate's evidence, line by line, and optionally its waterfall chart."""
    from usecases.charts import render_waterfall
    from usecases.explaining import Explanations
    from usecases.reading import candidate

    with _services() as services:
        try:
            with services.database.session() as session:
                row = candidate(session, candidate_id, actor=actor)
                score = Explanations(session, services.evidence_model).of(row)
                title = f"{row.missing.ref} / {row.found.ref}"
        except REFUSALS as error:
            raise _refused(error) from error
    typer.echo(f"{title}  model {score.model_version}")
    typer.echo(f"  prior {score.prior_weight:+.1f}")
    for signal in score.signals:
        typer.echo(f"  {signal.signal:<9} {signal.weight:+5.1f}  {signal.detail}")
    calibrated = (
        f", {score.calibration.describe()}, to {score.calibrated_weight:+.1f}"
        if score.calibration is not None and score.calibrated
        else ""
    )
    shared = score.competition_text()
    # The probability closes the line that ends with the weight it is read from.
    probability = f"p={score.probability:.3f}"
    on_total = f"  {probability}" if shared is None else ""
    typer.echo(f"  total {score.total_weight:+.1f}{calibrated}{on_total}: {score.summary()}")
    if shared is not None:
        typer.echo(f"  shared: {shared}; to {score.final_weight:+.1f}, {probability}")
    for step in score.confirm_by:
        typer.echo(f"  to confirm: {step}")
    if out is not None:
        files = render_waterfall(score, out)
        err.print(f"waterfall: {files}")


class SizeOption(StrEnum):
    """Population sizes for ``xunqin eval``."""

    small = "small"
    default = "default"
    large = "large"


_SIZES = {
    SizeOption.small: (1000, 500, 200),
    SizeOption.default: (4000, 2000, 800),
    SizeOption.large: (20000, 10000, 3000),
}


@app.command("eval")
def eval_command(
    size: Annotated[SizeOption, typer.Option(help="population size")] = SizeOption.default,
    seed: Annotated[int, typer.Option(help="the generator's seed")] = 20261128,
    faces_dir: Annotated[
        Path | None, typer.Option(help="photos in <set>/<identity>/<photo> folders")
    ] = None,
    no_faces: Annotated[bool, typer.Option("--no-faces", help="records without photos")] = False,
    out: Annotated[Path, typer.Option(help="where dated report folders go")] = Path("reports"),
    from_decisions: Annotated[
        bool, typer.Option("--from-decisions", help="score reviewers' decisions in the store")
    ] = False,
) -> None:
    """Measure xunqin against the baselines on a generated population (or on decisions)."""
    from datetime import datetime

    from evaluation.report import write_report

    settings = get_settings()
    if from_decisions:
        from evaluation.from_decisions import decisions_scorecard

        with _services() as services:
            result = decisions_scorecard(services.database)
        counts = result.counts
        if counts["confirmed"] == 0:
            raise _fail("no confirmed candidates in the store yet: nothing to measure")
        folder = write_report(
            out, [result.card], title="xunqin on reviewers' decisions",
            context={"store": settings.resolved_database_url.split("@")[-1], **counts},
            mix=None, xunqin_scores=(result.confirmed_scores, result.rejected_scores),
            when=datetime.now(),
        )  # fmt: skip
        err.print(f"report: {folder / 'report.md'}")
        typer.echo(json.dumps({"report": str(folder), **counts}))
        return

    from evaluation.harness import EvalConfig, run_evaluation
    from evaluation.scorecard import Scorecard

    shared = faces_dir or settings.faces_dir
    use_faces = None if no_faces or not shared.is_dir() else shared
    n_missing, n_found, n_true = _SIZES[size]
    config = EvalConfig(seed=seed, n_missing=n_missing, n_found=n_found, n_true_pairs=n_true,
                        faces_dir=use_faces)  # fmt: skip
    run = run_evaluation(config, say=lambda message: err.print(message))
    truth = [(t.missing_ref, t.found_ref) for t in run.truth]
    labels = {t.found_ref: t.labels for t in run.truth}
    cards = [
        Scorecard.from_pairs(name, method.pairs, truth, labels,
                             probabilities=method.probabilities, seconds=method.seconds)
        for name, method in run.methods.items()
    ]  # fmt: skip
    true_set = set(truth)
    xunqin_pairs = run.methods["xunqin"].pairs
    scores = (
        [s for m, f, s in xunqin_pairs if (m, f) in true_set],
        [s for m, f, s in xunqin_pairs if (m, f) not in true_set],
    )
    context = {
        "size": f"{size.value}: {n_missing} reports, {n_found} found persons, {n_true} true pairs",
        "seed": seed,
        "photos": str(use_faces) if use_faces else "none",
        "scorer": run.scorer_version + " (against first-scorer-1)",
        "candidates kept per record": config.keep,
        **{f"seconds {k}": round(v, 1) for k, v in run.timings.items()},
        **run.counts,
    }
    learning = run.learning.figures(truth, labels) if run.learning is not None else None
    folder = write_report(out, cards, title="xunqin against the baselines", context=context,
                          mix=run.mix, xunqin_scores=scores, when=datetime.now(),
                          face_check=run.face_check, learning=learning)  # fmt: skip
    err.print(f"report: {folder / 'report.md'}")
    typer.echo(
        json.dumps(
            {"report": str(folder),
             **{c.name: {"R@10": c.recall_found.recall[10], "R@1": c.recall_found.recall[1]}
                for c in cards}}
        )
    )  # fmt: skip


def main() -> None:
    """Entry point of the ``xunqin`` command."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()


__all__ = ["Settings", "app", "main"]
