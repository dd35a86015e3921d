"""Every router of the exchange domain."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from citygrowth.exchange.sdmx.routes import router as sdmx

    return [sdmx]
