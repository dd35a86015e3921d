"""Pydantic models at the edges of the index API."""

from __future__ import annotations

from pydantic import Field

from citygrowth.inputs import InputModel


class ComputeIn(InputModel):
    """Body of ``POST /api/index/runs``."""

    framework: str = Field("default", min_length=1, max_length=60,
                           pattern=r"^[A-Za-z0-9_.-]+$",
                           description="Catalog framework name (default: the City Growth Index).")
