"""Helpers (党员帮办, 网格共建): party members and volunteers registered in a grid cell with
their skills take the help tasks of their community (认领), complete them with the hours spent
and a note; hours per helper and per community are reported, and per grid cell and month they
feed the Social-cohesion pillar (``SOC_HELPER_HOURS``, ``SOC_HELP_TASKS_DONE``, written with
the case evaluation, see ``evaluation.write_evaluation``).

Who does what: staff with ``help.manage`` (grid workers, street and district staff) register
helpers and create tasks — on their own or from a case — in their areas; a helper (a login with
``help.take``, registered here) sees and takes the open tasks of the community of the grid cell
they are registered in. A button is offered only when its action is allowed (``can_take``,
``can_finish``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, select, true, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from citygrowth.areas.models import Area
from citygrowth.auth.actor import Actor
from citygrowth.auth.audit import record
from citygrowth.auth.identity import load_actor
from citygrowth.auth.models import User
from citygrowth.auth.permissions import can, require, scope_prefixes
from citygrowth.db import utcnow
from citygrowth.errors import Conflict, Forbidden, NotFound, Problem, ValidationFailed
from citygrowth.governance.models import Case, Helper, HelpTask
from citygrowth.i18n import N_, bilingual
from citygrowth.keyset import keyset

HELPER_KINDS = {"party_member": N_("Party member"), "volunteer": N_("Volunteer")}
TASK_STATUSES = {"open": N_("Open"), "taken": N_("Taken"), "done": N_("Done")}
SKILLS = {"elderly_care": N_("Elderly care"), "repairs": N_("Household repairs"),
          "legal": N_("Legal advice"), "health": N_("Health care"),
          "tutoring": N_("Tutoring"), "mediation": N_("Mediation of disputes"),
          "environment": N_("Tidying the neighbourhood"), "paperwork": N_("Help with paperwork")}
MAX_HOURS = 24.0


def community_of(area_code: str) -> str:
    """The community code of a grid cell (area codes nest: community = the first 12 digits)."""
    return area_code[:12]


# --- helpers ---------------------------------------------------------------------------------

def _skills(values: Iterable[str], problems: list[Problem]) -> list[str]:
    picked = sorted({v.strip() for v in values if v.strip()})
    bad = [v for v in picked if v not in SKILLS]
    if bad:
        problems.append(Problem(N_("Unknown skill {value}; choose from {names}."),
                                {"value": bad[0], "names": ", ".join(SKILLS)},
                                field="skills", value=bad[0]))
    return picked


def register_helper(session: Session, actor: Actor, area_code: str, kind: str, label: str,
                    user_id: int | None = None, skills: Sequence[str] = ()) -> Helper:
    """Register (or re-register) a helper in a grid cell. A helper with a login
    (``user_id``) must hold a role that may take help tasks there; a login has one
    registration, which registering again updates."""
    require(actor, "help.manage", area_code)
    problems: list[Problem] = []
    area = session.get(Area, area_code)
    if area is None or area.level != "grid":
        problems.append(Problem("Helpers are registered in a grid cell.", field="area_code",
                                value=area_code))
    if kind not in HELPER_KINDS:
        problems.append(Problem("Kind must be party_member or volunteer.", field="kind",
                                value=kind))
    label = label.strip()
    if not label or len(label) > 120:
        problems.append(Problem(N_("Give the helper's name (at most 120 characters)."),
                                field="label"))
    picked = _skills(skills, problems)
    if user_id is not None:
        who = load_actor(session, user_id)
        if who is None or not can(who, "help.take", area_code):
            problems.append(Problem(N_("This login may not take help tasks in that grid cell: "
                                       "give it the helper role there first."),
                                    field="username"))
    if problems:
        raise ValidationFailed(problems=problems)
    helper = session.scalar(select(Helper).where(Helper.user_id == user_id)) \
        if user_id is not None else None
    if helper is None:
        helper = Helper(user_id=user_id, illustrative=False, registered_at=utcnow())
        session.add(helper)
    helper.kind, helper.label, helper.area_code, helper.skills = kind, label, area_code, picked
    helper.active, helper.registered_by = True, actor.username[:80]
    session.flush()
    record(session, actor, "helper.register", f"helper:{helper.id}",
           {"area_code": area_code, "kind": kind, "skills": picked, "user_id": user_id})
    return helper


def find_user(session: Session, username: str) -> int:
    """The id of the active login ``username``, or a problem on the ``username`` field."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.active:
        raise ValidationFailed(problems=[Problem(N_("No active login named {name}."),
                                                 {"name": username.strip()},
                                                 field="username", value=username.strip())])
    return user.id


def deactivate_helper(session: Session, actor: Actor, helper_id: int) -> Helper:
    helper = session.get(Helper, helper_id)
    if helper is None or not can(actor, "help.manage", helper.area_code):
        raise NotFound("No helper {id}.", id=helper_id)
    helper.active = False
    session.flush()
    record(session, actor, "helper.deactivate", f"helper:{helper.id}", {})
    return helper


def list_helpers(session: Session, actor: Actor, active_only: bool = True) -> list[Helper]:
    require(actor, "help.manage", None)
    q = select(Helper).where(_in_scope(Helper.area_code, scope_prefixes(actor, "help.manage")))
    if active_only:
        q = q.where(Helper.active.is_(True))
    return list(session.scalars(q.order_by(Helper.area_code, Helper.label)))


def helper_of(session: Session, actor: Actor) -> Helper | None:
    """The actor's own active registration as a helper, if any."""
    if actor.user_id is None:
        return None
    return session.scalar(select(Helper).where(Helper.user_id == actor.user_id,
                                               Helper.active.is_(True)))


# --- tasks -----------------------------------------------------------------------------------

def create_task(session: Session, actor: Actor, area_code: str, title: str,
                description: str = "", case_id: int | None = None,
                skill: str | None = None) -> HelpTask:
    """A help task in a grid cell, on its own or for a case (then in the case's grid cell)."""
    problems: list[Problem] = []
    if case_id is not None:
        case = session.get(Case, case_id)
        if case is None or not can(actor, "case.view", {"area_code": case.area_code,
                                                        "department_code": None}):
            raise NotFound("No case {id}.", id=case_id)
        area_code = area_code or case.area_code
    require(actor, "help.manage", area_code or None)
    area = session.get(Area, area_code) if area_code else None
    if area is None or area.level != "grid":
        problems.append(Problem("Help tasks belong to a grid cell.", field="area_code",
                                value=area_code))
    title, description = title.strip(), description.strip()
    if not title or len(title) > 200:
        problems.append(Problem(N_("Give the task a title (at most 200 characters)."),
                                field="title"))
    if len(description) > 2000:
        problems.append(Problem(N_("At most {n} characters."), {"n": 2000}, field="description"))
    if skill and skill not in SKILLS:
        problems.append(Problem(N_("Unknown skill {value}; choose from {names}."),
                                {"value": skill, "names": ", ".join(SKILLS)}, field="skill",
                                value=skill))
    if problems:
        raise ValidationFailed(problems=problems)
    task = HelpTask(area_code=area_code, title=title, description=description, status="open",
                    case_id=case_id, hours=0.0, illustrative=False, skill=skill or None,
                    note="", created_by=actor.username[:80], created_at=utcnow())
    session.add(task)
    session.flush()
    return task


def _in_scope(column: InstrumentedAttribute[str],
              prefixes: list[str] | None) -> ColumnElement[bool]:
    """``column`` within the area-code ``prefixes`` (None: everywhere; []: nowhere)."""
    if prefixes is None:
        return true()
    if not prefixes:
        return false()
    return or_(*[column.startswith(p, autoescape=True) for p in prefixes])


def task_prefixes(session: Session, actor: Actor) -> list[str] | None:
    """Where ``actor`` sees help tasks: the areas of their grants, and a helper's community."""
    prefixes = scope_prefixes(actor, "help.view")
    helper = helper_of(session, actor)
    if prefixes is None or helper is None:
        return prefixes
    return sorted({*prefixes, community_of(helper.area_code)})


TASK_ORDER = ((HelpTask.status != "open", False), (HelpTask.created_at, True),
              (HelpTask.id, True))


def task_key(task: HelpTask) -> tuple[bool, dt.datetime, int]:
    """The sort key of :data:`TASK_ORDER` (for a cursor)."""
    return task.status != "open", task.created_at, task.id


def list_tasks(session: Session, actor: Actor, status: str | None = None,
               limit: int = 500, after: tuple[bool, dt.datetime, int] | None = None
               ) -> list[HelpTask]:
    """Help tasks ``actor`` sees, open ones first, newest first (after the task whose
    :func:`task_key` is ``after``)."""
    require(actor, "help.view", None)
    q = select(HelpTask).where(_in_scope(HelpTask.area_code, task_prefixes(session, actor)))
    if status:
        q = q.where(HelpTask.status == status)
    if (cond := keyset(TASK_ORDER, after)) is not None:
        q = q.where(cond)
    q = q.order_by(*(c.desc() if d else c for c, d in TASK_ORDER))
    return list(session.scalars(q.limit(max(1, min(limit, 1001)))))


def can_take(helper: Helper | None, task: HelpTask) -> bool:
    """An open task in the community of the helper's grid cell."""
    return (helper is not None and helper.active and task.status == "open"
            and task.area_code.startswith(community_of(helper.area_code)))


def can_finish(helper: Helper | None, task: HelpTask) -> bool:
    return helper is not None and task.status == "taken" and task.helper_id == helper.id


def _task(session: Session, actor: Actor, task_id: int) -> tuple[HelpTask, Helper]:
    require(actor, "help.take", None)
    task = session.get(HelpTask, task_id)
    prefixes = task_prefixes(session, actor)
    if task is None or (prefixes is not None and not any(
            task.area_code.startswith(p) for p in prefixes)):
        raise NotFound("No help task {id}.", id=task_id)
    helper = helper_of(session, actor)
    if helper is None:
        raise Forbidden("Only a registered helper can take help tasks.")
    return task, helper


def take_task(session: Session, actor: Actor, task_id: int) -> HelpTask:
    """Take (认领) an open task of the helper's community; a task is taken once."""
    task, helper = _task(session, actor, task_id)
    if not task.area_code.startswith(community_of(helper.area_code)):
        raise Forbidden(N_("This help task is outside your community."))
    now = utcnow()
    taken = session.execute(update(HelpTask).where(
        HelpTask.id == task.id, HelpTask.status == "open").values(
        status="taken", helper_id=helper.id, taken_at=now))
    if getattr(taken, "rowcount", 0) != 1:
        raise Conflict("This help task is already taken.")
    session.refresh(task)
    return task


def finish_task(session: Session, actor: Actor, task_id: int, hours: float,
                note: str = "") -> HelpTask:
    """Mark a taken task done with the hours spent (more than 0, at most 24) and a note."""
    task, helper = _task(session, actor, task_id)
    if not can_finish(helper, task):
        raise Conflict("Only the helper who took this task can finish it.")
    problems = []
    if not 0 < hours <= MAX_HOURS:
        problems.append(Problem("Hours must be more than 0 and at most 24.", field="hours",
                                value=hours))
    if len(note.strip()) > 2000:
        problems.append(Problem(N_("At most {n} characters."), {"n": 2000}, field="note"))
    if problems:
        raise ValidationFailed(problems=problems)
    task.status, task.hours, task.done_at = "done", float(hours), utcnow()
    task.note = note.strip()
    session.flush()
    return task


# --- hours reported --------------------------------------------------------------------------

@dataclass
class HoursRow:
    code: str  # helper id or community code
    name: str
    community: str  # the community's name
    tasks: int = 0
    hours: float = 0.0
    helpers: int = 0


def hours_report(session: Session, actor: Actor, start: dt.datetime,
                 end: dt.datetime) -> tuple[list[HoursRow], list[HoursRow]]:
    """Tasks done and hours in [start, end) per helper and per community, in ``actor``'s
    areas (illustrative demo tasks included, flagged by their helpers' names)."""
    require(actor, "help.manage", None)
    q = select(HelpTask, Helper).join(Helper, Helper.id == HelpTask.helper_id).where(
        HelpTask.status == "done", HelpTask.done_at >= start, HelpTask.done_at < end,
        _in_scope(HelpTask.area_code, scope_prefixes(actor, "help.manage")))
    by_helper: dict[int, HoursRow] = {}
    by_comm: dict[str, HoursRow] = {}
    helpers_in: dict[str, set[int]] = defaultdict(set)
    for task, helper in session.execute(q):
        comm = community_of(task.area_code)
        h = by_helper.setdefault(helper.id, HoursRow(str(helper.id), helper.label,
                                                     community_of(helper.area_code)))
        c = by_comm.setdefault(comm, HoursRow(comm, "", comm))
        for row in (h, c):
            row.tasks += 1
            row.hours = round(row.hours + task.hours, 2)
        helpers_in[comm].add(helper.id)
    names = {a.code: bilingual(a.name_zh, a.name_en) for a in session.scalars(
        select(Area).where(Area.code.in_({*by_comm, *(h.community for h in by_helper.values())})))}
    for comm, row in by_comm.items():
        row.helpers, row.name = len(helpers_in[comm]), names.get(comm, comm)
    for h in by_helper.values():
        h.community = names.get(h.community, h.community)
    return (sorted(by_helper.values(), key=lambda r: (-r.hours, r.name)),
            sorted(by_comm.values(), key=lambda r: r.code))
