"""Generated demo records (illustrative below the real totals): projects, approvals, the desk.

Every generator draws from its own seeded ``random.Random`` so the output is the same on every
run for the same date.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from citygrowth.accountability.models import (
    ApprovalItem,
    ApprovalStep,
    Enterprise,
    Lead,
    LeadEvent,
    Project,
    ProjectInvestment,
    ProjectMilestone,
    ProjectProblem,
    ServiceRequest,
)
from citygrowth.areas.models import Area
from citygrowth.workdays import add_working_days, is_workday

TOTAL_PROJECTS = 119
TOTAL_YI = 1530

# industry, count, total 亿元, lead department, name templates (zh, en)
INDUSTRY_PLAN: tuple[tuple[str, int, int, str, tuple[tuple[str, str], ...]], ...] = (
    ("blue_economy", 28, 380, "ndrc", (("海洋科技创新中心", "Marine Technology Centre"),
                                       ("海洋生物医药研发基地", "Marine Biomedicine R&D Base"),
                                       ("智慧港航服务平台", "Smart Port and Shipping Platform"),
                                       ("蓝色金融服务中心", "Blue Finance Service Centre"))),
    ("sci_tech", 26, 350, "science", (("科技创新园", "Science and Technology Innovation Park"),
                                      ("孵化加速器", "Incubator and Accelerator"),
                                      ("工业互联网创新中心", "Industrial Internet Centre"),
                                      ("新材料研发中心", "New Materials R&D Centre"))),
    ("big_data", 22, 300, "bigdata", (("大数据产业园", "Big Data Industrial Park"),
                                      ("智算中心", "Intelligent Computing Centre"),
                                      ("数据交易服务中心", "Data Trading Service Centre"),
                                      ("软件信息服务基地", "Software Services Base"))),
    ("finance", 12, 180, "finance", (("金融商务区", "Financial Business District"),
                                     ("财富管理中心", "Wealth Management Centre"),
                                     ("金融科技大厦", "Fintech Tower"))),
    ("commerce", 12, 140, "commerce", (("商业综合体", "Commercial Complex"),
                                       ("跨境电商产业园", "Cross-border E-commerce Park"),
                                       ("特色商业街区提升", "Shopping Street Upgrade"))),
    ("culture_tourism", 10, 90, "culture", (("文化创意街区", "Cultural and Creative Quarter"),
                                            ("工业遗址文旅项目", "Industrial Heritage Tourism"),
                                            ("博物馆群提升", "Museum Cluster Upgrade"))),
    ("urban_renewal", 9, 90, "housing", (("城市更新片区", "Urban Renewal Area"),
                                         ("老旧厂区改造", "Old Factory Site Renewal"),
                                         ("历史街区保护更新", "Historic Quarter Renewal"))),
)
PLACES = (("长沙路", "Changsha Road"), ("宁乡路", "Ningxiang Road"), ("郑州路", "Zhengzhou Road"),
          ("海泊河", "Haibo River"), ("沾化路", "Zhanhua Road"), ("登州路", "Dengzhou Road"),
          ("辽宁路", "Liaoning Road"))
STAGE_COUNTS = (("construction", 55), ("preparing", 30), ("planning", 20), ("completed", 14))
PROBLEMS = (
    ("用地指标待协调", "urban"), ("施工许可手续待办理", "housing"), ("周边道路配套待完善", "urban"),
    ("电力增容待协调", "ndrc"), ("征收补偿待落实", "housing"), ("人才公寓配套待落实", "hrss"),
)


def split_exact(total: int, n: int, rng: random.Random) -> list[int]:
    """``n`` positive integers summing exactly to ``total`` (seeded, uneven weights)."""
    weights = [rng.uniform(0.3, 3.0) for _ in range(n)]
    s = sum(weights)
    parts = [max(1, int(total * w / s)) for w in weights]
    parts[parts.index(max(parts))] += total - sum(parts)
    return parts


def _where(streets: list[Area], district: str, rng: random.Random) -> tuple[str, float | None,
                                                                              float | None]:
    if not streets:
        return district, None, None
    s = rng.choice(streets)
    if s.centroid_lon is None or s.centroid_lat is None:
        return s.code, None, None
    return (s.code, round(s.centroid_lon + rng.uniform(-0.004, 0.004), 6),
            round(s.centroid_lat + rng.uniform(-0.004, 0.004), 6))


def _months(first: dt.date, today: dt.date) -> list[str]:
    out, y, m = [], first.year, first.month
    while (y, m) <= (today.year, today.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _investments(project: Project, today: dt.date, rng: random.Random) -> None:
    if project.stage not in ("construction", "completed"):
        return
    months = _months(dt.date(today.year - 1, 1, 1), today)
    share = rng.uniform(0.9, 1.0) if project.stage == "completed" else rng.uniform(0.2, 0.55)
    amounts = split_exact(max(int(project.total_wan * share), len(months)), len(months), rng)
    for period, amount in zip(months, amounts, strict=True):
        project.investments.append(ProjectInvestment(period=period, planned_wan=amount,
                                                     completed_wan=amount))


# (title zh, title en, due (year from start or end, month, day), done from this stage on)
MILESTONES = (
    ("完成项目备案", "Project filed", ("start", 3, 31), "preparing"),
    ("开工建设", "Construction started", ("start", 9, 30), "construction"),
    ("主体工程完工", "Main works completed", ("end", 6, 30), "completed"),
    ("竣工验收", "Final acceptance", ("end", 12, 15), "completed"),
)
STAGE_ORDER = ("planning", "preparing", "construction", "completed")


def _milestones(p: Project, today: dt.date, late: bool) -> list[ProjectMilestone]:
    """The project's plan: filed, started, main works, accepted — done up to its stage (never
    after today). Open ones fall due after today, one to three months apart, except in the
    projects running ``late``, whose first open milestone keeps its passed date."""
    out: list[ProjectMilestone] = []
    for zh, en, (which, month, day), done_from in MILESTONES:
        due = dt.date(p.start_year if which == "start" else p.end_year, month, day)
        done = STAGE_ORDER.index(p.stage) >= STAGE_ORDER.index(done_from)
        if not done and due <= today and not (late and all(m.done_on for m in out)):
            last = max([m.due_date for m in out if m.done_on is None] + [today])
            due = last + dt.timedelta(days=45 + 30 * (len(out) % 2))
        out.append(ProjectMilestone(title_zh=zh, title_en=en, due_date=due,
                                    done_on=min(due - dt.timedelta(days=10), today)
                                    if done else None))
    return out


def seed_projects(session: Session, district: str, streets: list[Area],
                  today: dt.date) -> list[Project]:
    """119 key projects whose investment sums to exactly 1530 亿元."""
    rng = random.Random(119_1530)
    stages = [s for s, n in STAGE_COUNTS for _ in range(n)]
    rng.shuffle(stages)
    projects: list[Project] = []
    for industry, count, total_yi, dept, names in INDUSTRY_PLAN:
        amounts = split_exact(total_yi * 100, count, rng)  # in 0.01 亿元 = 100 万元
        for i, amount in enumerate(amounts):
            place = PLACES[(i + len(projects)) % len(PLACES)]
            tpl = names[i % len(names)]
            area, lon, lat = _where(streets, district, rng)
            stage = stages[len(projects)]
            start = today.year - (2 if stage == "completed" else rng.choice((0, 1)))
            end = start + rng.choice((2, 3, 4))
            end = min(end, today.year) if stage == "completed" else end
            p = Project(code=f"KP-{len(projects) + 1:03d}", name_zh=f"{place[0]}{tpl[0]}",
                        name_en=f"{place[1]} {tpl[1]}", industry=industry, stage=stage,
                        department_code=dept, area_code=area, total_wan=amount * 100,
                        start_year=start, end_year=end,
                        lon=lon, lat=lat, illustrative=True)
            _investments(p, today, rng)
            p.milestones.extend(_milestones(p, today, late=len(projects) % 9 == 4))
            projects.append(p)
    for i, (text, owner) in enumerate(PROBLEMS):
        p = projects[7 + 17 * i]
        p.problems.append(ProjectProblem(
            description=text, owner_department_code=owner,
            deadline=today + dt.timedelta(days=10 + 7 * i), raised_by="demo",
            status="resolved" if i == 0 else "open",
            resolution="已协调解决" if i == 0 else ""))
    session.add_all(projects)
    session.flush()
    return projects


# Median working days to approval by year offset from 2019 (the 20 → 1 story).
MEDIAN_BY_YEAR = {2019: 22, 2020: 17, 2021: 11, 2022: 6, 2023: 3, 2024: 2, 2025: 1}
COUNT_BY_YEAR = {2019: 60, 2020: 64, 2021: 70, 2022: 74, 2023: 80, 2024: 88, 2025: 95}
THIS_YEAR_COUNT = 97  # "近百个" (nearly 100) approved so far this year
KINDS = ("filing", "filing", "filing", "approval", "initiation")
STEPS = (("受理", "Acceptance", "ndrc"), ("联合审查", "Joint review", "housing"),
         ("批复", "Decision", "ndrc"))


def _at(day: dt.date, tz: ZoneInfo, hour: int, minute: int = 0) -> dt.datetime:
    """A local time of ``day`` in ``tz``, as UTC."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz).astimezone(dt.UTC)


def _median_for(year: int, month: int) -> float:
    a = MEDIAN_BY_YEAR.get(year, 1)
    b = MEDIAN_BY_YEAR.get(year + 1, 1)
    return a + (b - a) * (month - 1) / 12


def _approval(code: str, day: dt.date, days: int, rng: random.Random, district: str,
              streets: list[Area], project: Project | None, limit: int, tz: ZoneInfo,
              pending: bool = False) -> ApprovalItem:
    area = rng.choice(streets).code if streets else district
    done = add_working_days(day, days)
    kind = rng.choice(KINDS)
    name = project.name_zh if project else f"企业投资项目{code[-4:]}"
    item = ApprovalItem(code=code, name_zh=f"{name}{'备案' if kind == 'filing' else '审批'}",
                        name_en=f"{project.name_en if project else 'Enterprise project'} {kind}",
                        kind=kind, project_id=project.id if project else None,
                        department_code="ndrc", area_code=area, submitted_at=_at(day, tz, 9, 30),
                        approved_at=None if pending else _at(done, tz, 16), limit_days=limit,
                        status="pending" if pending else "approved", illustrative=True)
    mid = add_working_days(day, days // 2)
    for seq, (zh, en, dept) in enumerate(STEPS, start=1):
        start = {1: _at(day, tz, 9, 30), 2: _at(day, tz, 11), 3: _at(mid, tz, 9)}[seq]
        end = None if pending and seq == 3 else {1: _at(day, tz, 10, 30), 2: _at(mid, tz, 9),
                                                 3: _at(done, tz, 16)}[seq]
        item.steps.append(ApprovalStep(seq=seq, name_zh=zh, name_en=en, department_code=dept,
                                       started_at=start, finished_at=end))
    return item


def _workdays_in(year: int, month: int, until: dt.date) -> list[dt.date]:
    day, out = dt.date(year, month, 1), []
    while day.month == month and day < until:
        if is_workday(day):
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def seed_approvals(session: Session, district: str, streets: list[Area],
                   projects: list[Project], today: dt.date, tz: ZoneInfo) -> int:
    """Approvals from 2019 to today: median 20 working days falling to 1."""
    rng = random.Random(20_1)
    items: list[ApprovalItem] = []
    for year in range(2019, today.year + 1):
        count = THIS_YEAR_COUNT if year == today.year else COUNT_BY_YEAR.get(year, 95)
        months = 12 if year < today.year else today.month
        for k in range(count):
            month = 1 + k * months // count
            median = _median_for(year, month)
            days = max(1, round(median * rng.uniform(0.6, 1.4)))
            limit = 20 if year <= 2022 else (5 if year == 2023 else 1)
            for _ in range(50):  # pick a submission day whose approval is not after today
                cands = _workdays_in(year, month, today)
                day = rng.choice(cands) if cands else None
                if day and add_working_days(day, days) < today:
                    break
                month = max(1, month - 1)
            if day is None:
                continue
            project = rng.choice(projects) if projects and year >= today.year - 1 else None
            items.append(_approval(f"AP-{year}-{k + 1:04d}", day, days, rng, district, streets,
                                   project, limit, tz))
    for i, back in enumerate((0, 1, 6)):  # pending now; the last one is overdue
        day = today - dt.timedelta(days=back)
        while not is_workday(day):
            day -= dt.timedelta(days=1)
        items.append(_approval(f"AP-{today.year}-P{i + 1:03d}", day, 1, rng, district, streets,
                               None, 1, tz, pending=True))
    session.add_all(items)
    session.flush()
    return len(items)


ENTERPRISE_WORDS = (
    ("海洋生物", "Marine Biotech", "blue_economy"), ("智能航运", "Smart Shipping", "blue_economy"),
    ("工业互联网", "Industrial Internet", "sci_tech"), ("新材料", "New Materials", "sci_tech"),
    ("智算", "AI Computing", "big_data"), ("数据服务", "Data Services", "big_data"),
    ("金融科技", "Fintech", "finance"), ("跨境电商", "Cross-border Commerce", "commerce"),
    ("文旅发展", "Culture and Tourism", "culture_tourism"),
    ("医疗器械", "Medical Devices", "health"),
    ("集成电路设计", "Chip Design", "sci_tech"), ("海洋装备", "Marine Equipment", "blue_economy"),
)
LEAD_DEPTS = ("science", "industry", "invest")
LEAD_PATHS = (("new",), ("new", "contacted"), ("new", "contacted", "negotiating"),
              ("new", "contacted", "negotiating", "signed"),
              ("new", "contacted", "negotiating", "signed", "landed"))
TOPICS = ("site", "permit", "talent", "finance", "technology", "market")
ROUTE = {"site": "invest", "permit": "ndrc", "talent": "hrss", "finance": "finance",
         "technology": "science", "market": "market"}


def seed_desk(session: Session, district: str, streets: list[Area], today: dt.date,
              tz: ZoneInfo) -> int:
    """Enterprises, leads entered by three departments, follow-ups, service requests."""
    rng = random.Random(10_2030)
    ents = []
    for i in range(24):
        zh, en, ind = ENTERPRISE_WORDS[i % len(ENTERPRISE_WORDS)]
        area = rng.choice(streets).code if streets else district
        ents.append(Enterprise(name_zh=f"示例{zh}企业{i + 1:02d}",
                               name_en=f"Sample {en} Company {i + 1:02d}", industry=ind,
                               area_code=area, created_by_department=LEAD_DEPTS[i % 3],
                               illustrative=True))
    session.add_all(ents)
    session.flush()
    leads = [_lead(i, ents[i % len(ents)], today, rng, tz) for i in range(48)]
    session.add_all(leads)
    session.flush()
    for i in range(16):
        ent = ents[(i * 5) % len(ents)]
        topic = TOPICS[i % len(TOPICS)]
        created = _at(today - dt.timedelta(days=3 + 11 * i), tz, 10)
        done = i % 2 == 0
        session.add(ServiceRequest(
            enterprise_id=ent.id, topic=topic, description=f"{ent.name_zh}服务诉求",
            department_code=ROUTE[topic], area_code=ent.area_code,
            status="done" if done else ("in_progress" if i % 4 == 1 else "open"),
            response="已办结" if done else "", created_by="demo", created_at=created,
            due_on=_request_due(i, done, created.date(), today),
            resolved_at=created + dt.timedelta(days=2) if done else None))
    session.flush()
    return len(leads)


def _request_due(i: int, done: bool, created: dt.date, today: dt.date) -> dt.date:
    """Answered requests were due 5 working days after filing; open ones fall due in the
    coming days — one is overdue."""
    if done:
        return add_working_days(created, 5)
    if i == 3:
        return today - dt.timedelta(days=2)
    return add_working_days(today, 1 + i % 4)


def _lead(i: int, ent: Enterprise, today: dt.date, rng: random.Random, tz: ZoneInfo) -> Lead:
    dept = LEAD_DEPTS[i % 3]
    path = LEAD_PATHS[[0, 1, 1, 2, 2, 3, 4, 4][i % 8]]
    created = today - dt.timedelta(days=40 + 12 * i)
    second = i >= 24  # the enterprise's second project on the desk
    lead = Lead(enterprise_id=ent.id,
                title_zh=f"{ent.name_zh}{'二期项目' if second else '落户项目'}",
                title_en=f"{ent.name_en} {'phase II project' if second else 'settling project'}",
                industry=ent.industry,
                stage=path[-1], source_department_code=dept, owner_department_code=dept,
                area_code=ent.area_code, expected_wan=rng.randrange(500, 50_000, 100),
                illustrative=True, created_at=_at(created, tz, 10),
                updated_at=_at(created, tz, 10))
    lead.events.append(LeadEvent(at=_at(created, tz, 10), actor="demo", department_code=dept,
                                 kind="created", to_stage="new", note="录入线索"))
    step = (today - created).days // (len(path) + 1)
    for k, stage in enumerate(path[1:], start=1):
        at = created + dt.timedelta(days=step * k)
        helper = LEAD_DEPTS[(i + k) % 3]
        lead.events.append(LeadEvent(at=_at(at, tz, 9), actor="demo", department_code=helper,
                                     kind="follow_up", note="跨部门协同跟进"))
        lead.events.append(LeadEvent(at=_at(at, tz, 15), actor="demo", department_code=dept,
                                     kind="stage", from_stage=path[k - 1], to_stage=stage))
        if stage == "landed":
            lead.landed_on = at
    lead.updated_at = lead.events[-1].at
    if i % 12 == 11 and path[-1] != "landed":
        lead.closed, lead.closed_reason = True, "企业暂缓投资计划"
        lead.events.append(LeadEvent(at=_at(today - dt.timedelta(days=5), tz, 11), actor="demo",
                                     department_code=dept, kind="closed", from_stage=path[-1],
                                     note="企业暂缓投资计划"))
    return lead
