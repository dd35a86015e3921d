"""Logins, as the attacks: unknown names cost one hash check like known ones, spraying from one
address and from everywhere runs into budgets with a growing delay and a true Retry-After,
failures are summarised in the audit log (not one row each), common passwords and one's own
name are refused, and API keys are only for the roles that need them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from citygrowth.auth import passwords
from citygrowth.auth import service as svc
from citygrowth.auth.actor import system_actor
from citygrowth.auth.login import LoginRefused, login, login_delay
from citygrowth.auth.models import AuditEntry, LoginFailures
from citygrowth.errors import Conflict, Unauthenticated, ValidationFailed
from citygrowth.settings import Settings
from tests.factories import DISTRICT, make_areas, make_user

SETTINGS = Settings(env="test", login_max_attempts=3, login_address_max_attempts=6,
                    login_global_max_attempts=10, login_window_seconds=600,
                    login_max_delay_seconds=4)


@pytest.fixture
def users(session: Session) -> Session:
    make_areas(session)
    make_user(session, "admin", ("district_admin", DISTRICT))
    session.commit()
    return session


class CountingHasher:
    """The real hasher, counting its verifications."""

    def __init__(self, real: Any) -> None:
        self.real, self.verified = real, 0

    def verify(self, hashed: str, password: str) -> bool:
        self.verified += 1
        return bool(self.real.verify(hashed, password))

    def hash(self, password: str) -> str:
        return str(self.real.hash(password))


def _fail(session: Session, name: str, client: str) -> None:
    with pytest.raises(Unauthenticated):
        login(session, name, "wrong-password", client, SETTINGS)


def test_unknown_and_known_names_cost_the_same_hash_check(
        users: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    counting = CountingHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", counting)
    counts = []
    for name in ("admin", "nobody-by-this-name", "admin"):
        before = counting.verified
        _fail(users, name, f"10.1.0.{len(counts)}")
        counts.append(counting.verified - before)
    assert counts == [1, 1, 1]


def test_spraying_from_one_address_waits_longer_then_is_refused(users: Session) -> None:
    delays = []
    for i in range(SETTINGS.login_address_max_attempts):
        delays.append(login_delay(users, f"user{i}", "10.2.0.1", SETTINGS))
        _fail(users, f"user{i}", "10.2.0.1")
    assert delays == [0, 0, 0, 0.25, 0.5, 1.0]  # from half the budget on, doubling
    with pytest.raises(LoginRefused) as refused:  # even the right password, any name
        login(users, "admin", "secret-pass-1", "10.2.0.1", SETTINGS)
    assert 590 <= refused.value.retry_after <= 600  # what is left of the window
    assert "from your address" in refused.value.render_message("en")
    assert login(users, "admin", "secret-pass-1", "10.2.0.2", SETTINGS).username == "admin"


def test_spraying_from_many_addresses_runs_into_the_global_budget(users: Session) -> None:
    for i in range(SETTINGS.login_global_max_attempts):
        _fail(users, f"user{i}", f"10.3.{i}.1")
    assert login_delay(users, "admin", "10.3.99.1", SETTINGS) == SETTINGS.login_max_delay_seconds
    with pytest.raises(LoginRefused) as refused:
        login(users, "admin", "secret-pass-1", "10.3.99.1", SETTINGS)
    assert "on this site" in refused.value.render_message("en")


def test_failures_are_summarised_not_appended_one_by_one(users: Session) -> None:
    for _ in range(3):
        _fail(users, "admin", "10.4.0.1")
    for _ in range(2):
        with pytest.raises(LoginRefused):
            login(users, "admin", "wrong-password", "10.4.0.1", SETTINGS)

    def actions() -> list[str]:
        return list(users.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))

    assert actions() == ["auth.login_failed"]  # five attempts, one entry
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=SETTINGS.login_window_seconds + 5)
    users.execute(update(LoginFailures).values(window_start=past))
    _fail(users, "admin", "10.4.0.1")  # a new window: the old one is summarised
    assert actions() == ["auth.login_failed", "auth.login_failures", "auth.login_failed"]
    summary = users.scalar(select(AuditEntry).where(AuditEntry.action == "auth.login_failures"))
    assert summary is not None and summary.detail["failures"] == 3
    assert users.scalar(select(func.count()).select_from(LoginFailures)) == 3  # name, addr, all


def test_common_passwords_and_ones_own_name_are_refused(users: Session) -> None:
    admin = system_actor()
    for bad in ("password", "12345678", "PASSWORD", "qwertyuiop", "li.na", "Li.Na2024", "Li Na"):
        with pytest.raises(ValidationFailed) as exc:
            svc.create_user(users, admin, "li.na", [svc.GrantInput("analyst", DISTRICT)], bad,
                            display_name="Li Na")
        assert exc.value.problems[0].field == "password", bad
    assert len(passwords.common_passwords()) == 10_000
    svc.create_user(users, admin, "li.na", [svc.GrantInput("analyst", DISTRICT)],
                    "harbour-kite-37", display_name="Li Na")


def test_api_keys_only_for_officers_and_machines(users: Session) -> None:
    admin = system_actor()
    svc.create_user(users, admin, "an", [svc.GrantInput("analyst", DISTRICT)], "harbour-kite-37")
    with pytest.raises(Conflict) as exc:
        svc.create_api_key(users, admin, "an")
    assert exc.value.code == "api_key_role"
    assert "department officers and machine clients" in exc.value.render_message("en")
    svc.create_user(users, admin, "bot", [svc.GrantInput("machine", DISTRICT)])
    assert svc.create_api_key(users, admin, "bot").startswith("cg_")
