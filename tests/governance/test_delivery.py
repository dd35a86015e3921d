"""Delivery to departments: send records apart from the case's state, the inbox at once, a
signed webhook to a real local HTTP receiver, e-mail to a real local SMTP server (aiosmtpd),
a plugin's channel through ``citygrowth_dispatch_channels``, back-off, leases, failures."""

from __future__ import annotations

import datetime as dt
import email
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message as EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from citygrowth.auth.actor import Actor
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.errors import NotFound, ValidationFailed
from citygrowth.governance.delivery import admin, inbox, service, webhook
from citygrowth.governance.delivery.models import CaseDelivery, InboxItem
from citygrowth.governance.lifecycle import transition
from citygrowth.governance.models import Case
from citygrowth.plugins import hookimpl
from citygrowth.runtime import build_runtime
from citygrowth.settings import Settings
from tests.factories import TEST_AUDIT
from tests.governance.conftest import RUNTIME, Receiver, World, build_world, serve_webhook

EXAMPLE = Path(__file__).parent.parent.parent / "examples" / "citygrowth-plugin-example"
NOW = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)  # Monday 10:00 in Qingdao


# --- a real webhook receiver and a real SMTP server -----------------------------------------

@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve_webhook() as rec:
        yield rec


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Mailbox]]:
    box = Mailbox()

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                     data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"relay", b"relay-pass")
        if ok:
            box.logins.append(data.login.decode())
        return AuthResult(success=ok)

    # aiosmtpd's readiness check needs a real port
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), authenticator=authenticate,
                            auth_require_tls=False)
    controller.start()
    yield controller, box
    controller.stop()


# --- the governed district with a sessionmaker ---------------------------------------------

@dataclass
class Setup:
    factory: sessionmaker[Session]
    actors: dict[str, Actor]
    settings: Settings


@pytest.fixture
def setup(sqlite_url: str, tmp_path: Path) -> Iterator[Setup]:
    """On SQLite: the tests about channels and timing."""
    yield from _setup(sqlite_url, tmp_path)


@pytest.fixture
def setup_any(db_url: str, tmp_path: Path) -> Iterator[Setup]:
    """On SQLite and PostgreSQL: the tests about the records themselves."""
    yield from _setup(db_url, tmp_path)


def _setup(db_url: str, tmp_path: Path) -> Iterator[Setup]:
    engine = make_engine(db_url)
    factory = make_sessionmaker(engine, TEST_AUDIT)
    with factory() as s:
        world = build_world(s)
        s.commit()
    settings = Settings(data_dir=tmp_path / "var", database_url=db_url, env="test",
                        public_url="https://gov.example.cn/cg", delivery_backoff_seconds=60,
                        delivery_max_attempts=3)
    yield Setup(factory, world.actors, settings)
    engine.dispose()


def dispatched_case(st: Setup, department: str = "urban", at: dt.datetime = NOW) -> int:
    """A report in grid A, registered and dispatched to ``department`` at ``at``."""
    with st.factory() as s:
        w = World(s, st.actors, st.actors["admin"])
        case = w.report(description="井盖破损")
        transition(s, st.actors["cmd_a"], case, "register", at=at, runtime=RUNTIME)
        transition(s, st.actors["cmd_a"], case, "dispatch", department_code=department, at=at,
                   runtime=RUNTIME)
        s.commit()
        return case.id


def set_channel(st: Setup, channel: str, target: str, installed: list[str],
                department: str = "urban") -> str | None:
    with st.factory() as s:
        out = admin.set_channel(s, st.actors["admin"], department, channel, target, installed)
        s.commit()
        return out.secret


def records(st: Setup, case_id: int) -> dict[str, CaseDelivery]:
    with st.factory() as s:
        rows = s.scalars(select(CaseDelivery).where(CaseDelivery.case_id == case_id))
        return {d.channel: d for d in rows}


BUILT_IN = build_runtime(Settings(env="test"), entry_points=False)


# --- tests -----------------------------------------------------------------------------------

def test_dispatch_writes_the_inbox_at_once_and_a_pending_record_per_channel(
        setup_any: Setup) -> None:
    setup = setup_any
    set_channel(setup, "webhook", "http://127.0.0.1:9/hook", ["webhook", "email"])
    set_channel(setup, "email", "duty@urban.example.cn", ["webhook", "email"])
    case_id = dispatched_case(setup)
    recs = records(setup, case_id)
    assert set(recs) == {"inbox", "webhook", "email"}
    assert recs["inbox"].state == "sent" and recs["inbox"].sent_at == NOW
    assert recs["webhook"].state == recs["email"].state == "pending"
    assert recs["webhook"].next_attempt_at == NOW and recs["webhook"].attempts == 0
    urban, market = setup.actors["urban"], setup.actors["market"]
    with setup.factory() as s:
        assert inbox.unread_count(s, urban) == 1 and inbox.unread_count(s, market) == 0
        assert [i.case_id for i in inbox.items(s, urban)] == [case_id]
        assert inbox.items(s, market) == []
        assert inbox.mark_read(s, market, case_id, NOW) == 0  # not its inbox
        assert inbox.mark_read(s, urban, case_id, NOW) == 1
        s.commit()
        assert inbox.unread_count(s, urban) == 0
        # the case's own state is not the send state
        assert s.scalar(select(InboxItem.read_by)) == "urban"


def test_webhook_is_signed_and_retried_with_backoff_until_sent(
        setup: Setup, receiver: Receiver) -> None:
    secret = set_channel(setup, "webhook", receiver.url, ["webhook"])
    assert secret and len(secret) >= 32
    case_id = dispatched_case(setup)
    receiver.statuses = [503, 500]
    available = service.channels(BUILT_IN)

    first = service.deliver_due(setup.factory, setup.settings, available, now=NOW)
    assert (first.sent, first.retrying, first.failed) == (0, 1, 0)
    d = records(setup, case_id)["webhook"]
    assert d.state == "pending" and d.attempts == 1 and d.last_error.startswith("HTTP 503")
    assert d.next_attempt_at == NOW + dt.timedelta(seconds=60)
    # not due yet: nothing is sent
    assert service.deliver_due(setup.factory, setup.settings, available,
                               now=NOW + dt.timedelta(seconds=59)).retrying == 0
    assert len(receiver.bodies) == 1
    second = service.deliver_due(setup.factory, setup.settings, available,
                                 now=NOW + dt.timedelta(seconds=60))
    assert second.retrying == 1
    d = records(setup, case_id)["webhook"]
    assert d.attempts == 2 and d.next_attempt_at == NOW + dt.timedelta(seconds=60 + 120)
    third = service.deliver_due(setup.factory, setup.settings, available,
                                now=NOW + dt.timedelta(seconds=180))
    assert third.sent == 1
    d = records(setup, case_id)["webhook"]
    assert d.state == "sent" and d.receipt == "HTTP 200" and d.last_error == ""

    assert len(receiver.bodies) == 3
    headers, body = receiver.bodies[-1]
    assert headers["content-type"] == "application/json"
    assert headers["x-citygrowth-event"] == "case.dispatched"
    assert headers["x-citygrowth-delivery"] == str(d.id)
    # the receiver's check: HMAC over "<timestamp>.<body>", and a recent timestamp
    stamp = headers["x-citygrowth-timestamp"]
    assert webhook.verify(secret, stamp, body, headers["x-citygrowth-signature"])
    assert not webhook.verify("another-secret", stamp, body, headers["x-citygrowth-signature"])
    assert not webhook.verify(secret, stamp, body + b" ", headers["x-citygrowth-signature"])
    assert not webhook.verify(secret, stamp, body, headers["x-citygrowth-signature"],
                              now=int(stamp) + 3600)  # a replay an hour later
    msg = json.loads(body)
    assert msg["case"]["id"] == case_id and msg["department"]["code"] == "urban"
    assert msg["case"]["url"] == f"https://gov.example.cn/cg/command/cases/{case_id}"
    assert msg["case"]["reported_at"].endswith("+08:00")
    assert msg["case"]["description"] == "井盖破损" and msg["attempt"] == 3
    assert "contact" not in json.dumps(msg)  # the reporter's contact stays private


def test_a_delivery_out_of_attempts_fails_and_is_sent_again_on_request(
        setup: Setup, receiver: Receiver) -> None:
    set_channel(setup, "webhook", receiver.url, ["webhook"])
    case_id = dispatched_case(setup)
    receiver.statuses = [500, 500, 500]
    available = service.channels(BUILT_IN)
    at = NOW
    for _ in range(3):
        service.deliver_due(setup.factory, setup.settings, available, now=at)
        at += dt.timedelta(hours=1)
    d = records(setup, case_id)["webhook"]
    assert d.state == "failed" and d.attempts == 3 and d.next_attempt_at is None
    with setup.factory() as s:
        assert service.problem_counts(s, setup.actors["admin"]) == {"failed": 1, "retrying": 0}
        assert service.problem_counts(s, setup.actors["cmd_b"])["failed"] == 0  # not its street
        assert [x.id for x in service.list_deliveries(s, setup.actors["cmd_a"],
                                                      problems=True)] == [d.id]
        with pytest.raises(NotFound):
            service.retry(s, setup.actors["cmd_b"], d.id)
        service.retry(s, setup.actors["cmd_a"], d.id, now=at)
        s.commit()
    assert service.deliver_due(setup.factory, setup.settings, available, now=at).sent == 1
    assert records(setup, case_id)["webhook"].state == "sent"


def test_email_over_smtp_with_login(setup: Setup, smtp: tuple[Controller, Mailbox]) -> None:
    controller, box = smtp
    settings = setup.settings.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": controller.port, "smtp_security": "none",
        "smtp_user": "relay", "smtp_password": "relay-pass", "smtp_from": "cg@example.cn"})
    set_channel(setup, "email", "duty@urban.example.cn, chief@urban.example.cn",
                ["email"])
    case_id = dispatched_case(setup)
    out = service.deliver_due(setup.factory, settings, service.channels(BUILT_IN), now=NOW)
    assert out.sent == 1, records(setup, case_id)["email"].last_error
    assert box.logins == ["relay"] and len(box.messages) == 1
    mail = box.messages[0]
    assert mail["To"] == "duty@urban.example.cn, chief@urban.example.cn"
    assert mail["From"] == "cg@example.cn"
    subject = str(email.header.make_header(email.header.decode_header(mail["Subject"])))
    assert f"#{case_id}" in subject
    parts = {p.get_content_type(): p for p in mail.walk()}
    text = parts["text/plain"].get_payload(decode=True).decode()
    assert "井盖破损" in text and f"/command/cases/{case_id}" in text
    with setup.factory() as s:
        due = s.get(Case, case_id).due_at  # type: ignore[union-attr]
    assert due is not None and due.astimezone(ZoneInfo("Asia/Shanghai")).strftime(
        "%Y-%m-%d %H:%M") in text  # the deadline in local time
    attached = json.loads(parts["application/json"].get_payload(decode=True))
    assert attached["case"]["id"] == case_id
    # a server that cannot be reached is a failed attempt saying why, retried later
    case2 = dispatched_case(setup)
    nobody = settings.model_copy(update={"smtp_port": free_port()})
    assert service.deliver_due(setup.factory, nobody, service.channels(BUILT_IN),
                               now=NOW).retrying == 1
    assert "ConnectionRefusedError" in records(setup, case2)["email"].last_error


def test_email_off_without_a_host(setup: Setup) -> None:
    set_channel(setup, "email", "duty@urban.example.cn", ["email"])
    case_id = dispatched_case(setup)
    service.deliver_due(setup.factory, setup.settings, service.channels(BUILT_IN), now=NOW)
    assert "CITYGROWTH_SMTP_HOST" in records(setup, case_id)["email"].last_error


class SmsPlugin:
    """A plugin adding a channel through the hook (a stand-in for an SMS gateway)."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str, str]] = []
        self.down = False

    def send(self, case: Any, **details: Any) -> dict[str, Any]:
        if self.down:
            return {"delivered": False, "error": "gateway down"}
        self.sent.append((case.id, details["target"], details["message"].subject))
        return {"delivered": True, "receipt": "sms-42"}

    @hookimpl
    def citygrowth_dispatch_channels(self) -> dict[str, Any]:
        return {"sms": self.send}


def test_a_plugin_adds_a_channel_through_the_hook(setup: Setup) -> None:
    plugin = SmsPlugin()
    runtime = build_runtime(Settings(env="test"), entry_points=False)
    runtime.plugins.register(plugin, name="sms-test")
    available = service.channels(runtime)
    assert {"webhook", "email", "sms"} <= set(available)
    with setup.factory() as s, pytest.raises(ValidationFailed) as err:
        admin.set_channel(s, setup.actors["admin"], "urban", "pager", "x", list(available))
    assert err.value.problems[0].field == "channel"
    set_channel(setup, "sms", "+86 532 0000 0000", list(available))
    case_id = dispatched_case(setup)
    assert service.deliver_due(setup.factory, setup.settings, available, now=NOW).sent == 1
    assert plugin.sent[0][:2] == (case_id, "+86 532 0000 0000")
    assert records(setup, case_id)["sms"].receipt == "sms-42"
    plugin.down = True
    case2 = dispatched_case(setup)
    service.deliver_due(setup.factory, setup.settings, available, now=NOW)
    assert records(setup, case2)["sms"].last_error == "gateway down"
    # without the plugin installed, its records fail with a message saying so
    case3 = dispatched_case(setup)
    service.deliver_due(setup.factory, setup.settings, service.channels(BUILT_IN), now=NOW)
    assert "No channel named sms" in records(setup, case3)["sms"].last_error


def test_the_example_plugins_channel(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLE))
    runtime = build_runtime(Settings(env="test", plugins=["citygrowth_plugin_example.plugin"]),
                            entry_points=False)
    available = service.channels(runtime)
    set_channel(setup, "example-log", "log", list(available))
    case_id = dispatched_case(setup)
    assert service.deliver_due(setup.factory, setup.settings, available, now=NOW).sent == 1
    assert records(setup, case_id)["example-log"].state == "sent"


def test_a_leased_record_is_not_sent_twice(setup_any: Setup, receiver: Receiver) -> None:
    setup = setup_any
    set_channel(setup, "webhook", receiver.url, ["webhook"])
    dispatched_case(setup)
    assert len(service._claim(setup.factory, NOW, 10)) == 1
    # a second worker at the same moment finds it leased
    assert service._claim(setup.factory, NOW, 10) == []
    assert service.deliver_due(setup.factory, setup.settings, service.channels(BUILT_IN),
                               now=NOW).sent == 0
    # a lease that ran out (the worker died) lets another worker send it
    later = NOW + service.LEASE + dt.timedelta(seconds=1)
    assert service.deliver_due(setup.factory, setup.settings, service.channels(BUILT_IN),
                               now=later).sent == 1
    assert len(receiver.bodies) == 1


def test_rework_is_delivered_again(setup: Setup) -> None:
    case_id = dispatched_case(setup)
    with setup.factory() as s:
        case = s.get(Case, case_id)
        assert case is not None
        transition(s, setup.actors["urban"], case, "accept", at=NOW, runtime=RUNTIME)
        transition(s, setup.actors["urban"], case, "handle", at=NOW, runtime=RUNTIME)
        transition(s, setup.actors["worker_a"], case, "rework", note="没修好", at=NOW,
                   runtime=RUNTIME)
        s.commit()
        items = list(s.scalars(select(InboxItem).where(InboxItem.case_id == case_id)
                               .order_by(InboxItem.id)))
    assert [i.action for i in items] == ["dispatch", "rework"]


# --- the pages and their twins -----------------------------------------------------------------

def test_inbox_badge_deliveries_page_and_channels_admin(web: Any) -> None:
    c = web.client
    r = c.post("/api/cases", headers=web.h("worker_a"),
               json={"category_code": "E0101", "lat": 36.055, "lon": 120.305,
                     "description": "垃圾"})
    case_id = r.json()["id"]
    # the administrator gives urban a webhook; the secret is shown once
    page = c.post("/admin/cases/channels", headers=web.h("admin"),
                  data={"department_code": "urban", "channel": "webhook",
                        "target": "http://127.0.0.1:9/hook", "active": "1"})
    assert page.status_code == 200 and 'data-testid="secret"' in page.text
    again = c.get("/admin/cases/channels", headers=web.h("admin")).text
    assert 'data-testid="secret"' not in again and "http://127.0.0.1:9/hook" in again
    bad = c.post("/admin/cases/channels", headers=web.h("admin"),
                 data={"department_code": "urban", "channel": "webhook", "target": "ftp://x"})
    assert bad.status_code == 422 and 'data-testid="error-target"' in bad.text
    assert c.get("/admin/cases/channels", headers=web.h("cmd_a")).status_code == 403
    api = c.put("/api/admin/cases/channels/urban/email", headers=web.h("admin"),
                json={"target": "duty@urban.example.cn"})
    assert api.status_code == 200 and api.json()["secret"] is None
    for action, body in (("register", {}), ("dispatch", {"department_code": "urban"})):
        assert c.post(f"/api/cases/{case_id}/actions/{action}", headers=web.h("cmd_a"),
                      json=body).status_code == 200
    # the officer: a badge in the navigation, the case in the inbox; opening it reads it
    home = c.get("/command/inbox", headers=web.h("urban")).text
    assert 'data-testid="nav-badge">1<' in home and f'data-testid="inbox-{case_id}"' in home
    assert c.get("/api/cases/inbox", headers=web.h("urban")).json()["unread"] == 1
    assert c.get("/api/cases/inbox", headers=web.h("market")).json()["items"] == []
    opened = c.get(f"/command/cases/{case_id}", headers=web.h("urban"))
    assert opened.status_code == 200
    assert 'data-testid="nav-badge"' not in opened.text  # the page that read it counts it read
    assert 'data-testid="nav-badge"' not in c.get("/command/inbox", headers=web.h("urban")).text
    # the command center sees the records; a failed one can be sent again
    recs = c.get(f"/api/cases/deliveries?case={case_id}", headers=web.h("cmd_a")).json()
    assert {d["channel"]: d["state"] for d in recs["items"]} == {
        "inbox": "sent", "webhook": "pending", "email": "pending"}
    assert c.get("/api/cases/deliveries", headers=web.h("cmd_b")).json()["items"] == []
    listing = c.get("/command/deliveries", headers=web.h("cmd_a")).text
    assert "系统内收件箱" in listing and "Webhook" in listing
    csv_text = c.get("/api/cases/deliveries.csv", headers=web.h("cmd_a")).text
    assert csv_text.lstrip("\ufeff").startswith("编号,案件,操作,部门代码,渠道")
    hook = next(d for d in recs["items"] if d["channel"] == "webhook")
    r = c.post(f"/command/deliveries/{hook['id']}/retry", headers=web.h("cmd_a"),
               data={"back": "case"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/command/cases/{case_id}"
    assert c.post(f"/command/deliveries/{hook['id']}/retry", headers=web.h("cmd_b"),
                  data={}).status_code == 404
    center = c.get("/command", headers=web.h("admin")).text
    assert 'data-testid="queue-delivery"' in center
    case_page = c.get(f"/command/cases/{case_id}", headers=web.h("cmd_a")).text
    assert 'data-testid="case-deliveries"' in case_page and "待推送" in case_page
