from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from citygrowth.auth.identity import new_api_key
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.settings import Settings
from tests.factories import TEST_AUDIT, make_areas, make_user
from tests.serve import serve_app


@pytest.fixture
def server(settings: Settings) -> Iterator[tuple[str, str]]:
    """The app served by uvicorn on a free port, and an admin's API key."""
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        make_areas(s)
        user, _actor = make_user(s, "admin", ("district_admin", "370203"))
        key = new_api_key(s, user, "test")
        s.commit()
    engine.dispose()
    with serve_app(settings, log_level="error") as url:
        yield url, key


def district_rows() -> list[dict[str, object]]:
    """Every area of the test district × 12 months × the five case indicators."""
    grids = [f"370203{s:03d}{c:03d}{g:03d}" for s in (1, 2) for c in (1, 2) for g in (1, 2)]
    areas = ["370203", "370203001", "370203002", *{g[:12] for g in grids}, *grids]
    inds = ["GOV_CASE_CLOSURE_RATE", "GOV_CASE_REWORK_RATE", "GOV_CASE_HANDLING_HOURS",
            "GOV_CASE_SATISFACTION", "GOV_CASES_DUE"]
    return [{"indicator": i, "area_code": a, "period": f"2025-{m:02d}", "value": 50 + m}
            for i in inds for a in areas for m in range(1, 13)]


def test_subscriber_gets_observations_loaded_within_a_second(server: tuple[str, str]) -> None:
    base, key = server
    headers = {"X-API-Key": key}
    got: list[tuple[float, dict[str, object]]] = []
    ready = threading.Event()

    def listen() -> None:
        with httpx.Client(timeout=30) as c, c.stream(
                "GET", f"{base}/api/events", params={"topic": "observations.loaded"},
                headers=headers) as r:
            event = None
            for line in r.iter_lines():
                if line.startswith(": connected"):
                    ready.set()
                if line.startswith("event: "):
                    event = line[7:]
                if line.startswith("data: ") and event == "observations.loaded":
                    got.append((time.monotonic(), json.loads(line[6:])))
                    return

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    assert ready.wait(20)
    rows = district_rows()
    r = httpx.post(f"{base}/api/ingest/urban", json=rows, headers=headers, timeout=60)
    sent = time.monotonic()
    assert r.status_code == 200, r.text
    t.join(5)
    assert got, "no observations.loaded event arrived"
    at, event = got[0]
    assert event["payload"]["load_id"] == r.json()["load_id"]  # type: ignore[index]
    assert event["payload"]["rows"] == len(rows)  # type: ignore[index]
    assert at - sent < 1.0
    q = httpx.get(f"{base}/api/observations", headers=headers, timeout=30,
                  params={"indicator": "GOV_CASES_DUE", "area": "370203", "start": "2025-12"})
    assert [o["value"] for o in q.json()["items"]] == [62.0]
