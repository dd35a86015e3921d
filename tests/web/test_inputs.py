"""The shared input types: every input schema of every route uses them, and nonsense is refused
with one clear error naming the field — the answers of 500 the penetration test found among
them (years 0001/9999 in approvals and Open311 filters, briefing month 9999-12)."""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError

from citygrowth.app import create_app
from citygrowth.inputs import DEFAULT_RANGE, Date, InputModel, Line, Month, Number, Text
from citygrowth.settings import Settings


class Sample(InputModel):
    name: Line = ""
    note: Text = ""
    day: Date | None = None
    month: Month | None = None
    value: Number = 0
    tags: list[str] = []
    extra: dict[str, Any] = {}


@pytest.mark.parametrize(("data", "kind", "field"), [
    ({"name": "a\x00b"}, "text_control", "name"),
    ({"name": "two\nlines"}, "text_control", "name"),
    ({"note": "bell\x07"}, "text_control", "note"),
    ({"tags": ["ok", "lone \ud800"]}, "text_surrogate", "tags"),
    ({"extra": {"k": ["\x1b[31m"]}}, "text_control", "extra"),
    ({"day": "0001-01-01"}, "date_range", "day"),
    ({"day": "9999-12-31"}, "date_range", "day"),
    ({"month": "9999-12"}, "month_range", "month"),
    ({"value": 1e308}, "less_than_equal", "value"),
    ({"value": float("nan")}, "finite_number", "value"),
    ({"extra": {"x": float("inf")}}, "number_finite", "extra"),
])
def test_nonsense_is_refused_naming_the_field(data: dict[str, Any], kind: str,
                                              field: str) -> None:
    with pytest.raises(ValidationError) as err:
        Sample.model_validate(data)
    assert [(e["type"], e["loc"][0]) for e in err.value.errors()] == [(kind, field)]


def test_sense_passes() -> None:
    s = Sample.model_validate({"name": "市北区 · 街道", "note": "第一行\n\t第二行\r\n",
                               "day": "2026-05-01", "month": "2100-12", "value": -1e12})
    assert s.day == dt.date(2026, 5, 1) and s.note.endswith("\r\n")


def _params(dependant: Dependant) -> Iterator[Any]:
    yield from dependant.body_params
    for sub in dependant.dependencies:
        yield from _params(sub)


def _models(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        for field in annotation.model_fields.values():
            yield from _models(field.annotation)
    for arg in typing.get_args(annotation):
        yield from _models(arg)


def body_models(app: Any) -> list[type[BaseModel]]:
    """Every pydantic model a route takes as its body (and the models inside them)."""
    found: dict[str, type[BaseModel]] = {}
    for ctx in iter_route_contexts(app.routes):
        if isinstance(ctx.original_route, APIRoute):
            for p in _params(ctx.original_route.dependant):
                for m in _models(p.field_info.annotation):
                    found[f"{m.__module__}.{m.__qualname__}"] = m
    return list(found.values())


def _is_bounded_date(annotation: Any) -> bool:
    return DEFAULT_RANGE in getattr(annotation, "__metadata__", ()) or any(
        getattr(m, "func", None) is not None and getattr(m.func, "__qualname__", "").startswith(
            "date_between") for m in getattr(annotation, "__metadata__", ()))


def _dates_unbounded(model: type[BaseModel]) -> Iterator[str]:
    for name, field in model.model_fields.items():
        ann = field.rebuild_annotation()
        members = typing.get_args(ann) if isinstance(ann, types.UnionType) else (ann,)
        for member in members:
            base = typing.get_origin(member) is typing.Annotated and typing.get_args(member)[0]
            if (base or member) in (dt.date, dt.datetime) and not _is_bounded_date(member):
                yield f"{model.__name__}.{name}"


def test_every_route_body_is_an_input_model_with_bounded_dates(app: Any) -> None:
    models = body_models(app)
    assert len(models) > 30  # every domain's schemas are found
    assert [m.__name__ for m in models if not issubclass(m, InputModel)] == []
    assert [f for m in models for f in _dates_unbounded(m)] == []


@pytest.fixture
def admin_client(settings: Settings) -> Iterator[TestClient]:
    from citygrowth.db import make_engine, make_sessionmaker
    from tests.factories import TEST_AUDIT, make_areas, make_user
    from tests.web.login import login

    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        make_areas(s)
        make_user(s, "admin", ("district_admin", "370203"))
        s.commit()
    engine.dispose()
    with TestClient(create_app(settings)) as c:
        login(c, "admin", "secret-pass-1")
        yield c


APPROVAL = {"code": "AP-X", "name_zh": "审批", "department_code": "stats", "area_code": "370203",
            "steps": []}


@pytest.mark.parametrize("year", ["0001", "9999"])
def test_years_out_of_range_are_a_422_not_a_500(admin_client: TestClient, year: str) -> None:
    c = admin_client
    r = c.post("/api/accountability/approvals?lang=en",
               json={**APPROVAL, "submitted_at": f"{year}-01-01T09:00:00+08:00"})
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "submitted_at", "message": "The date must lie "
                                   "between 1990-01-01 and 2100-12-31."}]
    for q in (f"start_date={year}-12-30T00:00:00Z", f"end_date={year}-01-01T00:00:00Z"):
        r = c.get(f"/open311/v2/requests.json?{q}&lang=en")
        assert r.status_code == 400
        assert "must lie between the years 1990 and 2100" in r.json()[0]["description"]


def test_briefing_month_9999_12_is_a_422(admin_client: TestClient) -> None:
    r = admin_client.post("/api/analysis/briefings",
                          json={"area_code": "370203", "month": "9999-12"})
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "month",
                                   "message": "月份必须在 1990-01 至 2100-12 之间。"}]
