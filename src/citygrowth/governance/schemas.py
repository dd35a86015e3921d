"""Pydantic shapes at the edges of the governance API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from citygrowth.inputs import InputModel, Line, Text
from citygrowth.web.openapi import DateText, Timestamp
from citygrowth.web.paging import Page


class ReportIn(InputModel):
    """A report sent as JSON (patrol app, integrations)."""

    category_code: Line = Field(min_length=1, max_length=20)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    area_code: str | None = Field(default=None, max_length=15, pattern=r"^\d{6,15}$")
    description: Text = Field(default="", max_length=4000)
    address: Line = Field(default="", max_length=300)
    photos: list[Line] = Field(default_factory=list, max_length=9)
    source: str = Field(default="api", pattern=r"^(patrol|resident|api|hotline)$")
    device_id: Line = Field(default="", max_length=100)
    contact: Line = Field(default="", max_length=200)
    attributes: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = Field(default=None, min_length=8, max_length=64)


class ActionIn(InputModel):
    note: Text = Field(default="", max_length=2000)
    photos: list[Line] = Field(default_factory=list, max_length=9)
    department_code: str | None = Field(default=None, max_length=40)
    hours: float | None = Field(default=None, gt=0, le=400)
    rating: int | None = Field(default=None, ge=1, le=5)


class HelpTaskIn(InputModel):
    area_code: str = Field(default="", pattern=r"^(\d{15})?$")
    title: Line = Field(min_length=1, max_length=200)
    description: Text = Field(default="", max_length=2000)
    case_id: int | None = Field(default=None, ge=1, le=2**31)
    skill: Line | None = Field(default=None, max_length=40)


class HoursIn(InputModel):
    hours: float = Field(gt=0, le=24)
    note: Text = Field(default="", max_length=2000)


class HelperIn(InputModel):
    username: str = Field(min_length=1, max_length=80)
    area_code: str = Field(pattern=r"^\d{15}$")
    kind: str = Field(pattern=r"^(party_member|volunteer)$")
    label: Line = Field(min_length=1, max_length=120)
    skills: list[str] = Field(default_factory=list, max_length=20)


class CategoryEditIn(InputModel):
    """What an administrator may change of a case category (ranges are checked by the
    service, which names the field in the caller's language)."""

    name_zh: Line = Field(default="", max_length=400, description="Chinese name (required)")
    name_en: Line = Field(default="", max_length=400)
    department_code: str | None = Field(default=None, max_length=40,
                                        description="Default handling department")
    time_limit_hours: float | None = Field(default=None,
                                           description="Handling limit in working hours, "
                                                       "0 < h ≤ 1000; none: the 大类's")
    after_photo_required: bool = Field(
        default=False, description="处置反馈 must carry a photo of the result (a 大类's "
                                   "requirement holds for all its 小类)")


class CategoryIn(CategoryEditIn):
    """A new 大类 (no parent: ``C``/``E`` and two digits) or 小类 (its 大类's code and two
    digits)."""

    code: str = Field(min_length=1, max_length=20, examples=["E08", "E0104"])
    parent_code: str | None = Field(default=None, max_length=20)


class RuleIn(InputModel):
    """A dispatch rule: category (小类, 大类 or none = any) × area prefix → department."""

    category_code: str | None = Field(default=None, max_length=20)
    area_prefix: str = Field(default="", max_length=15,
                             description="Code of a street, community or grid cell; "
                                         "empty: the whole district")
    department_code: str = Field(max_length=40)
    priority: int = Field(default=0, description="-1000 to 1000; higher wins a tie")
    note: Text = Field(default="", max_length=400)


# --- answers ---------------------------------------------------------------------------------

class CaseOut(BaseModel):
    """A case as lists show it; times are ISO 8601 in the district's zone with their offset,
    names and labels in the caller's language."""

    id: int
    status: str = Field(description="reported, registered, dispatched, handling, handled, "
                                    "verified, closed, postponed or cancelled")
    status_label: str
    category_code: str
    category: str
    major_code: str | None = Field(description="The category's major class (大类)")
    kind: str = Field(description="component (部件) or event (事件)")
    area_code: str = Field(description="The grid cell (15 digits) or larger area")
    street_code: str
    area: str
    street: str | None
    community: str | None
    department_code: str | None
    department: str | None = Field(description="The department's name")
    source: str
    source_label: str = Field(description="Where the report came from, in words")
    description: str
    address: str
    lat: float | None
    lon: float | None
    photos: list[str]
    reported_at: Timestamp
    updated_at: Timestamp | None
    due_at: Timestamp | None
    closed_at: Timestamp | None
    pending: str | None = Field(description="A request waiting for a decision (postpone, "
                                            "return …), if any")
    supervised: bool
    escalation_level: int
    rework_count: int
    reopen_count: int
    satisfaction: int | None
    overdue: bool
    warning: bool
    illustrative: bool
    calendar_gaps: list[int] = Field(
        default_factory=list, description="Years the deadline reaches whose holidays are not "
        "loaded (the deadline counts Monday–Friday there; see /admin/calendar)")


class CaseWithActionsOut(CaseOut):
    actions: list[str] = Field(description="The lifecycle actions the caller may take now")


class CaseEventOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    seq: int
    at: Timestamp
    actor: str
    action: str
    action_label: str
    from_status: str | None = Field(alias="from")
    to: str | None
    from_label: str | None = Field(description="The state before, in words")
    to_label: str | None = Field(description="The state after, in words")
    note: str
    photos: list[str]
    department: str | None = Field(description="The department the step names, by name")
    detail: dict[str, Any]


class CaseDetailOut(BaseModel):
    ok: Literal[True] = True
    case: CaseWithActionsOut
    events: list[CaseEventOut]


class CaseActedOut(BaseModel):
    ok: Literal[True] = True
    case: CaseWithActionsOut


class ReportAckOut(BaseModel):
    """A report taken in: 201 when new, 200 when it repeats one already taken in."""

    ok: Literal[True] = True
    created: bool
    id: int
    token: str = Field(description="The tracking code (/track/{token})")
    area_code: str


class QueueCountsOut(BaseModel):
    ok: Literal[True] = True
    counts: dict[str, int] = Field(description="Cases per status, and per queue: overdue, "
                                               "warning, supervised, pending")


class CategoryOut(BaseModel):
    code: str
    kind: str
    parent_code: str | None
    name: str
    name_zh: str
    name_en: str
    department_code: str | None
    time_limit_hours: float | None


class NearbyCaseOut(BaseModel):
    id: int
    category_code: str
    status: str
    status_label: str
    distance_m: float
    reported_at: Timestamp


class PhotoOut(BaseModel):
    ok: Literal[True] = True
    url: str = Field(description="The photo's reference; send it in a report's or an "
                                 "action's photos")
    thumbnail: str = Field(description="The reference of its thumbnail")
    width: int
    height: int


class EvaluationRowOut(BaseModel):
    level: str = Field(description="district, street, grid or department")
    code: str
    month: str
    reported: int
    registered: int
    closed: int
    due: int
    closed_ontime: int
    ontime_rate: float | None
    closure_rate: float | None
    rework_rate: float | None
    handling_hours: float | None
    satisfaction: float | None
    satisfied_rate: float | None


class AttributeOut(BaseModel):
    """An extra question of a category (GeoReport's service attribute)."""

    model_config = ConfigDict(extra="allow")

    code: str
    datatype: str
    required: bool
    description: str
    order: int
    variable: bool


class AdminCategoryOut(BaseModel):
    code: str
    kind: str
    parent_code: str | None
    name_zh: str
    name_en: str
    department_code: str | None
    time_limit_hours: float | None
    attributes: list[AttributeOut]
    active: bool


class CategoryTreeOut(AdminCategoryOut):
    sub_categories: list[AdminCategoryOut]


class AdminCategoryAnswer(BaseModel):
    ok: Literal[True] = True
    category: AdminCategoryOut


class RuleOut(BaseModel):
    id: int
    category_code: str | None
    area_prefix: str
    department_code: str
    priority: int
    note: str


class RuleAnswer(BaseModel):
    ok: Literal[True] = True
    rule: RuleOut


class RuleDeletedOut(BaseModel):
    ok: Literal[True] = True
    deleted: int


class HelpTaskOut(BaseModel):
    id: int
    title: str
    description: str
    status: str = Field(description="open, taken or done")
    status_label: str
    area_code: str
    area: str
    community: str
    skill: str | None
    skill_label: str
    matches: bool = Field(description="The task asks for a skill the caller has")
    case_id: int | None
    helper: str
    mine: bool
    hours: float | None
    note: str
    created_at: str = Field(description="Local time, as shown on the page")
    done_at: str
    can_take: bool
    can_finish: bool


class HelpTaskAnswer(BaseModel):
    ok: Literal[True] = True
    task: HelpTaskOut


class HelperOut(BaseModel):
    id: int
    label: str
    kind: str
    area_code: str
    skills: list[str]
    registered_at: Timestamp


class HelperAnswer(BaseModel):
    ok: Literal[True] = True
    helper: HelperOut


class HoursRowOut(BaseModel):
    code: str = Field(description="The helper's id or the community's code")
    name: str
    community: str
    tasks: int
    hours: float
    helpers: int


class HoursReportOut(BaseModel):
    ok: Literal[True] = True
    first: str
    last: str
    helpers: list[HoursRowOut]
    communities: list[HoursRowOut]
    total_hours: float
    total_tasks: int


class InboxItemOut(BaseModel):
    id: int
    case_id: int
    action: str
    action_label: str
    department_code: str
    department: str
    unread: bool
    received_at: Timestamp | None
    read_by: str | None
    category: str
    area: str
    status_label: str
    overdue: bool


class InboxPage(Page[InboxItemOut]):
    unread: int = Field(description="Unread items in the caller's inboxes")


class DeliveryOut(BaseModel):
    id: int
    case_id: int
    action: str
    action_label: str
    department_code: str
    department: str
    channel: str
    channel_label: str
    state: str = Field(description="pending, sent or failed")
    state_label: str
    attempts: int
    last_error: str
    receipt: str | None
    created_at: Timestamp | None
    last_attempt_at: Timestamp | None
    next_attempt_at: Timestamp | None
    sent_at: Timestamp | None
    case_status: str


class DeliveryCounts(BaseModel):
    failed: int
    retrying: int


class DeliveryPage(Page[DeliveryOut]):
    counts: DeliveryCounts


class DeliveryAnswer(BaseModel):
    ok: Literal[True] = True
    delivery: DeliveryOut


class ChannelOut(BaseModel):
    department_code: str
    channel: str
    target: str
    active: bool
    signed: bool


class ChannelPage(Page[ChannelOut]):
    installed: list[str] = Field(description="The channels installed (built in or plugins)")


class ChannelAnswer(BaseModel):
    ok: Literal[True] = True
    channel: ChannelOut
    secret: str | None = Field(description="A new webhook secret, shown only this once")


class AroundReportOut(BaseModel):
    """A report as anyone may see it: no description, address, contact or photo."""

    id: int
    status: str
    status_label: str
    category: str = Field(description="The category's name in the reader's language")
    icon: str = Field(description="The category's icon in the Lucide sprite")
    street: str | None
    community: str | None
    reported_on: DateText = Field(description="The day reported, in the district's zone")
    lon: float | None = Field(description="Rounded to about 100 m")
    lat: float | None = Field(description="Rounded to about 100 m")
    illustrative: bool


class AroundPage(Page[AroundReportOut]):
    days: int = Field(description="How many days back the list reaches")
    note: str = Field(description="What the reader should know of the positions")
