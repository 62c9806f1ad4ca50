"""A browser's sign-in: a token traded once for an HttpOnly cookie, and its ends."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from api.sign_in_refusals import RefusedSignIns, TooManyRefusalsError, get_refusals
from records import AuditEvent, Role, SignInSession
from records.models import utcnow
from records.users import add_user, disable_user, new_token, open_sign_in, user_by_sign_in
from usecases.services import Services

PAGE = {"X-Xunqin-Request": "1"}


@pytest.fixture
def served(
    database_url: str, make_services: Callable[..., Services]
) -> Iterator[tuple[TestClient, Services, str]]:
    services = make_services(database_url, auth="tokens")
    with services.database.session() as session:
        token = add_user(session, "li", Role.REVIEWER).token
    with TestClient(create_app(services)) as http:
        yield http, services, token


def _actions(services: Services) -> list[str]:
    with services.database.session() as session:
        return [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
                if e.subject_kind == "user"]  # fmt: skip


def test_a_browser_signs_in_once_and_the_token_stays_out_of_it(
    served: tuple[TestClient, Services, str],
) -> None:
    http, services, token = served
    assert http.get("/session").json() == {"auth": "tokens", "signed_in": False, "name": None,
                                           "role": None, "expires_at": None}  # fmt: skip
    assert http.get("/candidates").status_code == 401
    wrong = http.post("/session", json={"token": "not-a-token"}, headers=PAGE)
    assert wrong.status_code == 401 and "xunqin_session" not in http.cookies
    answer = http.post("/session", json={"token": token}, headers=PAGE)
    assert answer.status_code == 201 and answer.json()["name"] == "li"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and token not in cookie
    assert http.get("/session").json()["role"] == "reviewer"
    assert http.get("/candidates").status_code == 200, "the cookie signs the page's reads in"
    with services.database.session() as session:
        stored = session.scalars(select(SignInSession)).one()
        assert http.cookies["xunqin_session"] not in (stored.secret_sha256, token)
    # A change signed by the cookie alone is refused: another site could send the cookie.
    decide = {"status": "rejected"}
    assert http.post("/candidates/1/decisions", json=decide).status_code == 403
    assert http.post("/candidates/1/decisions", json=decide, headers=PAGE).status_code == 404
    assert http.delete("/session").status_code == 403, "signing out is a change too"
    assert http.delete("/session", headers=PAGE).status_code == 204
    assert http.get("/candidates").status_code == 401
    assert _actions(services) == ["sign_in_refused", "sign_in", "sign_out"]
    with services.database.session() as session:
        assert session.scalars(select(SignInSession)).all() == []


def test_signing_in_needs_the_page_header_and_a_server_that_asks(
    served: tuple[TestClient, Services, str],
    make_services: Callable[..., Services],
    database_url: str,
) -> None:
    http, _, token = served
    assert http.post("/session", json={"token": token}).status_code == 403
    with TestClient(create_app(make_services(database_url, auth="header"))) as local:
        assert local.get("/session").json()["auth"] == "header"
        assert local.post("/session", json={"token": token}, headers=PAGE).status_code == 403


def test_a_sign_in_ends_when_idle_at_its_end_and_with_its_token(
    served: tuple[TestClient, Services, str],
) -> None:
    http, services, token = served
    now = utcnow()
    with services.database.session() as session:
        opened = open_sign_in(session, token, lifetime=timedelta(hours=8), now=now)
        assert opened is not None
        idle = timedelta(minutes=30)
        later = now + timedelta(minutes=20)
        assert user_by_sign_in(session, opened.secret, idle=idle, now=later) is not None
        # Used at +20 minutes, so still alive at +45; at +8 hours it has ended.
        assert user_by_sign_in(session, opened.secret, idle=idle, now=later + idle / 1.2)
        assert user_by_sign_in(session, opened.secret, idle=timedelta(days=1),
                               now=now + timedelta(hours=8)) is None  # fmt: skip
        assert session.scalars(select(SignInSession)).all() == [], "an ended one is deleted"
        idle_one = open_sign_in(session, token, lifetime=timedelta(hours=8), now=now)
        assert idle_one is not None
        assert user_by_sign_in(session, idle_one.secret, idle=idle, now=now + idle) is None
    # A new token (a leaked one replaced) and disabling end the user's sign-ins at once.
    for end in (lambda s: new_token(s, "li"), lambda s: disable_user(s, "li")):
        http.cookies.clear()
        with services.database.session() as session:
            current = new_token(session, "li", enable=True).token
        assert http.post("/session", json={"token": current}, headers=PAGE).status_code == 201
        assert http.get("/candidates").status_code == 200
        with services.database.session() as session:
            end(session)
        assert http.get("/candidates").status_code == 401


def test_refused_tokens_are_slowed_and_signing_in_again_ends_the_last_sign_in(
    served: tuple[TestClient, Services, str],
) -> None:
    http, services, token = served
    for _ in range(10):
        assert http.post("/session", json={"token": "guess"}, headers=PAGE).status_code == 401
    wait = http.post("/session", json={"token": "guess"}, headers=PAGE)
    assert wait.status_code == 429 and 0 < int(wait.headers["Retry-After"]) <= 60
    assert _actions(services).count("sign_in_refused") == 10, "waiting is not audited"
    # A valid token still signs in from there: a proxy's address is everyone's.
    assert http.post("/session", json={"token": token}, headers=PAGE).status_code == 201

    with services.database.session() as session:
        add_user(session, "wang", Role.OFFICER)
    with TestClient(create_app(services)) as fresh:  # another app: its own count
        assert fresh.post("/session", json={"token": token}, headers=PAGE).status_code == 201
        assert fresh.post("/session", json={"token": token}, headers=PAGE).status_code == 201
        with services.database.session() as session:
            assert len(session.scalars(select(SignInSession)).all()) == 2, "one a browser"
            disable_user(session, "li")
        with services.database.session() as session:
            assert session.scalars(select(SignInSession)).all() == [], "disabling ends them"


class _WriterAtRefusal(RefusedSignIns):
    """Counts refusals, and at each one tries to write with a short busy timeout, as any
    other request would while the refused one is still being answered."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.outcomes: list[str] = []

    def refuse(self, host: str) -> None:
        other = sqlite3.connect(self.path, timeout=0.2)
        try:
            other.execute("BEGIN IMMEDIATE")  # takes the write lock, or waits 0.2 s
            other.rollback()
            self.outcomes.append("wrote")
        except sqlite3.OperationalError as err:
            self.outcomes.append(str(err))
        finally:
            other.close()
        super().refuse(host)


def test_a_refused_sign_in_with_an_old_cookie_keeps_no_other_writer_waiting(
    tmp_path: Path, make_services: Callable[..., Services]
) -> None:
    path = tmp_path / "store.db"
    services = make_services(f"sqlite:///{path}", auth="tokens")
    with services.database.session() as session:
        token = add_user(session, "li", Role.REVIEWER).token
    writer = _WriterAtRefusal(path)
    app = create_app(services)
    app.dependency_overrides[get_refusals] = lambda: writer
    with TestClient(app) as http:
        assert http.post("/session", json={"token": token}, headers=PAGE).status_code == 201
        refused = http.post("/session", json={"token": "guess"}, headers=PAGE)  # old cookie
        assert refused.status_code == 401, refused.text
        assert writer.outcomes == ["wrote"], "the refusal held the store's write lock"
        assert http.get("/session").json()["signed_in"], "a refused token ends nothing"
    assert _actions(services) == ["sign_in", "sign_in_refused"]


def test_the_cookie_is_secure_when_asked(
    database_url: str, make_services: Callable[..., Services]
) -> None:
    services = make_services(database_url, auth="tokens", secure_cookies=True)
    with services.database.session() as session:
        token = add_user(session, "li", Role.REVIEWER).token
    with TestClient(create_app(services)) as http:
        answer = http.post("/session", json={"token": token}, headers=PAGE)
        assert "Secure" in answer.headers["set-cookie"]


def test_refusals_are_counted_by_address_and_forgotten_in_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from api import sign_in_refusals as module

    clock = [1000.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: clock[0])
    refused = module.RefusedSignIns()
    for n in range(10):  # one IPv6 host holds a /64: its neighbours count with it
        refused.refuse(f"2001:db8::{n}")
    with pytest.raises(TooManyRefusalsError):
        refused.refuse("2001:db8::ffff")
    refused.refuse("2001:db9::1")  # another network
    # A dual-stack server sees IPv4 clients IPv4-mapped: each is still its own address.
    assert module.address_bucket("::ffff:1.2.3.4") == "1.2.3.4"
    assert module.address_bucket("::ffff:5.6.7.8") != module.address_bucket("::ffff:1.2.3.4")
    clock[0] += 61
    refused.refuse("2001:db8::1")  # the window has passed
    monkeypatch.setattr(module, "MAX_ADDRESSES", 3)
    for n in range(5):
        refused.refuse(f"10.0.0.{n}")
    assert len(refused) <= 3, "stale and oldest addresses are swept"
    # Many addresses together are held to the process's limit.
    clock[0] += 61
    for n in range(module.PER_PROCESS):
        refused.refuse(f"10.1.{n // 250}.{n % 250}")
    with pytest.raises(TooManyRefusalsError):
        refused.refuse("10.9.9.9")


def test_a_session_in_use_under_a_one_minute_idle_limit_stays(
    served: tuple[TestClient, Services, str],
) -> None:
    _, services, token = served
    now, idle = utcnow(), timedelta(minutes=1)
    with services.database.session() as session:
        opened = open_sign_in(session, token, lifetime=timedelta(hours=8), now=now)
        assert opened is not None
        for seconds in range(20, 300, 20):
            used = now + timedelta(seconds=seconds)
            assert user_by_sign_in(session, opened.secret, idle=idle, now=used) is not None
