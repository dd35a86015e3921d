"""Publishing a new framework version: from the workbench, the CLI and the service; every
mistake named and nothing changed; the index recomputed with the version in force."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from citygrowth.auth.actor import system_actor
from citygrowth.auth.models import AuditEntry
from citygrowth.catalog.framework import DEFAULT_FILE, builtin_framework
from citygrowth.errors import Forbidden, ValidationFailed
from citygrowth.index import jobs
from citygrowth.index.models import IndexRun
from citygrowth.index.publish import framework_status, publish_framework, reset_framework
from citygrowth.runtime import Runtime, build_runtime
from tests.factories import DISTRICT, make_user
from tests.screens.conftest import PASSWORD, build_indexed, login

BUILTIN = builtin_framework()


@pytest.fixture
def district(tmp_path: Path, sqlite_template: Path) -> Iterator[Runtime]:
    runtime = build_runtime(build_indexed(tmp_path, sqlite_template))
    yield runtime  # its frameworks are its own: nothing to undo for other tests
    runtime.dispose()


def _version(version: str, **changes: object) -> str:
    doc = yaml.safe_load(DEFAULT_FILE.read_text("utf-8"))
    doc["version"] = version
    doc.update(changes)
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def _session(runtime: Runtime):  # type: ignore[no-untyped-def]
    return runtime.sessionmaker()


def test_publish_puts_a_version_in_force_and_reset_goes_back(district: Runtime) -> None:
    with _session(district) as s:
        fw = publish_framework(s, district, system_actor("test"), _version("2026.2"))
        s.commit()
        assert (fw.code, fw.version) == (BUILTIN.code, "2026.2")
        assert district.frameworks.load().version == "2026.2"
        assert district.frameworks.default_file() == \
            district.data_dir / "frameworks" / "active.yaml"
        assert (district.data_dir / "frameworks" / f"{BUILTIN.code}-2026.2.yaml").exists()
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "framework.publish"))
        assert [a.target for a in audit] == [f"{BUILTIN.code}@2026.2"]
        assert framework_status(district)["published"] is True
        back = reset_framework(s, district, system_actor("test"))
        s.commit()
    assert back.version == BUILTIN.version == district.frameworks.load().version
    st = framework_status(district)
    assert st["published"] is False and st["versions"] == ["2026.2"]


@pytest.mark.parametrize(("text", "field", "message"), [
    ("pillars: [unclosed", None, "The framework file is not valid YAML"),
    (_version(BUILTIN.version), "version", f"Version {BUILTIN.version} has been used already"),
    (_version("2026.2", code="OTHER"), "code", "The framework code must stay"),
    (_version("2026 two"), "version", "Version 2026 two may use only letters"),
], ids=["yaml", "same-version", "code", "bad-version"])
def test_a_bad_version_is_named_and_nothing_changes(district: Runtime, text: str,
                                                    field: str | None, message: str) -> None:
    with _session(district) as s, pytest.raises(ValidationFailed) as err:
        publish_framework(s, district, system_actor("test"), text)
    rendered = [p.render("en") for p in err.value.problems]
    found = [r["message"] for r in rendered if r["field"] == field] if field else \
        [err.value.render_message("en")]
    assert any(m.startswith(message) for m in found), (found, rendered)
    assert district.frameworks.default_file() == DEFAULT_FILE
    assert not (district.data_dir / "frameworks" / "active.yaml").exists()


def test_a_version_without_a_catalog_indicator_is_refused(district: Runtime) -> None:
    doc = yaml.safe_load(DEFAULT_FILE.read_text("utf-8"))
    doc["version"] = "2026.3"
    dropped = None
    for pillar in doc["pillars"]:
        for holder in [pillar, *pillar.get("subpillars", [])]:
            if holder.get("indicators") and dropped is None:
                dropped = holder["indicators"].pop(0)["code"]
    assert dropped
    with _session(district) as s, pytest.raises(ValidationFailed) as err:
        publish_framework(s, district, system_actor("test"),
                          yaml.safe_dump(doc, allow_unicode=True))
    msgs = [p.render("zh_CN")["message"] for p in err.value.problems]
    assert any(dropped in m and "缺少" in m for m in msgs), msgs
    assert district.frameworks.default_file() == DEFAULT_FILE


def test_only_a_district_admin_may_publish(district: Runtime) -> None:
    with _session(district) as s:
        _, analyst = make_user(s, "ana", ("analyst", DISTRICT))
        with pytest.raises(Forbidden):
            publish_framework(s, district, analyst, _version("2026.2"))
    assert district.frameworks.default_file() == DEFAULT_FILE


def test_workbench_publish_recomputes_the_index_with_the_new_version(
        district: Runtime) -> None:
    from citygrowth.app import create_app

    with TestClient(create_app(runtime=district)) as client:
        login(client, "leader", PASSWORD)
        page = client.get("/workbench")
        assert 'data-testid="wb-publish"' in page.text
        csrf = page.text.split('"X-CSRF-Token": "')[1].split('"')[0]
        equal = {p.code: 1.0 for p in BUILTIN.nodes if p.kind == "pillar"}
        r = client.post("/api/workbench/publish?version=2026.5",
                        json={"weights": {BUILTIN.root.code: equal}},
                        headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["version"] == "2026.5" and "2026.5" in body["message"]
        again = client.post("/api/workbench/publish?version=2026.5", json={},
                            headers={"X-CSRF-Token": csrf, "Accept-Language": "en"})
        assert again.status_code == 422
        assert "new number" in again.json()["error"]
        state = client.get("/api/workbench").json()
        assert state.get("ok", True) is not False
    with TestClient(create_app(runtime=district)) as other:
        login(other, "streeta", PASSWORD)
        assert "wb-publish" not in other.get("/workbench").text
        csrf = other.get("/").text.split('"X-CSRF-Token": "')[1].split('"')[0]
        denied = other.post("/api/workbench/publish?version=2026.6", json={},
                            headers={"X-CSRF-Token": csrf})
        assert denied.status_code == 403
    with _session(district) as s:
        runs = s.execute(select(IndexRun.framework_version, IndexRun.status)
                         .order_by(IndexRun.id)).all()
    assert [tuple(r) for r in runs] == [(BUILTIN.version, "done"), ("2026.5", "done")]
    assert district.frameworks.load().version == "2026.5"


def test_cli_publish_show_and_reset(district: Runtime, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from citygrowth.cli import main

    for key, value in (("DATA_DIR", str(district.data_dir)),
                       ("DATABASE_URL", district.settings.resolved_database_url), ("ENV", "test"),
                       ("SECRET_KEY", "test-secret")):
        monkeypatch.setenv(f"CITYGROWTH_{key}", value)
    path = tmp_path / "CGI-2026.7.yaml"
    path.write_text(_version("2026.7"), "utf-8")
    runner = CliRunner()
    out = runner.invoke(main, ["--lang", "en", "framework", "publish", str(path)])
    assert out.exit_code == 0, out.output
    assert "version 2026.7 is now in force" in out.output and "Index run" in out.output
    out = runner.invoke(main, ["--lang", "en", "framework", "show"])
    assert "version 2026.7 (published)" in out.output and "2026.7" in out.output
    bad = runner.invoke(main, ["--lang", "en", "framework", "publish", str(path)])
    assert bad.exit_code == 1 and "has been used already" in bad.output
    assert "Traceback" not in bad.output
    out = runner.invoke(main, ["--lang", "en", "framework", "reset", "--no-compute"])
    assert out.exit_code == 0 and f"version {BUILTIN.version} is now in force" in out.output


def test_recompute_job_follows_a_published_version(district: Runtime) -> None:
    assert jobs.recompute_job(district) is False
    with district.session() as s:
        publish_framework(s, district, system_actor("test"), _version("2026.9"))
    assert jobs.recompute_job(district) is True  # a new version has no run yet
    with district.session() as s:
        versions = s.scalars(select(IndexRun.framework_version)).all()
    assert versions[-1] == "2026.9"
