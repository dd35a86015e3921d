"""Permissions: which role may do what, and ``require`` — the first line of every service.

Each domain declares the permissions it grants per role through the ``citygrowth_permissions``
hook, so the table lives beside the code it protects. ``require(actor, permission, resource)``
passes when some grant of the actor's gives ``permission`` and that grant's scope covers the
resource:

* a resource with an ``area_code`` must lie inside the grant's area (code prefix);
* a resource with a ``department_code`` must be the grant's department when the grant is tied
  to one (department officers);
* a resource may be a plain area code string, or ``None`` for area-less actions.

The system actor passes every check. Anything else raises :class:`Forbidden` (or
:class:`Unauthenticated` for the anonymous actor) with a message naming the permission.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pluggy

from citygrowth.auth.actor import Actor, Grant
from citygrowth.errors import Forbidden, Unauthenticated
from citygrowth.plugins import build_plugin_manager

if TYPE_CHECKING:
    from citygrowth.runtime import Runtime

# Permissions anyone, even anonymous, holds (public pages, resident reports through Open311).
PUBLIC = "public"


PermissionTable = Mapping[str, frozenset[str]]


def build_permission_table(pm: pluggy.PluginManager, runtime: Runtime | None = None,
                           ) -> PermissionTable:
    """role → permissions, merged from every plugin's ``citygrowth_permissions``."""
    table: dict[str, set[str]] = {}
    for contribution in pm.hook.citygrowth_permissions(runtime=runtime):
        for role, perms in (contribution or {}).items():
            table.setdefault(role, set()).update(perms)
    return MappingProxyType({role: frozenset(perms) for role, perms in table.items()})


@lru_cache(maxsize=1)
def builtin_permission_table() -> PermissionTable:
    """The built-in domains' table: what an actor made without a runtime's table (tests, the
    system's own actors) is checked against. Actors of a running app carry their runtime's."""
    return build_permission_table(build_plugin_manager(entry_points=False))


def table_of(actor: Actor) -> PermissionTable:
    return actor.permissions if actor.permissions is not None else builtin_permission_table()


def all_permissions(table: PermissionTable) -> frozenset[str]:
    out: set[str] = set()
    for perms in table.values():
        out |= perms
    return frozenset(out)


def _resource_scope(resource: Any) -> tuple[str | None, str | None]:
    if resource is None:
        return None, None
    if isinstance(resource, str):
        return resource, None
    if isinstance(resource, dict):
        return resource.get("area_code"), resource.get("department_code")
    return getattr(resource, "area_code", None), getattr(resource, "department_code", None)


def grant_allows(grant: Grant, permission: str, resource: object = None,
                 table: PermissionTable | None = None) -> bool:
    if permission not in (table or builtin_permission_table()).get(grant.role, frozenset()):
        return False
    area_code, department_code = _resource_scope(resource)
    if area_code is not None and not grant.covers_area(area_code):
        return False
    if grant.department_code and department_code and grant.department_code != department_code:
        return False
    return True


def can(actor: Actor, permission: str, resource: Any = None) -> bool:
    """True when ``actor`` may do ``permission`` on ``resource``."""
    if actor.is_system:
        return True
    table = table_of(actor)
    return any(grant_allows(g, permission, resource, table) for g in actor.grants)


def require(actor: Actor, permission: str, resource: Any = None) -> None:
    """Raise unless ``actor`` may do ``permission`` on ``resource``. Call it first, always."""
    if can(actor, permission, resource):
        return
    if actor.is_anonymous:
        raise Unauthenticated()
    raise Forbidden(
        "You are not allowed to do this ({permission}).", permission=permission
    )


def scope_prefixes(actor: Actor, permission: str) -> list[str] | None:
    """Area-code prefixes within which ``actor`` holds ``permission``; None means everywhere.

    Services use it to filter lists (``WHERE area_code LIKE prefix || '%'``) so that a street
    never even sees another street's rows.
    """
    if actor.is_system:
        return None
    table = table_of(actor)
    prefixes = sorted(
        {g.area_code for g in actor.grants if permission in table.get(g.role, frozenset())}
    )
    return prefixes


def departments_for(actor: Actor, permission: str) -> set[str] | None:
    """Departments to which ``actor``'s ``permission`` is limited; None means not limited."""
    if actor.is_system:
        return None
    table = table_of(actor)
    grants: Iterable[Grant] = [
        g for g in actor.grants if permission in table.get(g.role, frozenset())
    ]
    depts: set[str] = set()
    for g in grants:
        if g.department_code is None:
            return None
        depts.add(g.department_code)
    return depts
