"""``citygrowth areas …``: import, export, list and locate areas from the command line.

Commands run as the system operator (they have the server's database in hand); imports are
still validated in full and recorded in the audit log under the name ``cli``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from citygrowth.areas import service
from citygrowth.auth.actor import system_actor
from citygrowth.cli.context import CliContext, pass_ctx
from citygrowth.errors import Problem, ValidationFailed
from citygrowth.i18n import N_, _, bilingual

LEVELS = click.Choice(["district", "street", "community", "grid"])
MSG_UNREADABLE = N_("The file cannot be read: {detail}")


@click.group()
def areas() -> None:
    """District, sub-districts, communities and grid cells.

    Example: citygrowth areas list --level street
    """


@areas.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
def import_cmd(cx: CliContext, file: Path) -> None:
    """Import a GeoJSON FeatureCollection (all or nothing).

    Each feature needs the properties code, name_zh (and name_en, population, area_km2 if
    known) and a Polygon or MultiPolygon geometry in lon/lat.

    Example: citygrowth areas import streets.geojson
    """
    try:
        content = file.read_bytes()
    except OSError as exc:
        detail = exc.strerror or str(exc)
        problem = Problem(MSG_UNREADABLE, {"detail": detail}, file=str(file))
        raise ValidationFailed(problems=[problem]) from None
    with cx.session() as session:
        result = service.import_geojson(session, system_actor("cli"), content, file.name)
    click.echo(_("Imported {file}: {created} created, {updated} updated, {unchanged} "
                 "unchanged.").format(file=file.name, created=len(result.created),
                                      updated=len(result.updated),
                                      unchanged=len(result.unchanged)))


@areas.command("export")
@click.option("--level", type=LEVELS, default=None, help="Only areas at this level.")
@click.option("--parent", default=None, help="Only areas under this code.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="File to write (default: standard output).")
@pass_ctx
def export_cmd(cx: CliContext, level: str | None, parent: str | None,
               output: Path | None) -> None:
    """Export areas as a GeoJSON FeatureCollection (re-importable).

    Example: citygrowth areas export --level street --parent 370203 -o streets.geojson
    """
    with cx.session() as session:
        body = service.export_geojson(session, system_actor("cli"), level, parent)
    text = json.dumps(body, ensure_ascii=False, indent=1)
    if output is None:
        click.echo(text)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(_("Wrote {n} areas to {file}.").format(n=len(body["features"]), file=output),
               err=True)


@areas.command("list")
@click.option("--level", type=LEVELS, default=None, help="Only areas at this level.")
@click.option("--parent", default=None, help="Only areas under this code.")
@pass_ctx
def list_cmd(cx: CliContext, level: str | None, parent: str | None) -> None:
    """List areas: code, level, name, population, area in km².

    Example: citygrowth areas list --parent 370203
    """
    with cx.session() as session:
        rows = service.list_areas(session, system_actor("cli"), level, parent)
        for a in rows:
            pop = "" if a.population is None else str(a.population)
            size = "" if a.area_km2 is None else f"{a.area_km2:.2f}"
            mark = " *" if a.illustrative else ""
            click.echo(f"{a.code}\t{a.level}\t{bilingual(a.name_zh, a.name_en)}\t{pop}\t"
                       f"{size}{mark}")
    if any(a.illustrative for a in rows):
        click.echo(_("* illustrative (generated for the demo)"), err=True)


@areas.command("locate")
@click.argument("lon", type=float)
@click.argument("lat", type=float)
@click.option("--wgs84", is_flag=True, help="The point is raw GPS (WGS-84), not GCJ-02.")
@pass_ctx
def locate_cmd(cx: CliContext, lon: float, lat: float, wgs84: bool) -> None:
    """Print the code of the grid cell holding a point (lon/lat, GCJ-02 for the demo).

    Example: citygrowth areas locate 120.3745 36.0905
    """
    with cx.session() as session:
        code = service.locate(session, system_actor("cli"), lon, lat,
                              "wgs84" if wgs84 else "gcj02")
        if code is None:
            raise click.ClickException(_("No grid cell holds the point ({lon}, {lat}).")
                                       .format(lon=lon, lat=lat))
        area = service.get_area(session, system_actor("cli"), code)
        click.echo(f"{code}\t{bilingual(area.name_zh, area.name_en)}")
