"""Settings of the governance domain (prefix ``CITYGROWTH_CASES_``), documented in
docs/governance.md. They live here, beside the code they steer, rather than in the core
settings class."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CaseSettings(BaseSettings):
    """Working hours, warnings, duplicates and idempotency windows of the case workflow."""

    model_config = SettingsConfigDict(
        env_prefix="CITYGROWTH_CASES_", env_file=".env", extra="ignore", frozen=True
    )

    work_periods: str = Field(
        default="08:30-12:00,13:30-17:30",
        description="Working periods of a working day (local time), comma separated.",
    )
    timezone: str = Field(default="Asia/Shanghai", description="Zone of the working calendar.")
    default_time_limit_hours: float = Field(
        default=16.0, gt=0, description="Handling limit (working hours) when a category has none."
    )
    warn_fraction: float = Field(
        default=0.2, gt=0, lt=1,
        description="Warn when this share of the handling limit remains.",
    )
    nearby_metres: float = Field(
        default=50.0, gt=0, description="Radius of the duplicate suggestion, in metres."
    )
    retry_window_seconds: int = Field(
        default=600, ge=0,
        description="An identical report from the same device within this window is the same "
        "report (Open311 clients that retry without an idempotency key).",
    )
    escalate_every_seconds: int = Field(
        default=900, ge=30, description="How often the scheduler escalates overdue cases."
    )
    evaluate_every_seconds: int = Field(
        default=86400, ge=60,
        description="How often the scheduler writes this and last month's evaluation.",
    )
    group_commit_ms: float = Field(
        default=2.0, ge=0,
        description="Longest wait of the intake writer to gather reports into one commit.",
    )
    fast_path: bool = Field(
        default=True,
        description="Serve POST /api/cases ahead of FastAPI's routing (governance/fastpath.py);"
        " false lets the FastAPI route serve every report.",
    )


@lru_cache(maxsize=1)
def case_settings() -> CaseSettings:
    return CaseSettings()
