"""The root ``citygrowth`` group and the commands that belong to no single domain.

Fast and in the reader's language: the language is picked before click parses the command
line (``citygrowth.cli.localize``), the plugins' commands are listed from an index
(``citygrowth.cli.index``) and a domain is imported only when one of its commands runs, and
the heavy libraries (pydantic, SQLAlchemy, the domains) are imported inside the commands.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
import unicodedata
from collections.abc import Sequence
from graphlib import CycleError, TopologicalSorter
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from citygrowth import __version__
from citygrowth.cli.context import CliContext, pass_ctx
from citygrowth.cli.index import load_index, plugin_commands
from citygrowth.cli.localize import (
    install_click_translations,
    localize,
    pick_locale,
    translate_help,
)
from citygrowth.errors import CityGrowthError
from citygrowth.i18n import (
    Translations,
    _,
    current_translations,
    get_locale,
    locale_context,
    reset_locale,
    set_locale,
    translate,
)

if TYPE_CHECKING:
    from citygrowth.plugins import DemoStep

#: setting names whose values are secrets wherever they appear (masked by ``settings show``)
SECRET_NAME = re.compile(r"(secret|password|passwd|token|api_?key|private|credential)", re.I)
URL_PASSWORD = re.compile(r"^(?P<head>[a-z][a-z0-9+.-]*://[^/@:\s]*:)(?P<pw>[^@/\s]+)(?=@)",
                          re.I)


def _configured_plugins(env_file: Path = Path(".env")) -> tuple[str, ...]:
    """The ``plugins`` setting read cheaply (environment or ``.env``), for listing commands;
    the callback validates it with the settings class."""
    raw = os.environ.get("CITYGROWTH_PLUGINS")
    if raw is None and env_file.is_file():
        for line in env_file.read_text(encoding="utf-8", errors="replace").splitlines():
            key, sep, rest = line.strip().partition("=")
            if sep and key.strip() == "CITYGROWTH_PLUGINS":
                raw = rest.strip().strip("'")
    try:
        value = json.loads(raw) if raw else []
    except json.JSONDecodeError:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


class CityGrowthGroup(click.Group):
    """The root group: translates help and messages, lists the plugins' commands from the
    index, imports a plugin only to run its command, and turns citygrowth errors into clean
    messages instead of tracebacks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._extra_loaded: set[tuple[str, ...]] = set()

    def main(self, args: Sequence[str] | None = None, *rest: Any, **kwargs: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        locale = pick_locale(argv)
        token = set_locale(locale)
        install_click_translations()
        localize(self, locale)
        try:
            return super().main(argv, *rest, **kwargs)
        finally:
            reset_locale(token)

    # --- the plugins' commands ---------------------------------------------------------------

    def _third_party(self) -> None:
        """Add the commands of installed (entry point) and configured plugins."""
        extra = _configured_plugins()
        if extra in self._extra_loaded:
            return
        self._extra_loaded.add(extra)
        plugins: list[Any] = [ep.load() for ep in entry_points(group="citygrowth")]
        plugins += [importlib.import_module(name) for name in extra]
        hooks: list[Any] = []
        folders: list[Path] = []
        for plugin in plugins:
            hooks.append(getattr(plugin, "citygrowth_commands", None))
            locale_dirs = getattr(plugin, "citygrowth_locale_dirs", None)
            if locale_dirs is not None:
                folders += [Path(d) for d in _call_hook(locale_dirs) or []]
        if folders:  # a plugin's catalog translates its commands' help, as it does its pages
            set_locale(get_locale(), Translations(
                (*current_translations().extra_dirs, *folders)))
        for hook in hooks:
            for cmd in (hook() if hook is not None else None) or []:
                if cmd.name and cmd.name not in self.commands and cmd.name not in load_index():
                    self.add_command(localize(cmd, get_locale()))

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._third_party()
        return sorted(set(self.commands) | set(load_index()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            entry = load_index().get(cmd_name)
            if entry is not None:
                for cmd in plugin_commands(entry.plugin):
                    if cmd.name == cmd_name:
                        self.add_command(localize(cmd, get_locale()))
            else:
                self._third_party()
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list, with the index's help for commands not imported, cut to the
        terminal's width in display cells (a Chinese character takes two)."""
        rows = []
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max((len(n) for n in names), default=0)
        for name in names:
            cmd = self.commands.get(name)
            if cmd is not None:
                if cmd.hidden:
                    continue
                text = cmd.get_short_help_str(10_000)
            else:
                full = translate_help(load_index()[name].help, get_locale()) or ""
                text = click.Command(name, help=full).get_short_help_str(10_000)
            rows.append((name, fit(text, limit)))
        if rows:
            with formatter.section(_("Commands")):
                formatter.write_dl(rows)

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


def _call_hook(hook: Any) -> Any:
    """Call a plugin's hook implementation outside a plugin manager (``runtime`` is the one
    argument hooks may take; no runtime exists while commands are listed)."""
    try:
        return hook(runtime=None) if "runtime" in hook.__code__.co_varnames[
            :hook.__code__.co_argcount] else hook()
    except AttributeError:  # not a plain function
        return hook()


def fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` display cells with an ellipsis (wide characters count 2)."""
    cells = [2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text]
    if sum(cells) <= width:
        return text
    used, out = 0, []
    for ch, w in zip(text, cells, strict=True):
        if used + w > width - 3:
            break
        out.append(ch)
        used += w
    return "".join(out).rstrip(" ,，、") + "..."


#: the old name, kept for plugins that subclass it
CleanErrors = CityGrowthGroup


@click.group(cls=CityGrowthGroup)
@click.version_option(__version__, prog_name="citygrowth")
@click.option("--lang", type=click.Choice(["zh_CN", "en"]), default=None,
              help="Language of messages (default: CITYGROWTH_DEFAULT_LOCALE, zh_CN).")
@click.pass_context
def main(ctx: click.Context, lang: str | None) -> None:
    """citygrowth: City Growth Index, grid governance and accountability for a district.

    Example: citygrowth init && citygrowth demo && citygrowth serve
    """
    from citygrowth.settings import Settings  # lazy: pydantic, only when a command runs

    try:
        settings = Settings()
    except Exception as exc:  # pydantic's message names the setting
        raise click.ClickException(f"Invalid setting: {exc}") from None
    ctx.obj = CliContext(settings=settings)
    # the command's language (with the plugins' catalogs once it builds its runtime)
    ctx.with_resource(locale_context(lang or settings.default_locale))
    ctx.call_on_close(ctx.obj.close)


@main.command()
@pass_ctx
def init(cx: CliContext) -> None:
    """Create the data folder and bring the database to the newest schema.

    Example: citygrowth init
    """
    from citygrowth.db import upgrade  # lazy: Alembic and SQLAlchemy

    cx.settings.ensure_dirs()
    upgrade(cx.settings.resolved_database_url, cx.runtime.plugins)
    click.echo(_("Database ready: {url}").format(url=_safe_url(cx.settings.resolved_database_url)))


def _safe_url(url: str) -> str:
    return URL_PASSWORD.sub(lambda m: m.group("head") + "***", url)


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
    from citygrowth.auth.actor import system_actor  # lazy: the domains
    from citygrowth.cli.progress import step_bar  # lazy: rich
    from citygrowth.db import upgrade  # lazy: Alembic and SQLAlchemy
    from citygrowth.plugins import collect_list  # lazy: plugin machinery

    runtime = cx.runtime
    cx.settings.ensure_dirs()
    upgrade(cx.settings.resolved_database_url, runtime.plugins)
    steps = ordered_demo_steps(
        collect_list(runtime.plugins.hook.citygrowth_demo_steps(runtime=runtime)))
    steps = [s for s in steps if not only or s.name in only]
    actor = system_actor("demo")
    with step_bar(_("Demo district"), len(steps)) as advance:
        for step in steps:
            advance(f"{step.name}: {translate(step.description)}")
            step.run(runtime, actor)
    click.echo(_("Demo district loaded."))


@main.command()
@click.option("--host", default=None, help="Address to bind (default: CITYGROWTH_HOST).")
@click.option("--port", default=None, type=int, help="Port (default: CITYGROWTH_PORT).")
@click.option("--workers", default=1, show_default=True, help="uvicorn worker processes.")
@pass_ctx
def serve(cx: CliContext, host: str | None, port: int | None, workers: int) -> None:
    """Serve the web application and API (below CITYGROWTH_ROOT_PATH, trusting the forwarded
    headers of CITYGROWTH_FORWARDED_ALLOW_IPS).

    Example: citygrowth serve --port 8000
    """
    import uvicorn  # lazy: the server only for this command

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
        # open event streams never end by themselves: close them after this long
        timeout_graceful_shutdown=cx.settings.shutdown_timeout_seconds,
    )


@main.group()
def settings() -> None:
    """Inspect settings.

    Example: citygrowth settings show
    """


def masked(name: str, value: Any) -> Any:
    """A setting's value as ``settings show`` prints it: secrets as ***, passwords in URLs
    masked."""
    if SECRET_NAME.search(name):
        return "***" if value else value
    if isinstance(value, str):
        return URL_PASSWORD.sub(lambda m: m.group("head") + "***", value)
    if isinstance(value, list):
        return [masked(name, v) for v in value]
    return value


@settings.command("show")
@pass_ctx
def settings_show(cx: CliContext) -> None:
    """Print the settings in force; the secret key, passwords (also inside the database URL)
    and other key-like values are shown as ***.

    Example: citygrowth settings show
    """
    for name, value in cx.settings.model_dump().items():
        click.echo(f"CITYGROWTH_{name.upper()}={masked(name, value)}")


@settings.command("docs")
def settings_docs() -> None:
    """Print docs/settings.md, generated from the settings class.

    Example: citygrowth settings docs > docs/settings.md
    """
    from citygrowth.settings_docs import render_settings_doc  # lazy: pydantic

    sys.stdout.write(render_settings_doc())
