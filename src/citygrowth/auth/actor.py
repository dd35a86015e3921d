"""Who is acting: the :class:`Actor` every service function receives.

An actor holds role grants; each grant is a role scoped to an area (by code: a grant on
``370203001`` covers that street and every community and grid cell under it, since area codes
nest by prefix) and, for department officers, to a department.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from citygrowth.i18n import N_

ROLES: dict[str, str] = {
    "district_admin": N_("District administrator"),
    "analyst": N_("Analyst"),
    "department_officer": N_("Department officer"),
    "street_commander": N_("Street command-center staff"),
    "grid_worker": N_("Grid worker"),
    "helper": N_("Party-member or volunteer helper"),
    "resident": N_("Resident"),
    "machine": N_("Machine client (city-level platform)"),
}


@dataclass(frozen=True)
class Grant:
    """A role held within an area (code prefix) and, optionally, for one department."""

    role: str
    area_code: str
    department_code: str | None = None

    def covers_area(self, area_code: str | None) -> bool:
        if area_code is None:
            return True
        return area_code.startswith(self.area_code)


@dataclass(frozen=True)
class Actor:
    """The user (or machine client, or the system itself) on whose behalf a service runs."""

    user_id: int | None
    username: str
    grants: tuple[Grant, ...] = field(default_factory=tuple)
    display_name: str = ""
    api_key_id: int | None = None
    is_system: bool = False
    # role → permissions of the runtime that authenticated this actor (None: the built-ins)
    permissions: Mapping[str, frozenset[str]] | None = field(
        default=None, compare=False, hash=False, repr=False)
    #: the user's session version when the actor comes from a web session (see auth.sessions)
    session_version: int | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None and not self.is_system

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(g.role for g in self.grants)

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def area_codes(self, role: str | None = None) -> list[str]:
        """Area-code prefixes this actor is scoped to (optionally for one role)."""
        return sorted({g.area_code for g in self.grants if role is None or g.role == role})

    @property
    def department_codes(self) -> frozenset[str]:
        return frozenset(g.department_code for g in self.grants if g.department_code)


ANONYMOUS = Actor(user_id=None, username="anonymous")


def system_actor(reason: str = "system") -> Actor:
    """The actor of scheduled jobs, migrations and the demo loader: may do anything."""
    return Actor(user_id=None, username=reason, is_system=True)
