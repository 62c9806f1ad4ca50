"""A bounded load test of ``xunqin serve`` on loopback: officers, reviewers and readers at once.

The server runs as its own process on a fresh home (SQLite, or the PostgreSQL database
given), seeded through the API with reports and found persons, some with the sample
photos, and re-matched so reviewers have candidates. Then, for a fixed time:

- officers search by photo and upload photos (face work, through the face workers);
- reviewers list pending candidates and decide one, naming the state they saw (a
  decision that lost a race answers 409, which is counted, not an error);
- readers list records and candidates and search by name.

Every answer is timed. An error is a 5xx, a refused connection or an answer that no
correct server gives to that request; a server that dies ends the run at once. The
result goes to ``load.json`` and ``load.md``; the exit status is 1 when there was any
error. Only 127.0.0.1 is ever contacted, and the run stops by itself.

    python -m evaluation.bench.load --seconds 600 --out bench/results
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
SAMPLE_PHOTOS = REPO / ".cache/face_recognition-1.3.0/tests/test_images"
PHOTO_NAMES = ("obama.jpg", "biden.jpg", "obama2.jpg", "obama3.jpg")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("建华", "秀英", "志强", "国栋", "淑芬", "明", "丽", "伟", "芳", "军", "桂英", "浩")

# What a correct server may answer each kind of request (anything else is an error).
EXPECTED: dict[str, set[int]] = {
    "search_photo": {200, 409, 422},  # 409: several faces; 422: no usable face
    "upload_photo": {201},
    "list_candidates": {200},
    "decide": {201, 409},  # 409: another reviewer decided first, or the case closed
    "list_records": {200},
    "read_record": {200},
    "read_candidate": {200, 404},  # 404: replaced by a re-match meanwhile
    "search_name": {200},
}


@dataclass
class Tally:
    """Every answer's kind, status and time, kept by the client threads."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, op: str, status: int, seconds: float) -> None:
        """Count one answer; an unexpected one is an error, with what it was."""
        with self.lock:
            self.times[op].append(seconds)
            self.statuses[op][status] += 1
            if status not in EXPECTED[op] and len(self.errors) < 50:
                self.errors.append(f"{op}: HTTP {status}")
            elif status not in EXPECTED[op]:
                self.errors.append("")  # counted, not described past 50

    def failure(self, op: str, error: Exception) -> None:
        """A request that got no answer at all."""
        with self.lock:
            self.errors.append(f"{op}: {type(error).__name__}")


@dataclass(frozen=True)
class LoadConfig:
    """How long, how many clients of each kind, and how much to seed."""

    seconds: float = 60.0
    officers: int = 2
    reviewers: int = 2
    readers: int = 2
    missing: int = 300
    found: int = 150
    photo_records: int = 40
    face_workers: int | None = None
    database_url: str | None = None
    seed: int = 7


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[position]


class Server:
    """``xunqin serve`` in its own process on a fresh home, on a free loopback port."""

    def __init__(
        self, home: Path, *, database_url: str | None = None, face_workers: int | None = None
    ) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "XUNQIN_HOME": str(home),
            "XUNQIN_AUTH": "header",
            "XUNQIN_ENVIRONMENT": "local",
        }
        self.env.pop("XUNQIN_DATABASE_URL", None)
        if database_url:
            self.env["XUNQIN_DATABASE_URL"] = database_url
        if face_workers is not None:
            self.env["XUNQIN_FACE_WORKERS"] = str(face_workers)
        self.log = home / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120.0) -> None:
        """Start and wait for /healthz."""
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "api", "serve", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive:
                raise RuntimeError(f"the server stopped at start:\n{self.tail()}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the server did not answer /healthz in time")

    @property
    def alive(self) -> bool:
        """Whether the server process is still running."""
        return self.process is not None and self.process.poll() is None

    def tail(self, lines: int = 20) -> str:
        """The end of the server's log, to say why it stopped."""
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def cli(self, *args: str) -> None:
        """Run a ``xunqin`` command on the same home."""
        subprocess.run(
            [sys.executable, "-m", "api", *args],
            env=self.env,
            check=True,
            capture_output=True,
            timeout=900,
        )

    def stop(self) -> None:
        """Ask the server to stop, then make it."""
        if self.process is None:
            return
        if self.alive:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def seed(server: Server, config: LoadConfig, photos: dict[str, bytes]) -> None:
    """Reports and found persons through the API, some with photos, then a re-match."""
    rng = random.Random(config.seed)
    headers = {"X-Xunqin-User": "load-seed"}
    with httpx.Client(base_url=server.base, headers=headers, timeout=120) as http:
        for i in range(config.missing):
            body = {
                "ref": f"M{i:05d}",
                "name": _name(rng),
                "sex": rng.choice("MF"),
                "birth_year": rng.randint(1940, 2015),
            }
            http.post("/missing", json=body).raise_for_status()
        for i in range(config.found):
            low = rng.randint(5, 80)
            body = {
                "ref": f"F{i:05d}",
                "name": _name(rng),
                "sex": rng.choice("MF"),
                "age_min": low,
                "age_max": low + 10,
            }
            http.post("/found", json=body).raise_for_status()
        names = list(photos)
        for i in range(config.photo_records):
            side, ref = ("missing", f"M{i:05d}") if i % 2 else ("found", f"F{i:05d}")
            name = names[i % len(names)]
            http.post(
                f"/{side}/{ref}/photos", files={"file": (name, photos[name], "image/jpeg")}
            ).raise_for_status()
    server.cli("rematch")


def _timed(tally: Tally, op: str, call: Callable[[], httpx.Response]) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response = call()
    except httpx.HTTPError as error:
        tally.failure(op, error)
        return None
    tally.record(op, response.status_code, time.perf_counter() - started)
    return response


def officer(
    http: httpx.Client,
    tally: Tally,
    rng: random.Random,
    photos: dict[str, bytes],
    config: LoadConfig,
) -> None:
    """Mostly photo searches, some uploads to people in care."""
    name = rng.choice(list(photos))
    if rng.random() < 0.7:
        _timed(
            tally,
            "search_photo",
            lambda: http.post(
                "/search/photo",
                files={"file": (name, photos[name], "image/jpeg")},
                data={"side": "missing"},
            ),
        )
    else:
        ref = f"F{rng.randrange(config.found):05d}"
        _timed(
            tally,
            "upload_photo",
            lambda: http.post(
                f"/found/{ref}/photos", files={"file": (name, photos[name], "image/jpeg")}
            ),
        )


def reviewer(
    http: httpx.Client,
    tally: Tally,
    rng: random.Random,
    photos: dict[str, bytes],
    config: LoadConfig,
) -> None:
    """Open the queue, read a candidate and decide it, naming the decision seen; with the
    queue empty, take back a needs-DNA decision (an explicit override)."""
    queue = "pending"
    listed = _timed(
        tally, "list_candidates", lambda: http.get("/candidates", params={"status": queue})
    )
    if listed is not None and listed.status_code == 200 and not listed.json()["data"]:
        queue = "needs_dna"
        listed = _timed(
            tally, "list_candidates", lambda: http.get("/candidates", params={"status": queue})
        )
    if listed is None or listed.status_code != 200 or not listed.json()["data"]:
        return
    candidate = rng.choice(listed.json()["data"])
    seen = _timed(tally, "read_candidate", lambda: http.get(f"/candidates/{candidate['id']}"))
    if seen is None or seen.status_code != 200:
        return
    status = rng.choice(["rejected", "needs_dna"]) if queue == "pending" else "rejected"
    body = decision_body(seen.json(), status)
    _timed(
        tally, "decide", lambda: http.post(f"/candidates/{candidate['id']}/decisions", json=body)
    )


def decision_body(candidate: dict[str, Any], status: str) -> dict[str, Any]:
    """A decision on the candidate as read: the pair and the latest decision seen, and an
    override (with its reason) when there was one."""
    latest = candidate.get("latest_decision")
    body: dict[str, Any] = {
        "status": status,
        "reason": "load test",
        "missing_ref": candidate["missing_ref"],
        "found_ref": candidate["found_ref"],
        "seen_decision_id": latest["id"] if latest else None,
    }
    if latest:
        body["override"] = True
    return body


def reader(
    http: httpx.Client,
    tally: Tally,
    rng: random.Random,
    photos: dict[str, bytes],
    config: LoadConfig,
) -> None:
    """Listings, single reads and name searches."""
    pick = rng.random()
    if pick < 0.3:
        side = rng.choice(["missing", "found"])
        _timed(
            tally,
            "list_records",
            lambda: http.get(f"/{side}", params={"offset": rng.randrange(100), "limit": 50}),
        )
    elif pick < 0.6:
        ref = f"M{rng.randrange(config.missing):05d}"
        _timed(tally, "read_record", lambda: http.get(f"/missing/{ref}"))
    else:
        _timed(tally, "search_name", lambda: http.get("/search/name", params={"name": _name(rng)}))


ROLES: dict[
    str, Callable[[httpx.Client, Tally, random.Random, dict[str, bytes], LoadConfig], None]
] = {"officer": officer, "reviewer": reviewer, "reader": reader}


def run_load(
    config: LoadConfig, *, home: Path | None = None, tell: Callable[[str], None] = print
) -> dict[str, Any]:
    """Seed, run the clients for ``config.seconds``, and return the figures."""
    photos = {name: (SAMPLE_PHOTOS / name).read_bytes() for name in PHOTO_NAMES}
    work = home or Path(tempfile.mkdtemp(prefix="xunqin-load-"))
    server = Server(work, database_url=config.database_url, face_workers=config.face_workers)
    tally = Tally()
    try:
        server.start()
        tell(f"seeding {config.missing} reports and {config.found} found persons")
        seed(server, config, photos)
        stop_at = time.monotonic() + config.seconds
        clients = [
            ("officer", config.officers),
            ("reviewer", config.reviewers),
            ("reader", config.readers),
        ]

        def client(role: str, number: int) -> None:
            rng = random.Random(f"{config.seed}-{role}-{number}")
            act = ROLES[role]
            headers = {"X-Xunqin-User": f"{role}-{number}"}
            with httpx.Client(base_url=server.base, headers=headers, timeout=120) as http:
                while time.monotonic() < stop_at and server.alive:
                    act(http, tally, rng, photos, config)

        threads = [
            threading.Thread(target=client, args=(role, n), daemon=True)
            for role, count in clients
            for n in range(count)
        ]
        tell(f"{len(threads)} clients for {config.seconds:.0f} s")
        started = time.monotonic()
        for thread in threads:
            thread.start()
        while any(t.is_alive() for t in threads):
            time.sleep(1.0)
            if not server.alive:
                break
        elapsed = time.monotonic() - started
        for thread in threads:
            thread.join(timeout=150)
        alive = server.alive
        why = "" if alive else server.tail()
    finally:
        server.stop()
        if home is None:
            shutil.rmtree(work, ignore_errors=True)
    return figures(tally, elapsed, alive, why, config)


def figures(
    tally: Tally, elapsed: float, alive: bool, why: str, config: LoadConfig
) -> dict[str, Any]:
    """Per kind of request: count, rate, p50 and p99, and the statuses seen."""
    ops = {}
    for op, times in sorted(tally.times.items()):
        ops[op] = {
            "requests": len(times),
            "per_second": round(len(times) / elapsed, 2),
            "p50_ms": round(_percentile(times, 0.50) * 1000, 1),
            "p99_ms": round(_percentile(times, 0.99) * 1000, 1),
            "statuses": {str(k): v for k, v in sorted(tally.statuses[op].items())},
        }
    total = sum(len(t) for t in tally.times.values())
    return {
        "seconds": round(elapsed, 1),
        "clients": {
            "officers": config.officers,
            "reviewers": config.reviewers,
            "readers": config.readers,
        },
        "face_workers": "one per core" if config.face_workers is None else config.face_workers,
        "database": "postgresql" if config.database_url else "sqlite",
        "requests": total,
        "per_second": round(total / elapsed, 2) if elapsed else 0.0,
        "errors": len(tally.errors),
        "error_examples": [e for e in tally.errors if e][:20],
        "server_alive": alive,
        "server_log_tail": why,
        "operations": ops,
    }


def markdown(result: dict[str, Any]) -> str:
    """The figures as a table for the README."""
    lines = [
        f"Load test: {result['seconds']} s, {result['clients']}, {result['database']}, "
        f"face workers {result['face_workers'] or 'one per core'}: {result['requests']} "
        f"requests ({result['per_second']}/s), {result['errors']} errors, server "
        f"{'alive' if result['server_alive'] else 'DEAD'} at the end.",
        "",
        "| request | count | per s | p50 ms | p99 ms | statuses |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for op, row in result["operations"].items():
        statuses = ", ".join(f"{k}: {v}" for k, v in row["statuses"].items())
        lines.append(
            f"| {op} | {row['requests']} | {row['per_second']} | {row['p50_ms']} | "
            f"{row['p99_ms']} | {statuses} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the load test and write ``load.json`` and ``load.md``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--officers", type=int, default=2)
    parser.add_argument("--reviewers", type=int, default=2)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--face-workers", type=int, default=None)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args(argv)
    config = LoadConfig(
        seconds=args.seconds,
        officers=args.officers,
        reviewers=args.reviewers,
        readers=args.readers,
        face_workers=args.face_workers,
        database_url=args.database_url,
    )

    def tell(text: str) -> None:
        sys.stderr.write(text + "\n")

    result = run_load(config, tell=tell)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "load.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    (args.out / "load.md").write_text(markdown(result), encoding="utf-8")
    sys.stdout.write(markdown(result))
    return 0 if result["errors"] == 0 and result["server_alive"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
