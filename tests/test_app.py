"""The app boots, answers its health check and speaks the one error shape."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_healthz_answers_ok(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["ok"] is True


def test_unknown_path_is_a_json_404_in_chinese_by_default(client: TestClient) -> None:
    r = client.get("/api/no-such-thing")
    assert r.status_code == 404
    assert r.json() == {"ok": False, "error": "未找到。", "code": "not_found", "errors": []}


def test_unknown_path_in_english(client: TestClient) -> None:
    r = client.get("/api/no-such-thing?lang=en")
    assert r.json()["error"] == "Not found."
