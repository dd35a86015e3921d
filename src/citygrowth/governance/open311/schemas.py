"""The GeoReport v2 answers in JSON, as pydantic models for the OpenAPI description.

The Open311 endpoints keep the spec's own formats (not citygrowth's list envelope): each
answers JSON or XML as its URL's ``.{fmt}`` asks, errors as a list of ``{code,
description}``. These models describe the JSON; the XML carries the same data under the spec's
element names (``services/service``, ``service_requests/request`` …).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, RootModel

from citygrowth.web.openapi import ERROR_TEXT, TEXT


class Open311Service(BaseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool = Field(description="true: the service has attributes (GET its definition)")
    type: str = Field(description="realtime")
    keywords: str
    group: str


class Open311Value(BaseModel):
    key: str
    name: str


class Open311Attribute(BaseModel):
    variable: bool
    code: str
    datatype: str = Field(description="string, number, datetime, text, singlevaluelist or "
                                      "multivaluelist")
    required: bool
    datatype_description: str
    order: int
    description: str
    values: list[Open311Value]


class Open311Definition(BaseModel):
    service_code: str
    attributes: list[Open311Attribute]


class Open311Note(BaseModel):
    datetime: str
    type: str
    description: str


class Open311Request(BaseModel):
    """A service request; ``extended_attributes`` and ``notes`` with ``extensions=true``."""

    service_request_id: str
    status: str = Field(description="open or closed")
    status_notes: str
    service_name: str
    service_code: str
    description: str
    agency_responsible: str
    service_notice: str
    requested_datetime: str | None = Field(description="w3 date-time in the district's zone")
    updated_datetime: str | None
    expected_datetime: str | None
    address: str
    address_id: str
    zipcode: str
    lat: float | None
    long: float | None
    media_url: str | None
    extended_attributes: dict[str, Any] | None = None
    notes: list[Open311Note] | None = None


class Open311Posted(BaseModel):
    service_request_id: str
    service_notice: str
    account_id: str | None


class Open311Token(BaseModel):
    service_request_id: str
    token: str


class Open311Update(BaseModel):
    """A status update (FixMyStreet's servicerequestupdates extension)."""

    update_id: str
    service_request_id: str
    status: str
    updated_datetime: str | None
    description: str
    media_url: str


class Open311Endpoint(BaseModel):
    specification: str
    url: str
    changeset: str
    type: str = Field(description="production or test")
    formats: list[str]


class Open311Discovery(BaseModel):
    changeset: str
    contact: str
    key_service: str
    endpoints: list[Open311Endpoint]


class Open311Services(RootModel[list[Open311Service]]):
    pass


class Open311Requests(RootModel[list[Open311Request]]):
    pass


class Open311PostedList(RootModel[list[Open311Posted]]):
    pass


class Open311Tokens(RootModel[list[Open311Token]]):
    pass


class Open311Updates(RootModel[list[Open311Update]]):
    pass


SPEC_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": ERROR_TEXT["400"]},
    403: {"description": "The api_key is missing (where one is needed) or not valid."},
    404: {"description": "The format, jurisdiction, service or request was not found."},
}


def answers(model: type[BaseModel], status: int = 200,
            description: str = "Successful Response") -> dict[int | str, dict[str, Any]]:
    """``responses=`` of an Open311 operation: ``model`` as JSON, the same data as XML, and
    the spec's errors."""
    return {status: {"model": model, "description": description,
                     "content": {"text/xml": {"schema": TEXT}}}, **SPEC_ERRORS}
