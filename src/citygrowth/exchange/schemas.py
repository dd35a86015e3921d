"""Pydantic shapes of the exchange API's answers (CKAN's envelope is CKAN's own)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from citygrowth.web.openapi import Responses, Timestamp
from citygrowth.web.paging import Page


class PublishedObservationOut(BaseModel):
    indicator: str
    area_code: str
    period: str
    freq: str
    value: float | None
    unit: str | None
    vintage: Timestamp


class IndicatorObservationsPage(Page[PublishedObservationOut]):
    indicator: str


class CkanOkOut(BaseModel):
    """CKAN's envelope of an action's answer."""

    help: str = Field(description="Where the action is described")
    success: Literal[True] = True
    result: Any = Field(description="The action's result, as CKAN gives it")


class CkanVersionOut(BaseModel):
    version: int


JSONLD: Responses = {200: {"description": "A JSON-LD document (DCAT-AP).", "content": {
    "application/ld+json": {"schema": {"type": "object", "additionalProperties": True}}}}}
