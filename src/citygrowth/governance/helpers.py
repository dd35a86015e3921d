"""Helpers (党员帮办, 网格共建): party members and volunteers registered in grid cells take
help tasks and log hours; monthly counts feed the Social-cohesion pillar (``SOC_HELPER_HOURS``,
``SOC_HELP_TASKS_DONE``, see ``evaluation``)."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from citygrowth.areas.models import Area
from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import require, scope_prefixes
from citygrowth.db import utcnow
from citygrowth.errors import Conflict, Forbidden, NotFound, Problem, ValidationFailed
from citygrowth.governance.models import Helper, HelpTask
from citygrowth.i18n import N_

HELPER_KINDS = {"party_member": N_("Party member"), "volunteer": N_("Volunteer")}
TASK_STATUSES = {"open": N_("Open"), "taken": N_("Taken"), "done": N_("Done")}


def register_helper(session: Session, actor: Actor, area_code: str, kind: str, label: str,
                    user_id: int | None = None) -> Helper:
    """Register a helper in a grid cell (grid workers, street and district staff)."""
    require(actor, "help.manage", area_code)
    area = session.get(Area, area_code)
    problems = []
    if area is None or area.level != "grid":
        problems.append(Problem("Helpers are registered in a grid cell.", field="area_code",
                                value=area_code))
    if kind not in HELPER_KINDS:
        problems.append(Problem("Kind must be party_member or volunteer.", field="kind",
                                value=kind))
    if problems:
        raise ValidationFailed(problems=problems)
    helper = Helper(user_id=user_id, kind=kind, label=label.strip()[:120] or kind,
                    area_code=area_code, active=True, illustrative=False)
    session.add(helper)
    session.flush()
    return helper


def create_task(session: Session, actor: Actor, area_code: str, title: str,
                description: str = "", case_id: int | None = None) -> HelpTask:
    require(actor, "help.manage", area_code)
    area = session.get(Area, area_code)
    if area is None or area.level != "grid":
        raise ValidationFailed(problems=[Problem("Help tasks belong to a grid cell.",
                                                 field="area_code", value=area_code)])
    task = HelpTask(area_code=area_code, title=title.strip(), description=description.strip(),
                    status="open", case_id=case_id, hours=0.0, illustrative=False)
    session.add(task)
    session.flush()
    return task


def list_tasks(session: Session, actor: Actor, status: str | None = None) -> list[HelpTask]:
    require(actor, "help.view", None)
    q = select(HelpTask)
    prefixes = scope_prefixes(actor, "help.view")
    if prefixes is not None:
        q = q.where(or_(*[HelpTask.area_code.startswith(p) for p in prefixes])) if prefixes \
            else q.where(HelpTask.id.is_(None))
    if status:
        q = q.where(HelpTask.status == status)
    return list(session.scalars(q.order_by(HelpTask.created_at.desc()).limit(500)))


def _helper_of(session: Session, actor: Actor, area_code: str) -> Helper:
    helper = session.scalar(select(Helper).where(Helper.user_id == actor.user_id,
                                                 Helper.active.is_(True)))
    if helper is None:
        raise Forbidden("Only a registered helper can take help tasks.")
    return helper


def take_task(session: Session, actor: Actor, task_id: int) -> HelpTask:
    task = session.get(HelpTask, task_id)
    if task is None:
        raise NotFound("No help task {id}.", id=task_id)
    require(actor, "help.take", task.area_code)
    if task.status != "open":
        raise Conflict("This help task is already taken.")
    task.helper_id = _helper_of(session, actor, task.area_code).id
    task.status, task.taken_at = "taken", utcnow()
    session.flush()
    return task


def finish_task(session: Session, actor: Actor, task_id: int, hours: float) -> HelpTask:
    """Mark a taken task done and log the hours spent (more than 0, at most 24)."""
    task = session.get(HelpTask, task_id)
    if task is None:
        raise NotFound("No help task {id}.", id=task_id)
    require(actor, "help.take", task.area_code)
    helper = _helper_of(session, actor, task.area_code)
    if task.status != "taken" or task.helper_id != helper.id:
        raise Conflict("Only the helper who took this task can finish it.")
    if not 0 < hours <= 24:
        raise ValidationFailed(problems=[Problem("Hours must be more than 0 and at most 24.",
                                                 field="hours", value=hours)])
    task.status, task.hours, task.done_at = "done", float(hours), utcnow()
    session.flush()
    return task
