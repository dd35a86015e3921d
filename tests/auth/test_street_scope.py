"""A street commander cannot read or change another street's resources (areas here; each
domain adds its own), neither through ``require`` nor through the areas service."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from citygrowth.areas import service as areas
from citygrowth.areas.schemas import AreaUpdate
from citygrowth.auth.permissions import can, require, scope_prefixes
from citygrowth.errors import Forbidden
from tests.factories import STREET_A, STREET_B, make_areas, make_user


def test_require_refuses_another_streets_area(session: Session) -> None:
    make_areas(session)
    _, cmd = make_user(session, "cmd", ("street_commander", STREET_A))
    other = areas.areas_by_code(session, [STREET_B])[STREET_B]
    own_grid = f"{STREET_A}001001"
    require(cmd, "areas.read", own_grid)
    with pytest.raises(Forbidden) as exc:
        require(cmd, "areas.read", other)
    assert exc.value.params == {"permission": "areas.read"}
    assert scope_prefixes(cmd, "areas.read") == [STREET_A]
    assert not can(cmd, "areas.write", STREET_A)


def test_street_commander_reads_only_own_street(session: Session) -> None:
    make_areas(session)
    _, cmd = make_user(session, "cmd", ("street_commander", STREET_A))
    assert areas.get_area(session, cmd, STREET_A).code == STREET_A
    with pytest.raises(Forbidden):
        areas.get_area(session, cmd, STREET_B)
    listed = {a.code for a in areas.list_areas(session, cmd, level="community")}
    assert listed == {f"{STREET_A}001", f"{STREET_A}002"}


def test_street_commander_cannot_change_another_street(session: Session) -> None:
    make_areas(session)
    _, cmd = make_user(session, "cmd", ("street_commander", STREET_A))
    with pytest.raises(Forbidden):
        areas.update_area(session, cmd, STREET_B, AreaUpdate(name_en="Renamed"))
    assert areas.areas_by_code(session, [STREET_B])[STREET_B].name_en == "Street 2"
