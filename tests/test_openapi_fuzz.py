"""schemathesis over every operation of the OpenAPI schema — whatever routes the domains and
plugins add — as an anonymous client and as a district administrator with an API key.

No request may produce a server error, and every JSON error has exactly the one shape
``{"ok", "error", "code", "errors"}``. Each operation is one test (so xdist spreads them);
the examples and fuzzing phases run with a few examples each to keep the whole run short.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode

from citygrowth.app import create_app
from citygrowth.auth import service as auth
from citygrowth.auth.actor import system_actor
from citygrowth.auth.identity import new_api_key
from citygrowth.db import make_engine, make_sessionmaker, upgrade
from citygrowth.settings import Settings
from tests.factories import DISTRICT, STREET_A, make_areas, make_user

ERROR_KEYS = {"ok", "error", "code", "errors"}
MAX_EXAMPLES = int(os.environ.get("CITYGROWTH_FUZZ_EXAMPLES", "6"))  # valid and invalid together
# An operation that implements another standard's protocol (the CKAN action API, Open311
# GeoReport v2) answers errors in that standard's format, which its clients parse. It says so
# in its OpenAPI definition — ``openapi_extra={"x-error-format": "ckan"}`` — and is then exempt
# from the one-shape check (never from the no-server-error check).
FOREIGN_FORMAT = "x-error-format"


# The app is made when the module is collected (schemathesis reads its schema then); its
# temporary store is migrated and seeded by ``fuzz_store`` before the first case runs.
_ROOT = Path(tempfile.mkdtemp(prefix="citygrowth-fuzz-"))
atexit.register(shutil.rmtree, _ROOT, True)
_URL = f"sqlite:///{_ROOT / 'citygrowth.db'}"
APP = create_app(Settings(data_dir=_ROOT / "var", database_url=_URL, env="test",
                          secret_key="fuzz-secret", scheduler_enabled=False, log_level="ERROR"))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module")
def fuzz_key() -> str:
    """Migrate and seed the fuzzed app's store; the district administrator's API key."""
    upgrade(_URL)
    engine = make_engine(_URL)
    with make_sessionmaker(engine)() as s:
        make_areas(s)
        make_user(s, "cmd", ("street_commander", STREET_A))
        auth.create_user(s, system_actor(), "fuzz-admin",
                         [auth.GrantInput("district_admin", DISTRICT)])
        # an administrator's key for the fuzzer (the service makes keys for officers and
        # machines only)
        key = new_api_key(s, auth.get_user(s, "fuzz-admin"), "fuzz")
        s.commit()
    engine.dispose()
    return key


def check_error_shape(case: Any, response: Any) -> None:
    if response.status_code < 400 or case.operation.definition.raw.get(FOREIGN_FORMAT):
        return
    if "json" not in response.headers.get("content-type", [""])[0]:
        return
    body = response.json()
    assert isinstance(body, dict) and set(body) == ERROR_KEYS, (
        f"{case.operation.label}: {response.status_code} error body is not the one shape "
        f"{sorted(ERROR_KEYS)} (raise citygrowth.errors classes; an operation of another "
        f"standard's protocol declares openapi_extra={{{FOREIGN_FORMAT!r}: '<standard>'}}): "
        f"{body!r}")
    assert body["ok"] is False and isinstance(body["errors"], list)


def _operations() -> list[Any]:
    """Every operation of the schema (one test each, with its label as the test id)."""
    return [r.ok() for r in schema.get_all_operations()]


OPERATIONS = _operations()
# The same examples on every run, so CI is repeatable; CITYGROWTH_FUZZ_RANDOM=1 explores anew.
RANDOM = os.environ.get("CITYGROWTH_FUZZ_RANDOM") == "1"


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_no_server_error_and_one_error_shape(operation: Any, fuzz_key: str) -> None:
    @given(case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                          operation.as_strategy(GenerationMode.NEGATIVE)))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              derandomize=not RANDOM,
              phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first failure
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        for headers in ({}, {"X-API-Key": fuzz_key}):
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error])
            check_error_shape(case, response)

    run()


def test_every_route_is_in_the_schema() -> None:
    assert len(OPERATIONS) == sum(
        len([m for m in methods if m in {"get", "post", "put", "patch", "delete"}])
        for methods in APP.openapi()["paths"].values())
    assert "GET /api/auth/me" in [op.label for op in OPERATIONS]
