"""No route declares an optional parameter as ``Annotated[T, Query(...)] | None``: pydantic then
sees the Query on one member of a union and its metadata (alias, description) has no effect —
FastAPI silences that warning, so nothing else would tell. (A failed CI request once blamed on
this was the race described in ``tests/serve.py``.)"""

from __future__ import annotations

import inspect
import types
import typing
from typing import Annotated, get_args, get_origin, get_type_hints

from fastapi.routing import APIRoute
from pydantic.fields import FieldInfo

from citygrowth.app import create_app
from citygrowth.settings import Settings


def _union_members(tp: object) -> tuple[object, ...]:
    if get_origin(tp) in (typing.Union, types.UnionType):
        return get_args(tp)
    return ()


def _api_routes(routes: list[object]) -> list[APIRoute]:
    """Every APIRoute, looking into included routers (kept as wrappers by FastAPI)."""
    out: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            out.append(route)
        inner = getattr(route, "original_router", None) or getattr(route, "router", None)
        if inner is not None and hasattr(inner, "routes"):
            out.extend(_api_routes(list(inner.routes)))
    return out


def test_optional_parameters_put_none_inside_annotated(settings: Settings) -> None:
    app = create_app(settings)
    routes = _api_routes(list(app.routes))
    assert len(routes) > 100  # the walk reaches the domains' routers
    bad = []
    for route in routes:
        hints = get_type_hints(route.endpoint, include_extras=True)
        for name in inspect.signature(route.endpoint).parameters:
            for member in _union_members(hints.get(name)):
                if get_origin(member) is Annotated and any(
                        isinstance(m, FieldInfo) for m in member.__metadata__):
                    bad.append(f"{route.path} {name}")
    assert not bad, f"write Annotated[T | None, Query(...)] instead: {bad}"
