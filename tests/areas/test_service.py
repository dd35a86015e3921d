"""Reading is scoped; only district administrators change areas; changes are audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.areas import service
from citygrowth.areas.models import Area
from citygrowth.areas.schemas import AreaInput, AreaUpdate
from citygrowth.auth.actor import ANONYMOUS, Actor, Grant
from citygrowth.auth.models import AuditEntry
from citygrowth.errors import Conflict, Forbidden, NotFound, Unauthenticated, ValidationFailed
from tests.areas.helpers import square
from tests.factories import DISTRICT, STREET_A, STREET_B, make_areas, make_user

ADMIN = Actor(user_id=1, username="admin", grants=(Grant("district_admin", DISTRICT),))


def test_a_street_commander_sees_only_their_street(session: Session) -> None:
    make_areas(session)
    _, commander = make_user(session, "cmd-a", ("street_commander", STREET_A))
    codes = [a.code for a in service.list_areas(session, commander)]
    assert codes and all(c.startswith(STREET_A) for c in codes)
    assert len(codes) == 7  # the street, 2 communities, 4 grid cells
    assert [a.code for a in service.list_areas(session, commander, level="street")] == [STREET_A]
    assert service.list_areas(session, commander, parent=STREET_B) == []
    with pytest.raises(Forbidden):
        service.get_area(session, commander, STREET_B)
    with pytest.raises(Forbidden):
        service.children(session, commander, DISTRICT)
    assert [a.code for a in service.ancestors(session, commander, f"{STREET_A}001")] == [
        STREET_A]
    assert len(service.descendants(session, commander, STREET_A, "grid")) == 4
    # the district administrator sees everything
    assert len(service.list_areas(session, ADMIN)) == 15
    assert [a.code for a in service.ancestors(session, ADMIN, f"{STREET_A}001")] == [
        DISTRICT, STREET_A]


def test_every_role_reads_and_anonymous_does_not(session: Session) -> None:
    make_areas(session)
    for role in ("analyst", "department_officer", "grid_worker", "helper", "resident",
                 "machine"):
        actor = Actor(user_id=9, username=role, grants=(Grant(role, DISTRICT),))
        assert len(service.list_areas(session, actor, level="street")) == 2
    with pytest.raises(Unauthenticated):
        service.list_areas(session, ANONYMOUS)
    # the public GeoJSON is readable without a login
    assert len(service.public_geojson(session, level="grid")["features"]) == 8


def test_lookups_explain_bad_and_unknown_codes(session: Session) -> None:
    make_areas(session)
    with pytest.raises(ValidationFailed) as info:
        service.get_area(session, ADMIN, "12ab")
    assert info.value.problems[0].field == "code"
    with pytest.raises(NotFound) as missing:
        service.get_area(session, ADMIN, "370203009")
    assert missing.value.render_message("en") == "There is no area with code 370203009."
    with pytest.raises(ValidationFailed):
        service.list_areas(session, ADMIN, level="planet")
    with pytest.raises(ValidationFailed):
        service.list_areas(session, ADMIN, parent="x")


def test_create_and_update_are_checked_and_audited(session: Session) -> None:
    make_areas(session)
    area = service.create_area(session, ADMIN, AreaInput(
        code="370203003", name_zh="街道3", name_en="Street 3",
        geometry=square(120.30, 36.09, 0.02), population=500))
    assert area.level == "street" and area.parent_code == DISTRICT
    assert area.area_km2 == pytest.approx(3.998, abs=0.01)
    assert area.centroid_lon == pytest.approx(120.31)
    with pytest.raises(Conflict):
        service.create_area(session, ADMIN, AreaInput(code="370203003", name_zh="重复"))
    with pytest.raises(ValidationFailed) as info:
        service.create_area(session, ADMIN, AreaInput(code="370203008001", name_zh="无父"))
    assert "370203008" in info.value.problems[0].render("en")["message"]
    with pytest.raises(ValidationFailed):  # outside its parent
        service.create_area(session, ADMIN, AreaInput(
            code="370203003001", name_zh="外面", geometry=square(121.0, 37.0, 0.01)))
    updated = service.update_area(session, ADMIN, "370203003",
                                  AreaUpdate(name_en="Third Street", population=600))
    assert (updated.name_en, updated.population, updated.name_zh) == ("Third Street", 600,
                                                                      "街道3")
    actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["areas.create", "areas.update"]
    with pytest.raises(NotFound):
        service.update_area(session, ADMIN, "370203007", AreaUpdate(name_en="x"))


def test_only_district_admins_change_areas(session: Session) -> None:
    make_areas(session)
    commander = Actor(user_id=2, username="cmd", grants=(Grant("street_commander", STREET_A),))
    with pytest.raises(Forbidden):
        service.update_area(session, commander, STREET_A, AreaUpdate(name_en="Mine"))
    with pytest.raises(Forbidden):
        service.create_area(session, commander, AreaInput(code=f"{STREET_A}009",
                                                          name_zh="新社区"))
    # an administrator of street A only may not touch street B
    street_admin = Actor(user_id=3, username="sa", grants=(Grant("district_admin", STREET_A),))
    with pytest.raises(Forbidden):
        service.update_area(session, street_admin, STREET_B, AreaUpdate(name_en="B"))
    assert session.scalar(select(Area.name_en).where(Area.code == STREET_A)) == "Street 1"
