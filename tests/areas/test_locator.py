"""Point → grid cell: inside, outside, on shared and outer edges; rebuilt when the grid changes."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from citygrowth.areas import service
from citygrowth.areas.locator import GridLocator, get_locator, invalidate_locators
from citygrowth.areas.schemas import AreaUpdate
from citygrowth.auth.actor import Actor, Grant, system_actor
from citygrowth.errors import Unauthenticated, ValidationFailed
from tests.areas.helpers import square
from tests.factories import DISTRICT, make_areas

GRID_1 = "370203001001001"  # lon 120.30–120.31, lat 36.05–36.06
GRID_2 = "370203001001002"  # lon 120.30–120.31, lat 36.06–36.07


@pytest.mark.parametrize(("lon", "lat", "expected"), [
    (120.305, 36.055, GRID_1),                 # inside
    (120.305, 36.065, GRID_2),                 # inside the cell above
    (120.365, 36.065, "370203002002002"),      # inside street B
    (121.5, 37.0, None),                       # far outside
    (120.305, 36.085, None),                   # in the district, but no grid cell there
    (120.305, 36.05 + 0.01, GRID_1),           # on the edge shared by GRID_1 and GRID_2
    (120.30, 36.055, GRID_1),                  # on the outer boundary
    (120.30, 36.05, GRID_1),                   # on a corner
])
def test_locate(sqlite_session: Session, lon: float, lat: float, expected: str | None) -> None:
    make_areas(sqlite_session)
    invalidate_locators()
    assert service.locate(sqlite_session, system_actor(), lon, lat) == expected


def test_locate_many_agrees_with_locate(sqlite_session: Session) -> None:
    make_areas(sqlite_session)
    locator = get_locator(sqlite_session)
    assert len(locator) == 8
    points = [(120.305, 36.055), (120.305, 36.06), (121.5, 37.0), (120.335, 36.065)]
    assert locator.locate_many([p[0] for p in points], [p[1] for p in points]) == [
        locator.locate(*p) for p in points]


def test_locator_is_cached_and_rebuilt_when_the_grid_changes(session: Session) -> None:
    make_areas(session)
    session.commit()
    first = get_locator(session)
    assert get_locator(session) is first  # cached
    admin = Actor(user_id=1, username="admin", grants=(Grant("district_admin", DISTRICT),))
    # move grid 1 into the top half of community 1-1 … which is not allowed to overlap? it is
    # allowed: only containment in the parent is checked
    service.update_area(session, admin, GRID_1,
                        AreaUpdate(geometry=square(120.31, 36.05, 0.01)))
    session.commit()
    second = get_locator(session)
    assert second is not first
    assert second.locate(120.315, 36.055) == GRID_1
    assert second.locate(120.305, 36.055) is None


def test_locate_checks_its_input_and_the_caller(sqlite_session: Session) -> None:
    make_areas(sqlite_session)
    with pytest.raises(ValidationFailed) as info:
        service.locate(sqlite_session, system_actor(), 200.0, 36.0)
    assert info.value.problems[0].field == "lon"
    anonymous = Actor(user_id=None, username="anonymous")
    with pytest.raises(Unauthenticated):
        service.locate(sqlite_session, anonymous, 120.305, 36.055)


def test_empty_locator_answers_none() -> None:
    assert GridLocator([], []).locate(120.0, 36.0) is None


def test_gps_points_are_shifted_into_gcj02(sqlite_session: Session) -> None:
    from citygrowth.areas.geo import wgs84_to_gcj02

    # a known pair (Tiananmen): WGS-84 116.391248, 39.907858 ≈ GCJ-02 116.397428, 39.90923
    lon, lat = wgs84_to_gcj02(116.391248, 39.907858)
    assert lon == pytest.approx(116.397428, abs=1e-4) and lat == pytest.approx(39.90923,
                                                                               abs=1e-4)
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)  # outside China: unchanged
    make_areas(sqlite_session)
    # a GPS fix whose GCJ-02 position is inside grid 1 but whose raw position is not
    gps = (120.2985, 36.0552)
    shifted = wgs84_to_gcj02(*gps)
    assert service.locate(sqlite_session, system_actor(), *shifted) == GRID_1
    assert service.locate(sqlite_session, system_actor(), *gps, datum="wgs84") == GRID_1
    assert service.locate(sqlite_session, system_actor(), *gps) is None
    with pytest.raises(ValidationFailed):
        service.locate(sqlite_session, system_actor(), *gps, datum="bd09")
