"""Pydantic shapes at the edges of the governance API."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from citygrowth.inputs import InputModel, Line, Text


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
