"""The indicator catalog: the framework tree, indicator search, datasets; page ``/catalog``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from citygrowth.catalog.datasets import list_datasets
from citygrowth.catalog.framework import Framework
from citygrowth.catalog.schemas import (
    DatasetOut,
    FrameworkOut,
    FrameworkTreeOut,
    IndicatorDetailOut,
    IndicatorOut,
)
from citygrowth.web.deps import ActorDep, RuntimeDep
from citygrowth.web.paging import Page, PageRequest, paging
from citygrowth.web.templating import render_page

router = APIRouter(tags=["catalog"])
FrameworkQ = Annotated[str, Query(pattern=r"^[A-Za-z0-9_.-]{1,60}$",
                                  description="Framework code or name (default: CGI).")]
SearchQ = Annotated[str | None, Query(max_length=100, description="Search code, zh or en name.")]


@router.get("/api/catalog/frameworks", summary="Indicator frameworks on offer",
            response_model=Page[FrameworkOut])
def frameworks(runtime: RuntimeDep,
               page: Annotated[PageRequest, paging(100, 1000)]) -> dict[str, Any]:
    """The default City Growth Index and any framework added by plugins."""
    return page.slice([
        {"code": f.code, "version": f.version, "name_zh": f.name_zh, "name_en": f.name_en,
         "indicators": len(f.indicators)} for f in runtime.frameworks.list()])


@router.get("/api/catalog/framework", summary="The framework tree",
            response_model=FrameworkTreeOut)
def framework(runtime: RuntimeDep, name: FrameworkQ = "default") -> dict[str, Any]:
    """Index > pillars > sub-pillars > indicators, with weights, directions, units, roll-up
    rules, goalposts and citations; plus supporting indicators and departments."""
    return runtime.frameworks.load(name).tree()


@router.get("/api/catalog/indicators", summary="Search indicators",
            response_model=Page[IndicatorOut])
def indicators(runtime: RuntimeDep, page: Annotated[PageRequest, paging(500, 1000)],
               q: SearchQ = None, name: FrameworkQ = "default") -> dict[str, Any]:
    """Indicators whose code, Chinese or English name contains ``q``, in the framework's
    order."""
    found = runtime.frameworks.load(name).search(q)
    return page.slice([i.as_dict() for i in found])


@router.get("/api/catalog/indicators/{code}", summary="One indicator",
            response_model=IndicatorDetailOut)
def indicator(runtime: RuntimeDep, code: str, name: FrameworkQ = "default") -> dict[str, Any]:
    """An indicator with its pillar path."""
    fw: Framework = runtime.frameworks.load(name)
    ind = fw.indicator(code)
    path: list[dict[str, str]] = []
    node = ind.parent
    while node:
        n = fw.node(node)
        path.insert(0, {"code": n.code, "name_zh": n.name_zh, "name_en": n.name_en})
        node = n.parent
    return {**ind.as_dict(), "path": path}


@router.get("/api/catalog/datasets", summary="Datasets departments send",
            response_model=Page[DatasetOut])
def datasets(runtime: RuntimeDep,
             page: Annotated[PageRequest, paging(100, 1000)]) -> dict[str, Any]:
    """One dataset per department, with its indicators and columns."""
    fw = runtime.frameworks.load()
    return page.slice([d.as_dict(fw) for d in list_datasets(fw)])


@router.get("/catalog", summary="Catalog page", response_class=HTMLResponse)
def catalog_page(request: Request, actor: ActorDep, runtime: RuntimeDep,
                 q: SearchQ = None) -> Response:
    """The framework tree and a searchable indicator table (htmx swaps the table)."""
    fw = runtime.frameworks.load()
    found = fw.search(q)
    name = "catalog/_indicators.html" if request.headers.get("hx-request") else \
        "catalog/catalog.html"
    return render_page(request, name, actor, {
        "fw": fw, "tree": fw.tree()["tree"], "indicators": found, "q": q or "",
        "pillars": [n for n in fw.nodes if n.kind == "pillar"],
    })
