"""``citygrowth analysis …``: forecasts, anomaly checks and briefings from the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click

from citygrowth.auth.actor import system_actor
from citygrowth.cli.context import CliContext, pass_ctx
from citygrowth.i18n import _, get_locale, translate


@click.group()
def analysis() -> None:
    """Forecasts, anomaly checks and monthly briefings.

    Example: citygrowth analysis briefing --month 2026-10 --area 370203 --format pdf
    """


@analysis.command()
@click.option("--indicator", required=True, help="Indicator (or index node) code.")
@click.option("--area", required=True, help="Area code, e.g. 370203.")
@click.option("--horizon", default=12, show_default=True, type=click.IntRange(1, 60))
@pass_ctx
def forecast(cx: CliContext, indicator: str, area: str, horizon: int) -> None:
    """Forecast an indicator for an area, with 80/95 % intervals and backtest errors (JSON).

    Example: citygrowth analysis forecast --indicator ECO_RETAIL_SALES --area 370203
    """
    from citygrowth.analysis.service import forecast_for  # lazy: keeps citygrowth --help fast

    with cx.session() as s:
        fc = forecast_for(s, system_actor("cli"), cx.runtime, indicator, area, horizon)
    out = fc.to_dict()
    out["notes"] = [translate(n) for n in fc.notes]
    click.echo(json.dumps(out, ensure_ascii=False, indent=1))


@analysis.command()
@click.option("--load", "load_id", required=True, help="Load id (see the load history).")
@pass_ctx
def anomalies(cx: CliContext, load_id: str) -> None:
    """List the anomaly warnings of a load, checking it now if it was never checked.

    Example: citygrowth analysis anomalies --load 20261103-0001
    """
    from citygrowth.analysis.routes import anomaly_json  # lazy: keeps citygrowth --help fast
    from citygrowth.analysis.service import anomalies_for_load  # lazy: keeps citygrowth --help fast

    with cx.session() as s:
        rows = anomalies_for_load(s, system_actor("cli"), cx.runtime, load_id)
        items = [anomaly_json(r) for r in rows]
    for w in items:
        click.echo(f"[{w['decision']}] {w['kind_name']}: {w['text']}")
    click.echo(_("{n} warning(s).").format(n=len(items)))


@analysis.command()
@click.option("--month", required=True, help="Month of the briefing, e.g. 2026-10.")
@click.option("--area", required=True, help="Area code (district or street).")
@click.option("--lang", "lang", type=click.Choice(["zh_CN", "en"]), default=None,
              help="Language (default: the CLI's).")
@click.option("--format", "fmt", type=click.Choice(["pdf", "docx", "json"]), default="pdf",
              show_default=True, help="File to copy to --out.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also copy the file here.")
@pass_ctx
def briefing(cx: CliContext, month: str, area: str, lang: str | None, fmt: str,
             out: Path | None) -> None:
    """Make and archive the monthly briefing of an area (PDF, DOCX and JSON).

    Example: citygrowth analysis briefing --month 2026-10 --area 370203 --lang zh_CN --format pdf
    """
    from citygrowth.analysis.briefing.service import (  # lazy: keeps citygrowth --help fast
        briefing_file,
        make_briefing,
    )

    with cx.session() as s:
        rec = make_briefing(s, system_actor("cli"), cx.runtime, area, month,
                            lang or get_locale())
        path = briefing_file(rec, fmt)
    if out is not None:
        shutil.copyfile(path, out)
        path = out
    click.echo(_("Briefing written: {path}").format(path=path))


@analysis.command("monthly")
@click.option("--month", default=None, help="Month (default: the previous month).")
@pass_ctx
def monthly(cx: CliContext, month: str | None) -> None:
    """Make the district's and every street's briefings (zh_CN and en) that are missing.

    Example: citygrowth analysis monthly --month 2026-10
    """
    from citygrowth.analysis.jobs import monthly_briefings  # lazy: keeps citygrowth --help fast

    made = monthly_briefings(cx.runtime, month=month)
    click.echo(_("{n} briefing(s) made.").format(n=len(made)))
