"""What the exchange publishes, read from the catalog and the areas (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from citygrowth.catalog.framework import builtin_framework
from citygrowth.exchange.sources import agency_id, publication
from citygrowth.runtime import build_runtime
from citygrowth.settings import Settings
from tests.factories import DISTRICT, STREET_A, make_areas


def test_publication_holds_framework_and_area_tree(session: Session, tmp_path) -> None:
    make_areas(session)
    settings = Settings(data_dir=tmp_path, district_code="370203")
    runtime = build_runtime(settings)
    pub = publication(session, runtime)
    assert pub.agency == agency_id(settings) == "CN_370203"
    fw = builtin_framework()
    assert len(pub.indicators) == len(fw.indicators)
    gdp = pub.indicator("ECO_GDP")
    assert gdp is not None and (gdp.pillar, gdp.pillar_name_zh) == ("ECO", "经济实力")
    assert pub.departments["stats"] == ("区统计局", "Statistics Bureau")
    areas = {a.code: a for a in pub.areas}
    assert len(areas) == 1 + 2 + 4 + 8
    assert areas[STREET_A].parent_code == DISTRICT and areas[STREET_A].level == "street"
    ss = pub.structures()
    assert [c.id for c in ss.codelist("CL_AREA").codes][:3] == [DISTRICT, STREET_A,
                                                                "370203002"]
    assert publication(session, runtime, with_areas=False).areas == ()
