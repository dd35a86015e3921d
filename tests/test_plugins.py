"""The extension points: every declared hook has a test and a section in docs/extending.md,
and the example plugin package (examples/citygrowth-plugin-example) takes effect through them.
"""

from __future__ import annotations

import inspect
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from citygrowth.app import create_app
from citygrowth.cli.context import CliContext
from citygrowth.db import make_engine, make_sessionmaker, migration_dirs
from citygrowth.plugins import (
    AcceptedLoad,
    DemoStep,
    HookSpecs,
    ScheduledJob,
    collect_list,
    hookimpl,
)
from citygrowth.runtime import Runtime, build_runtime
from citygrowth.scheduler import Scheduler
from citygrowth.settings import Settings
from tests.factories import DISTRICT, STREET_A, TEST_AUDIT, make_areas, make_user
from tests.web.login import login

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "citygrowth-plugin-example"
MODULE = "citygrowth_plugin_example.plugin"


def hook_names() -> list[str]:
    return sorted(n for n, f in inspect.getmembers(HookSpecs, inspect.isfunction)
                  if n.startswith("citygrowth_"))


def test_plugin_hooks_have_tests() -> None:
    texts = [p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("test_*.py")]
    untested = [n for n in hook_names() if not any(re.search(rf"\b{n}\b", t) for t in texts)]
    assert not untested, f"hooks without a test: {untested}"


def test_plugin_hooks_are_documented() -> None:
    doc = (ROOT / "docs" / "extending.md").read_text(encoding="utf-8")
    sections = set(re.findall(r"^##+ `?(citygrowth_\w+)", doc, flags=re.M))
    missing = sorted(set(hook_names()) - sections)
    assert not missing, f"hooks without a section in docs/extending.md: {missing}"


def test_example_declares_its_entry_point() -> None:
    meta = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["entry-points"]["citygrowth"] == {"example": MODULE}


# --- the example plugin, loaded through the ``plugins`` setting ----------------------------------

@pytest.fixture
def example_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.syspath_prepend(str(EXAMPLE))
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        make_areas(s)
        make_user(s, "cmd", ("street_commander", STREET_A))
        make_user(s, "res", ("resident", DISTRICT))
        s.commit()
    engine.dispose()
    yield settings.model_copy(update={"plugins": [MODULE]})


@pytest.fixture
def example_runtime(example_settings: Settings) -> Iterator[Runtime]:
    runtime = build_runtime(example_settings)
    yield runtime
    runtime.dispose()


@pytest.fixture
def example_client(example_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(example_settings)) as c:
        yield c


def test_example_contributes_through_each_hook(example_runtime: Runtime) -> None:
    hook, rt = example_runtime.plugins.hook, example_runtime
    paths = {r.path for group in hook.citygrowth_routers(runtime=rt) for router in group
             for r in router.routes}
    assert "/api/example/notices" in paths
    perms = [p.get("street_commander", ()) for p in hook.citygrowth_permissions(runtime=rt)]
    assert any("example.notice.read" in p for p in perms)
    assert "/example/notices" in [i.href for g in hook.citygrowth_nav_items(runtime=rt)
                                  for i in g]
    assert any(d.endswith("templates") and "plugin_example" in d
               for g in hook.citygrowth_template_dirs(runtime=rt) for d in g)
    assert any((Path(d) / "zh_CN.po").exists() and "plugin_example" in d
               for g in hook.citygrowth_locale_dirs(runtime=rt) for d in g)
    assert any(".tsv" in g for g in hook.citygrowth_data_readers(runtime=rt))


def test_a_runtime_without_the_plugin_does_not_see_it(example_settings: Settings) -> None:
    """Plugins are the runtime's, not the process's: one built without the setting has none
    of the example's permissions, even after another runtime loaded the example."""
    with_example = build_runtime(example_settings)
    without = build_runtime(example_settings.model_copy(update={"plugins": []}),
                            entry_points=False)
    assert "example.notice.read" in with_example.permissions["street_commander"]
    assert "example.notice.read" not in without.permissions["street_commander"]


def test_example_router_and_permission_take_effect(example_client: TestClient) -> None:
    permissions = example_client.app.state.runtime.permissions  # type: ignore[attr-defined]
    assert "example.notice.read" in permissions["street_commander"]
    assert example_client.get("/api/example/notices").status_code == 401
    login(example_client, "cmd", "secret-pass-1")
    notices = example_client.get("/api/example/notices").json()
    assert [n["area_code"] for n in notices] == [STREET_A]  # scoped to the commander's street


def test_example_nav_item_template_and_catalog(example_client: TestClient) -> None:
    login(example_client, "cmd", "secret-pass-1")
    home = example_client.get("/").text
    assert 'href="/example/notices">街道公告</a>' in home  # nav item, translated by its catalog
    page = example_client.get("/example/notices").text
    assert "<h1>街道公告</h1>" in page and "周六上午停水检修" in page


def test_example_nav_item_hidden_without_the_permission(example_client: TestClient) -> None:
    login(example_client, "res", "secret-pass-1")
    assert "/example/notices" not in example_client.get("/").text
    assert example_client.get("/api/example/notices").status_code == 403


def test_example_command(example_settings: Settings, example_runtime: Runtime) -> None:
    commands = {c.name: c for group in example_runtime.plugins.hook.citygrowth_commands()
                for c in group}
    result = CliRunner().invoke(commands["example-notices"],
                                obj=CliContext(settings=example_settings))
    assert result.exit_code == 0 and "周六上午停水检修" in result.output


def test_a_plugin_named_only_in_the_setting_adds_its_command(
        example_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from citygrowth.cli import main

    for key, value in (("PLUGINS", f'["{MODULE}"]'), ("DATA_DIR", str(example_settings.data_dir)),
                       ("DATABASE_URL", example_settings.resolved_database_url),
                       ("ENV", "test"), ("SECRET_KEY", "test-secret")):
        monkeypatch.setenv(f"CITYGROWTH_{key}", value)
    result = CliRunner().invoke(main, ["example-notices"])
    assert result.exit_code == 0, result.output
    assert "周六上午停水检修" in result.output
    assert "example-notices" in CliRunner().invoke(main, ["--help"]).output


def test_example_case_category_enters_the_taxonomy(example_runtime: Runtime,
                                                   session: Session) -> None:
    from citygrowth.governance.models import CaseCategory
    from citygrowth.governance.taxonomy import ensure_taxonomy

    assert any(c.code == "E0599" for group in example_runtime.plugins.hook
               .citygrowth_case_categories(runtime=example_runtime) for c in group)
    ensure_taxonomy(session, example_runtime)
    cat = session.get(CaseCategory, "E0599")
    assert cat is not None and cat.name_zh == "共享单车乱停放" and cat.parent_code == "E05"


def test_example_dispatch_channel(example_runtime: Runtime) -> None:
    channels: dict[str, Any] = {}
    for c in example_runtime.plugins.hook.citygrowth_dispatch_channels(runtime=example_runtime):
        channels.update(c or {})
    assert channels["example-log"](object())["delivered"] is True


TSV = "indicator\tarea_code\tperiod\tvalue\nECO_GDP\t370203\t2024-Q1\t174.02\n"


def test_example_reader_loads_a_tsv_with_the_cli(example_settings: Settings,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    """``citygrowth data load x.tsv`` through the example's reader (citygrowth_data_readers),
    as an administrator runs it: the plugin named in the setting, nothing called directly."""
    from citygrowth.cli import main
    from citygrowth.observatory.store import ObservationStore

    for key, value in (("PLUGINS", f'["{MODULE}"]'), ("DATA_DIR", str(example_settings.data_dir)),
                       ("DATABASE_URL", example_settings.resolved_database_url),
                       ("ENV", "test"), ("SECRET_KEY", "test-secret")):
        monkeypatch.setenv(f"CITYGROWTH_{key}", value)
    good = tmp_path / "gdp.tsv"
    good.write_text(TSV, encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(main, ["--lang", "en", "data", "load", str(good), "--dataset", "stats"])
    assert r.exit_code == 0, r.output
    assert "Loaded 1 rows as L" in r.output
    rows = ObservationStore(example_settings).query(indicators=["ECO_GDP"])
    assert rows["value"].tolist() == [174.02]
    # a mistake is named by the row people see (the header is row 1) and the column
    bad = tmp_path / "bad.tsv"
    bad.write_text(TSV + "NOPE\t370203\t2024-Q1\t1\n", encoding="utf-8")
    r = runner.invoke(main, ["--lang", "en", "data", "load", str(bad), "--dataset", "stats"])
    assert r.exit_code == 1 and "row=3, field=indicator" in r.output, r.output
    assert "Traceback" not in r.output
    broken = tmp_path / "broken.tsv"
    broken.write_bytes(b"\xff\xfe\x00 not text")
    r = runner.invoke(main, ["data", "load", str(broken), "--dataset", "stats"])
    assert r.exit_code == 1 and "broken.tsv" in r.output and "Traceback" not in r.output


def test_example_reader_on_the_upload_page(example_settings: Settings,
                                           example_client: TestClient) -> None:
    engine = make_engine(example_settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        make_user(s, "admin", ("district_admin", DISTRICT))
        s.commit()
    engine.dispose()
    token = login(example_client, "admin", "secret-pass-1")
    page = example_client.get("/data/upload").text
    assert 'accept=".csv,.json,.tsv,.txt,.xlsx"' in page and "TSV" in page
    r = example_client.post("/data/upload", headers={"HX-Request": "true"},
                            data={"dataset": "stats", "csrf_token": token},
                            files={"file": ("gdp.tsv", TSV.encode(), "text/tab-separated-values")})
    assert r.status_code == 200 and 'data-testid="upload-ok"' in r.text, r.text
    r = example_client.post("/data/upload", headers={"HX-Request": "true"},
                            data={"dataset": "stats", "csrf_token": token},
                            files={"file": ("bad.tsv", (TSV + "NOPE\t370203\t2024-Q1\t1\n")
                                            .encode(), "text/tab-separated-values")})
    assert 'data-testid="upload-error"' in r.text and "<td>3</td>" in r.text


# --- the hooks the example does not use, through small inline plugins ----------------------------

class Inline:
    """A plugin object registered on one test's runtime."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.loads: list[AcceptedLoad] = []
        (tmp / "migrations").mkdir()
        (tmp / "fw.yaml").write_text("code: x\n", encoding="utf-8")

    @hookimpl
    def citygrowth_migration_dirs(self) -> list[str]:
        return [str(self.tmp / "migrations")]

    @hookimpl
    def citygrowth_indicator_frameworks(self) -> list[Path]:
        return [self.tmp / "fw.yaml"]

    @hookimpl
    def citygrowth_demo_steps(self) -> list[DemoStep]:
        return [DemoStep(name="inline", run=lambda runtime, actor: None, after=("users",))]

    @hookimpl
    def citygrowth_scheduled_jobs(self, runtime: Runtime) -> list[ScheduledJob]:
        self.seen = runtime  # every hook may take the runtime it serves
        return [ScheduledJob(name="inline-job", every_seconds=60, run=lambda runtime: None)]

    @hookimpl
    def citygrowth_event(self, runtime: Runtime, topic: str, payload: dict[str, Any]) -> None:
        self.events.append((topic, payload))

    @hookimpl
    def citygrowth_load_accepted(self, load: AcceptedLoad) -> list[dict[str, Any]]:
        self.loads.append(load)
        return [{"kind": "inline", "rows": load.rows}]

    @hookimpl
    def citygrowth_fast_paths(self, runtime: Runtime) -> list[Any]:
        def wrap(app: ASGIApp) -> ASGIApp:
            async def fast(scope: Scope, receive: Receive, send: Send) -> None:
                if scope["type"] == "http" and scope["path"] == "/inline-fast":
                    await PlainTextResponse(runtime.settings.district_code)(scope, receive, send)
                    return
                await app(scope, receive, send)
            return fast
        return [wrap]


@pytest.fixture
def inline(tmp_path: Path, runtime: Runtime) -> Inline:
    plugin = Inline(tmp_path)
    runtime.plugins.register(plugin, name="inline-test-plugin")
    return plugin


def test_migration_dirs_and_frameworks_are_collected(inline: Inline, runtime: Runtime) -> None:
    assert inline.tmp / "migrations" in migration_dirs(runtime.plugins)
    assert inline.tmp / "fw.yaml" in runtime.frameworks.files()


def test_demo_step_runs_after_the_users(inline: Inline, runtime: Runtime) -> None:
    from citygrowth.cli.main import ordered_demo_steps

    order = [s.name for s in ordered_demo_steps(
        collect_list(runtime.plugins.hook.citygrowth_demo_steps(runtime=runtime)))]
    assert order.index("areas") < order.index("users") < order.index("inline")


def test_scheduled_job_and_event_hooks(inline: Inline, runtime: Runtime) -> None:
    assert "inline-job" in [j.name for j in Scheduler(runtime).jobs]
    assert inline.seen is runtime
    runtime.bus.publish("case.changed", {"id": 7})
    assert inline.events == [("case.changed", {"id": 7})]


def test_a_declared_fast_path_answers_ahead_of_the_stack(inline: Inline,
                                                         runtime: Runtime) -> None:
    with TestClient(create_app(runtime=runtime)) as client:
        r = client.get("/inline-fast")
        assert r.status_code == 200 and r.text == runtime.settings.district_code
        assert client.get("/healthz").status_code == 200  # everything else: the stack


def test_an_accepted_load_is_shown_to_the_load_hooks(inline: Inline, runtime: Runtime) -> None:
    import pandas as pd

    from citygrowth.auth.actor import system_actor
    from citygrowth.ingest.service import load_observations

    with runtime.session() as s:
        make_areas(s)
    frame = pd.DataFrame({"indicator": ["APP_MUSEUMS"], "area_code": [STREET_A],
                          "period": ["2024"], "value": [3.0]})
    with runtime.session() as s:
        result = load_observations(s, runtime, system_actor("t"), frame, source="t")
    assert {"kind": "inline", "rows": 1} in result.extra["warnings"]
    assert [(x.load_id, x.rows, x.batch.exists()) for x in inline.loads] == [
        (result.load_id, 1, False)]  # shown before commit; the batch has moved in since
