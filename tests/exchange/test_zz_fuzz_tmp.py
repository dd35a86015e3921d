from __future__ import annotations
import importlib
from typing import Any
import pytest, schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from citygrowth.plugins import get_plugin_manager
from citygrowth.auth.permissions import permission_table
pm = get_plugin_manager()
for n in ("citygrowth.ingest.plugin", "citygrowth.exchange.plugin"):
    if pm.get_plugin(n) is None:
        pm.register(importlib.import_module(n), name=n)
permission_table.cache_clear()
import tempfile, pathlib
from citygrowth.app import create_app
from citygrowth.settings import Settings
from citygrowth.db import upgrade
from tests.exchange.conftest import seed
root = pathlib.Path(tempfile.mkdtemp())
url = f"sqlite:///{root/'x.db'}"
upgrade(url)
S = Settings(data_dir=root/"var", database_url=url, env="test", secret_key="x", scheduler_enabled=False, log_level="ERROR")
S.ensure_dirs()
KEYS = seed(S)
APP = create_app(S)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
schema.config.phases.coverage.enabled = False
schema.config.phases.stateful.enabled = False
schema = schema.include(path_regex="^/(sdmx|api/3|api/action|api/exchange|catalog|dataset)")

@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_fuzz(case: Any) -> None:
    for headers in ({}, {"X-API-Key": KEYS["machine"]}):
        response = case.call(headers=headers)
        case.validate_response(response, checks=[not_a_server_error])
