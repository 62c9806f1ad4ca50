"""``xunqin demo``: build the demo set, import it, re-match and show the best candidates."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console

from evaluation.demo_data import build_demo_set
from usecases.explaining import Explanations
from usecases.reading import candidates_page
from usecases.rematching import rematch_all
from usecases.services import Services
from usecases.settings import Settings
from usecases.sheets import import_sheet


def run_demo(settings: Settings, *, faces_dir: Path | None, console: Console) -> None:
    """Run the whole path once on the demo set and print what a reviewer would see."""
    folders = [settings.sample_photos_dir]
    shared = faces_dir or settings.faces_dir
    if (shared / "asian_faces").is_dir():
        folders.append(shared / "asian_faces")
    if not settings.sample_photos_dir.is_dir():
        console.print(
            f"[yellow]no sample photos at {settings.sample_photos_dir}[/yellow]: "
            "run `make demo` (it fetches them) or set XUNQIN_SAMPLE_PHOTOS_DIR"
        )
    demo = build_demo_set(settings.home / "demo", folders)
    console.print(
        f"demo set: {demo.missing_file.parent} ({len(demo.true_pairs)} true pairs, "
        f"{demo.photo_identities} with real face photos; photo folders: "
        + ", ".join(str(f) for f in folders if f.is_dir())
        + ")"
    )
    services = Services(settings)
    try:
        started = time.perf_counter()
        for path, kind in ((demo.missing_file, "missing"), (demo.found_file, "found")):
            report = import_sheet(services, path, kind, actor="demo")  # type: ignore[arg-type]
            console.print(
                f"imported {path.name}: {dict(report.changes)}; photos {dict(report.photos)}"
            )
        imported = time.perf_counter()
        result = rematch_all(services, actor="demo")
        matched = time.perf_counter()
        console.print(
            f"import took {imported - started:.1f} s; re-match took {matched - imported:.2f} s "
            f"({result.pairs_scored} pairs scored, {result.kept} candidates kept)"
        )
        truth = set(demo.true_pairs)
        with services.database.session() as session:
            rows, _ = candidates_page(session, actor="demo", max_rank=1, limit=None)
            explanations = Explanations(session, services.evidence_model)
            console.rule("Top candidate of each found person")
            hits = 0
            for ranked in rows:
                c = ranked.candidate
                is_true = (c.missing.ref, c.found.ref) in truth
                hits += is_true
                console.print(
                    f"[bold]{c.found.ref} {c.found.name or '（无名）'}[/bold] -> "
                    f"{c.missing.ref} {c.missing.name or ''}  score {c.score:+.1f}  "
                    f"p={c.probability or 0:.3f}  {'[green]true pair[/green]' if is_true else ''}"
                )
                evidence = explanations.of(c).to_json()
                for signal in evidence["signals"]:
                    console.print(
                        f"    {signal['signal']:<5} {signal['weight']:+5.1f}  {signal['detail']}"
                    )
                console.print(f"    [dim]{evidence['summary']}[/dim]")
                sharing = (evidence.get("competition") or {}).get("reason")
                if sharing:
                    console.print(f"    [dim]shared: {sharing}[/dim]")
        console.print(f"{hits} of {len(truth)} true pairs ranked first for their found person")
    finally:
        services.close()
