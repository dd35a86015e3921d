"""Every hook implementation of the example plugin, in one module."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
import duckdb
from fastapi import APIRouter, Request
from fastapi.responses import Response

from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import require, scope_prefixes
from citygrowth.cli.context import CliContext, pass_ctx
from citygrowth.i18n import N_
from citygrowth.ingest.readers import Read, unreadable
from citygrowth.logging_setup import get_logger
from citygrowth.plugins import CaseCategorySpec, NavItem, hookimpl
from citygrowth.web.deps import ActorDep, UserDep
from citygrowth.web.templating import render_page

HERE = Path(__file__).parent
PERMISSION = "example.notice.read"
log = get_logger(__name__)

# The notices live in code to keep the example short; a real plugin would add a table through
# ``citygrowth_migration_dirs`` and a models module.
NOTICES: tuple[dict[str, str], ...] = (
    {"area_code": "370203001", "text_zh": "周六上午停水检修",
     "text_en": "Water off Saturday morning"},
    {"area_code": "370203002", "text_zh": "社区义诊本周五", "text_en": "Free clinic on Friday"},
)


def visible_notices(actor: Actor) -> list[dict[str, str]]:
    """The notices of the streets the actor may read (a service: ``require`` first)."""
    require(actor, PERMISSION)
    prefixes = scope_prefixes(actor, PERMISSION)
    return [n for n in NOTICES
            if prefixes is None or any(n["area_code"].startswith(p) for p in prefixes)]


router = APIRouter(tags=["example"])


@router.get("/api/example/notices", summary="Street notices")
def notices_json(actor: UserDep) -> list[dict[str, str]]:
    """Notices of the caller's streets."""
    return visible_notices(actor)


@router.get("/example/notices", summary="Street notices page", response_class=Response)
def notices_page(request: Request, actor: ActorDep) -> Response:
    """The same notices as a page."""
    return render_page(request, "example/notices.html", actor,
                       {"notices": visible_notices(actor)})


@click.command("example-notices")
@pass_ctx
def notices_command(cx: CliContext) -> None:
    """Print every street notice.

    Example: citygrowth example-notices
    """
    from citygrowth.auth.actor import system_actor

    for n in visible_notices(system_actor("cli")):
        click.echo(f"{n['area_code']}  {n['text_zh']}")


def read_tsv(con: duckdb.DuckDBPyConnection, path: Path) -> Read:
    """A data reader for tab-separated files with a header row (UTF-8): what core expects of
    every reader, a ``Read`` — the file's columns as a DuckDB relation, all text, and the row
    number people see for the first record (2: the header is row 1). A file DuckDB cannot
    read becomes the clean error ``unreadable`` makes, naming the file."""
    try:
        path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise unreadable(path, "not UTF-8 text") from None
    try:
        relation = con.read_csv(str(path), sep="\t", header=True, all_varchar=True,
                                quotechar="", auto_detect=True)
    except duckdb.Error as exc:
        raise unreadable(path, str(exc).splitlines()[0][:300]) from None
    return Read(relation, 2)


def dispatch_to_log(case: Any, **details: Any) -> dict[str, Any]:
    """A dispatch channel that only writes the case to the log."""
    log.info("example dispatch", case=getattr(case, "id", case), **details)
    return {"delivered": True, "channel": "example-log"}


@hookimpl
def citygrowth_routers() -> Sequence[APIRouter]:
    return [router]


@hookimpl
def citygrowth_commands() -> Sequence[click.Command]:
    return [notices_command]


@hookimpl
def citygrowth_permissions() -> dict[str, Sequence[str]]:
    return {"district_admin": [PERMISSION], "street_commander": [PERMISSION]}


@hookimpl
def citygrowth_nav_items() -> Sequence[NavItem]:
    return [NavItem(label=N_("Street notices"), href="/example/notices",
                    permission=PERMISSION, order=800)]


@hookimpl
def citygrowth_case_categories() -> Sequence[CaseCategorySpec]:
    return [CaseCategorySpec(code="E0599", kind="event", name_zh="共享单车乱停放",
                             name_en="Badly parked shared bikes", parent_code="E05",
                             department_code="urban", time_limit_hours=8)]


@hookimpl
def citygrowth_data_readers() -> dict[str, Callable[..., Any]]:
    return {".tsv": read_tsv}


@hookimpl
def citygrowth_dispatch_channels() -> dict[str, Callable[..., Any]]:
    return {"example-log": dispatch_to_log}


@hookimpl
def citygrowth_template_dirs() -> Sequence[str]:
    return [str(HERE / "templates")]


@hookimpl
def citygrowth_locale_dirs() -> Sequence[str]:
    return [str(HERE / "locale")]

