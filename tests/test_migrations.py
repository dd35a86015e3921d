"""After ``upgrade`` the migrated schema is exactly the ORM's (``Base.metadata``), on SQLite and
PostgreSQL: every domain's hand-written revisions must match its models."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import citygrowth
from citygrowth.db import Base, alembic_config, current_heads, make_engine


def import_all_models() -> list[str]:
    """Import every ``citygrowth.<domain>.models`` (module or package) so Base knows them."""
    names = []
    for info in pkgutil.walk_packages(citygrowth.__path__, "citygrowth."):
        if info.name.rsplit(".", 1)[-1] == "models" or ".models." in info.name:
            importlib.import_module(info.name)
            names.append(info.name)
    return names


def _describe(diff: Any) -> str:
    if isinstance(diff, list):
        return "; ".join(_describe(d) for d in diff)
    return repr(diff)


def test_migrated_schema_matches_the_models(db_url: str) -> None:
    modules = import_all_models()
    assert "citygrowth.auth.models" in modules and "citygrowth.areas.models" in modules
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "compare_server_default": False})
            diffs = compare_metadata(ctx, Base.metadata)
    finally:
        engine.dispose()
    assert not diffs, ("the migrations do not match the models (write or fix the domain's "
                       "revision):\n" + "\n".join(_describe(d) for d in diffs))


def test_every_branch_is_at_its_head(db_url: str) -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(db_url))
    current = current_heads(db_url)
    applied = {r.revision for r in script.revision_map._get_ancestor_nodes(
        script.revision_map.get_revisions(tuple(current)))}
    missing = set(script.get_heads()) - applied
    assert current and not missing, f"revisions not applied by upgrade: {sorted(missing)}"
