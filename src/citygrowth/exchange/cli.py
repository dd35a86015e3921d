"""``citygrowth exchange …``: exports for, and pulls from, the city-level platform.

Commands run as the system operator (``cli``), like the other domains' commands.
"""

from __future__ import annotations

from pathlib import Path

import click

from citygrowth.auth.actor import system_actor
from citygrowth.cli.context import CliContext, pass_ctx
from citygrowth.i18n import _

OUTPUT = click.Path(dir_okay=False, writable=True, path_type=Path)


@click.group()
def exchange() -> None:
    """Exchange data with the city-level platform (SDMX, CKAN/DCAT, Frictionless).

    Example: citygrowth exchange datapackage -o cgi.zip
    """


@exchange.command("datapackage")
@click.option("-o", "--output", type=OUTPUT, required=True, help="Zip file to write.")
@click.option("--indicator", "indicators", multiple=True,
              help="Only this indicator (repeatable); default every indicator.")
@pass_ctx
def datapackage_cmd(cx: CliContext, output: Path, indicators: tuple[str, ...]) -> None:
    """Write a Frictionless Data Package (datapackage.json + CSVs with Table Schemas, zipped).

    Example: citygrowth exchange datapackage -o cgi.zip --indicator ECO_GDP
    """
    from citygrowth.exchange.service import export_datapackage  # lazy: keeps citygrowth --help fast

    with cx.session() as session:
        body = export_datapackage(session, cx.runtime, system_actor("cli"),
                                  list(indicators) or None)
    output.write_bytes(body)
    click.echo(_("Wrote {file} ({size} bytes).").format(file=str(output), size=len(body)))


@exchange.command("sdmx-structure")
@click.option("-o", "--output", type=OUTPUT, required=True, help="XML file to write.")
@pass_ctx
def sdmx_structure_cmd(cx: CliContext, output: Path) -> None:
    """Write every SDMX structure (dataflow CGI, its DSD, codelists, concepts) as SDMX-ML 2.1.

    Example: citygrowth exchange sdmx-structure -o cgi-structure.xml
    """
    from citygrowth.exchange.sdmx.xml_structure import (  # lazy: keeps citygrowth --help fast
        select,
        write_structure,
    )
    from citygrowth.exchange.sources import publication  # lazy: keeps citygrowth --help fast

    with cx.session() as session:
        ss = publication(session, cx.runtime).structures()
    body = write_structure(ss, select(ss, "dataflow", None, "all"))
    output.write_bytes(body)
    click.echo(_("Wrote {file} ({size} bytes).").format(file=str(output), size=len(body)))


@exchange.command("sdmx-pull")
@click.argument("url")
@click.option("--flow", required=True, help="Remote dataflow id (or AGENCY,ID,VERSION).")
@click.option("--key", default="all", show_default=True,
              help="Series key, e.g. A.GDP+RETAIL.370203 (empty parts are wildcards).")
@click.option("--start", default=None, help="startPeriod, e.g. 2020 or 2024-Q1.")
@click.option("--end", default=None, help="endPeriod.")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="YAML file mapping remote codes to ours (docs/exchange.md).")
@click.option("--api-key", envvar="CITYGROWTH_EXCHANGE_API_KEY", default=None,
              help="API key sent to the remote service as X-API-Key.")
@pass_ctx
def sdmx_pull_cmd(cx: CliContext, url: str, flow: str, key: str, start: str | None,
                  end: str | None, mapping: Path | None, api_key: str | None) -> None:
    """Pull data from a remote SDMX 2.1 REST service and load it (all or nothing).

    Example: citygrowth exchange sdmx-pull https://city.example/sdmx --flow CGI --key A..370203
    """
    from citygrowth.exchange.sdmx.pull import (  # lazy: keeps citygrowth --help fast
        Mapping,
        PullRequest,
        pull_sdmx,
    )

    req = PullRequest(url=url, flow=flow, key=key, start=start, end=end,
                      mapping=Mapping.read(mapping), api_key=api_key)
    with cx.session() as session:
        result = pull_sdmx(session, cx.runtime, system_actor("cli"), req)
    click.echo(_("Loaded {rows} observations of {n} indicators as load {load_id}.").format(
        rows=result.rows, n=len(result.indicators), load_id=result.load_id))
