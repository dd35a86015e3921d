"""The root ``citygrowth`` group and the commands that belong to no single domain."""

from __future__ import annotations

import sys
from graphlib import CycleError, TopologicalSorter
from typing import Any

import click
from rich.console import Console
from sqlalchemy.engine import make_url

from citygrowth import __version__
from citygrowth.auth.actor import system_actor
from citygrowth.cli.context import CliContext, pass_ctx
from citygrowth.db import upgrade
from citygrowth.errors import CityGrowthError
from citygrowth.i18n import _, locale_context, translate
from citygrowth.plugins import DemoStep, build_plugin_manager, collect_list
from citygrowth.settings import Settings

console = Console(stderr=True)


class CleanErrors(click.Group):
    """Turns citygrowth errors into clean messages instead of tracebacks, and adds the
    plugins' command groups on first use (not at import, so a domain's ``cli.py`` can be
    imported before this module)."""

    _added_for: set[tuple[str, ...]] = set()

    def _add_plugin_commands(self) -> None:
        """Add the command groups of the built-in, installed and configured plugins.

        Click looks a subcommand up before the group's callback runs, so the ``plugins``
        setting is read here too (an invalid setting is reported by the callback)."""
        try:
            extra = tuple(Settings().plugins)
        except Exception:  # noqa: BLE001 - main() names the invalid setting
            extra = ()
        if extra in self._added_for:
            return
        self._added_for.add(extra)
        for cmd in collect_list(build_plugin_manager(extra).hook.citygrowth_commands()):
            if cmd.name not in self.commands:
                self.add_command(cmd)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._add_plugin_commands()
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CityGrowthError as exc:
            lines = [exc.render_message()]
            for p in exc.problems:
                r = p.render()
                where = ", ".join(
                    f"{k}={r[k]}" for k in ("file", "row", "field") if r.get(k) is not None
                )
                lines.append(f"  - {where + ': ' if where else ''}{r['message']}")
            raise click.ClickException("\n".join(lines)) from None


@click.group(cls=CleanErrors)
@click.version_option(__version__, prog_name="citygrowth")
@click.option("--lang", type=click.Choice(["zh_CN", "en"]), default=None,
              help="Language of messages (default: CITYGROWTH_DEFAULT_LOCALE, zh_CN).")
@click.pass_context
def main(ctx: click.Context, lang: str | None) -> None:
    """citygrowth: City Growth Index, grid governance and accountability for a district.

    Example: citygrowth init && citygrowth demo && citygrowth serve
    """
    try:
        settings = Settings()
    except Exception as exc:  # pydantic's message names the setting
        raise click.ClickException(f"Invalid setting: {exc}") from None
    ctx.obj = CliContext(settings=settings)
    # the command's language (with the plugins' catalogs once it builds its runtime)
    ctx.with_resource(locale_context(lang or settings.default_locale))


@main.command()
@pass_ctx
def init(cx: CliContext) -> None:
    """Create the data folder and bring the database to the newest schema.

    Example: citygrowth init
    """
    cx.settings.ensure_dirs()
    upgrade(cx.settings.resolved_database_url, cx.runtime.plugins)
    click.echo(_("Database ready: {url}").format(url=_safe_url(cx.settings.resolved_database_url)))


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def ordered_demo_steps(steps: list[DemoStep]) -> list[DemoStep]:
    """Demo steps in an order that honours each step's ``after``."""
    by_name = {s.name: s for s in steps}
    graph = {s.name: {a for a in s.after if a in by_name} for s in steps}
    try:
        return [by_name[n] for n in TopologicalSorter(graph).static_order()]
    except CycleError as exc:  # a plugin bug, not a user's
        raise click.ClickException(f"demo steps depend on each other in a cycle: {exc}") from None


@main.command()
@click.option("--only", multiple=True, help="Run only these steps (repeatable).")
@pass_ctx
def demo(cx: CliContext, only: tuple[str, ...]) -> None:
    """Load the demo district (Shibei, 370203): areas, users, data, cases. Idempotent.

    Example: citygrowth demo
    """
    runtime = cx.runtime
    cx.settings.ensure_dirs()
    upgrade(cx.settings.resolved_database_url, runtime.plugins)
    steps = ordered_demo_steps(
        collect_list(runtime.plugins.hook.citygrowth_demo_steps(runtime=runtime)))
    actor = system_actor("demo")
    for step in steps:
        if only and step.name not in only:
            continue
        console.print(f"[bold]demo[/bold] {step.name}: {translate(step.description)}")
        step.run(runtime, actor)
    click.echo(_("Demo district loaded."))


@main.command()
@click.option("--host", default=None, help="Address to bind (default: CITYGROWTH_HOST).")
@click.option("--port", default=None, type=int, help="Port (default: CITYGROWTH_PORT).")
@click.option("--workers", default=1, show_default=True, help="uvicorn worker processes.")
@pass_ctx
def serve(cx: CliContext, host: str | None, port: int | None, workers: int) -> None:
    """Serve the web application and API.

    Example: citygrowth serve --port 8000
    """
    import uvicorn  # lazy: the server loads only for `serve`

    uvicorn.run(
        "citygrowth.app:create_app",
        factory=True,
        host=host or cx.settings.host,
        port=port or cx.settings.port,
        workers=workers,
        log_level=cx.settings.log_level.lower(),
        root_path=cx.settings.root_path,
        proxy_headers=True,
        forwarded_allow_ips=cx.settings.forwarded_allow_ips,
    )


@main.group()
def settings() -> None:
    """Inspect settings.

    Example: citygrowth settings show
    """


@settings.command("show")
@pass_ctx
def settings_show(cx: CliContext) -> None:
    """Print the settings in force (secrets hidden).

    Example: citygrowth settings show
    """
    for name, value in cx.settings.model_dump().items():
        if "secret" in name and value:
            value = "***"
        click.echo(f"CITYGROWTH_{name.upper()}={value}")


@settings.command("docs")
def settings_docs() -> None:
    """Print docs/settings.md, generated from the settings class.

    Example: citygrowth settings docs > docs/settings.md
    """
    from citygrowth.settings_docs import render_settings_doc  # lazy: keeps citygrowth --help fast

    sys.stdout.write(render_settings_doc())
