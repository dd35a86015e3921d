"""``citygrowth exchange …``: exports and pulls for the city-level platform."""

from __future__ import annotations

import click


@click.group()
def exchange() -> None:
    """Exchange data with the city-level platform (SDMX, CKAN/DCAT, Frictionless).

    Example: citygrowth exchange datapackage -o cgi.zip
    """
