"""All settings of citygrowth, in one place.

Every setting has a type, a default and a description; ``docs/settings.md`` is generated from
this class (``citygrowth settings docs``) and a test fails when the two drift apart.
Values come from the environment with the ``CITYGROWTH_`` prefix, or from a ``.env`` file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SCHEDULE_EVERY = re.compile(r"^every\s+\d+\s*[smhd]$")


class Settings(BaseSettings):
    """citygrowth's settings. Build one with ``Settings()`` and pass it to ``create_app``."""

    model_config = SettingsConfigDict(
        env_prefix="CITYGROWTH_", env_file=".env", extra="ignore", frozen=True
    )

    data_dir: Path = Field(
        default=Path("var"),
        description="Folder for the SQLite database, observation Parquet batches, uploads and "
        "index results. Created when missing.",
    )
    shared_dir: Path | None = Field(
        default=None,
        description="A folder every host of the installation reaches (an NFS, CephFS or "
        "similar mount with POSIX locks) for what they must share: observation batches, "
        "index results, uploads, exports and published frameworks. Empty: all of it stays "
        "under `data_dir` (one host). See docs/operating.md, \"Several hosts\".",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL of the operational store, e.g. "
        "`postgresql+psycopg://user:pw@127.0.0.1/citygrowth`. Empty means a SQLite file "
        "`citygrowth.db` in WAL mode under `data_dir`.",
    )
    secret_key: str = Field(
        default="",
        description="Secret for signing session cookies and CSRF tokens. Required in production "
        "(`env=production`); in development a random key is made per process.",
    )
    audit_key: str = Field(
        default="",
        description="Secret with which the audit chain's head and length are signed (an "
        "HMAC), so that removing its newest entries or rewriting it is caught by `citygrowth "
        "audit verify`. Empty: `secret_key`; when that is empty too (development), a key kept "
        "in `<data_dir>/audit.key`, made on first use. Set it apart from `secret_key` to rotate "
        "either on its own; after changing it run `citygrowth audit anchor`.",
    )
    env: Literal["development", "production", "test"] = Field(
        default="development",
        description="Deployment mode. `production` requires `secret_key` and sets secure cookies.",
    )
    default_locale: Literal["zh_CN", "en"] = Field(
        default="zh_CN", description="Language of pages, messages and CLI output when the user "
        "has not chosen one."
    )
    timezone: str = Field(
        default="Asia/Shanghai",
        description="Time zone in which times are shown and working-day deadlines are counted. "
        "Times are always stored in UTC.",
    )
    district_code: str = Field(
        default="370203",
        description="6-digit GB/T 2260 code of the district this installation serves.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Minimum level of log records written."
    )
    log_json: bool = Field(
        default=False,
        description="Write logs as one JSON object per line (for log collectors) instead of "
        "human-readable lines.",
    )
    login_max_attempts: int = Field(
        default=5, ge=1,
        description="Failed logins allowed per user name and client address within "
        "`login_window_seconds` before further attempts are refused.",
    )
    login_address_max_attempts: int = Field(
        default=30, ge=1,
        description="Failed logins allowed per client address (whatever the user names) within "
        "`login_window_seconds`; from half of it on, each attempt waits longer (up to "
        "`login_max_delay_seconds`), and once it is used up the address is refused until the "
        "window has passed.",
    )
    login_global_max_attempts: int = Field(
        default=1000, ge=1,
        description="Failed logins allowed from all addresses together within "
        "`login_window_seconds` (password spraying from many addresses); growing delay from "
        "half of it on, refusal once it is used up.",
    )
    login_max_delay_seconds: float = Field(
        default=10.0, ge=0, le=60,
        description="Longest delay added to a login attempt while a failure budget is being "
        "used up.",
    )
    login_window_seconds: int = Field(
        default=300, ge=1, description="Window of the login rate limits, in seconds."
    )
    session_max_age_seconds: int = Field(
        default=8 * 3600, ge=60, description="How long a web login lasts without activity."
    )
    session_absolute_seconds: int = Field(
        default=12 * 3600, ge=60,
        description="How long a web login lasts at most, active or not; then the user logs in "
        "again.",
    )
    max_body_kb: int = Field(
        default=1024, ge=1,
        description="Largest request body of every route that is not an upload (JSON, forms), "
        "in KiB. Larger bodies are refused with 413 before they are read.",
    )
    max_upload_mb: int = Field(
        default=200, ge=1,
        description="Largest request body of upload routes (data files, workbooks, evidence), "
        "in MiB. Larger bodies are refused with 413 before they are read (photos: "
        "`photo_max_mb`).",
    )
    max_uncompressed_mb: int = Field(
        default=200, ge=1,
        description="Largest uncompressed size of an uploaded workbook (an .xlsx is a zip "
        "archive), declared and actual, in MiB.",
    )
    max_compression_ratio: int = Field(
        default=100, ge=1,
        description="Largest ratio of uncompressed to compressed size of an uploaded workbook "
        "(a zip bomb has thousands).",
    )
    max_upload_rows: int = Field(
        default=10_000_000, ge=1, description="Most data rows an uploaded file may have."
    )
    max_upload_columns: int = Field(
        default=200, ge=1, description="Most columns an uploaded file may have."
    )
    audit_refusals_per_minute: int = Field(
        default=60, ge=0,
        description="Refused write requests (401, 403) written to the audit log per minute and "
        "web process, at most 10 of them per client address; the rest are counted in the next "
        "entry. 0 turns the logging of refusals off.",
    )
    hsts_seconds: int = Field(
        default=31_536_000, ge=0,
        description="`max-age` of the Strict-Transport-Security header sent in production "
        "(`env=production`); 0 sends none.",
    )
    photo_max_mb: int = Field(
        default=10, ge=1, le=100,
        description="Largest case photo accepted (JPEG, PNG or WebP; HEIC where the server "
        "can read it), in MiB. A form or request with photos may be at most this size per photo "
        "it takes (plus 256 KiB for its other fields); a larger body is refused with 413 before "
        "it is read, and so is every larger photo within it.",
    )
    photo_max_side: int = Field(
        default=2048, ge=320, le=8192,
        description="Every case photo is re-encoded as JPEG without its metadata (EXIF, GPS "
        "position) and scaled down to at most this many pixels on its longer side; a "
        "thumbnail is made beside it.",
    )
    query_backend: Literal["duckdb", "pyspark"] = Field(
        default="duckdb",
        description="Ibis backend that queries the observation store. `pyspark` runs Spark in "
        "local mode unless `spark_master` says otherwise.",
    )
    spark_master: str = Field(
        default="local[2]", description="Spark master URL used when `query_backend=pyspark`."
    )
    index_engine: Literal["ibis", "coin"] = Field(
        default="ibis",
        description="How the server computes the index: `ibis` runs roll-ups, imputation, "
        "normalisation, aggregation and ranks on the query backend (DuckDB, or Spark with "
        "`query_backend=pyspark`), falling back to the in-memory coin for settings it lacks "
        "(logged; see docs/index-engine.md); `coin` always uses the coin.",
    )
    scheduler_enabled: bool = Field(
        default=True,
        description="Let the web processes run the scheduled jobs (escalating overdue cases, "
        "reminders, briefings, index runs): one of them at a time holds the scheduler's lead, "
        "so each job runs once however many workers serve. Turn off where `citygrowth "
        "scheduler` runs as a service of its own (the systemd units do).",
    )
    scheduler_schedules: dict[str, str] = Field(
        default_factory=dict,
        description="Times of scheduled jobs by name, overriding the built-in ones: a cron "
        "expression in `timezone`, `every 30s` (s, m, h, d), or `off` to run a job only by "
        "hand. JSON in the environment, e.g. "
        "`{\"analysis.monthly-briefings\": \"0 7 1 * *\"}`. `citygrowth scheduler --list` "
        "shows every job and its time.",
    )
    shutdown_timeout_seconds: int = Field(
        default=3, ge=1, le=60,
        description="On SIGTERM `citygrowth serve` lets requests finish for this long, then "
        "closes what is still open (event streams never finish by themselves).",
    )
    telemetry: bool = Field(
        default=False,
        description="Let FastAPI's native OpenTelemetry instrumentation trace requests and record "
        "metrics and logs when an OpenTelemetry provider is configured. Off by default: asking "
        "for a provider costs every request a few percent of its time.",
    )
    host: str = Field(default="127.0.0.1", description="Address `citygrowth serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `citygrowth serve` binds to.")
    root_path: str = Field(
        default="", pattern=r"^(/[A-Za-z0-9._~-]+)*$",
        description="Mount prefix when a reverse proxy serves the application below a sub-path, "
        "e.g. `/citygrowth` (no trailing slash; empty at `/`). `citygrowth serve` passes it to "
        "uvicorn as `--root-path`; the proxy strips the prefix before passing requests on "
        "(see docs/operating.md).",
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Comma-separated addresses of reverse proxies whose `X-Forwarded-For` and "
        "`X-Forwarded-Proto` headers `citygrowth serve` trusts (uvicorn's "
        "`--forwarded-allow-ips`); `*` trusts every peer.",
    )
    plugins: list[str] = Field(
        default_factory=list,
        description="Extra plugin modules to load by dotted name, in addition to installed "
        "packages that declare the `citygrowth` entry point. JSON list in the environment.",
    )

    # --- governance: the case workflow (CITYGROWTH_CASES_*) --------------------------------
    cases_work_periods: str = Field(
        default="08:30-12:00,13:30-17:30",
        description="Working periods of a working day (local time, in `timezone`), comma "
        "separated. Case deadlines count working time inside them.",
    )
    cases_default_time_limit_hours: float = Field(
        default=16.0, gt=0, description="Handling limit (working hours) when a category has none."
    )
    cases_warn_fraction: float = Field(
        default=0.2, gt=0, lt=1,
        description="Warn when this share of a case's handling limit remains.",
    )
    cases_nearby_metres: float = Field(
        default=50.0, gt=0, description="Radius of the duplicate suggestion, in metres."
    )
    cases_retry_window_seconds: int = Field(
        default=600, ge=0,
        description="An identical report from the same device within this window is the same "
        "report (Open311 clients that retry without an idempotency key).",
    )
    cases_escalate_every_seconds: int = Field(
        default=900, ge=30, description="How often the scheduler escalates overdue cases."
    )
    cases_evaluate_every_seconds: int = Field(
        default=86400, ge=60,
        description="How often the scheduler writes this and last month's evaluation.",
    )
    cases_group_commit_ms: float = Field(
        default=2.0, ge=0,
        description="Longest wait of the intake writer to gather reports into one commit.",
    )
    cases_fast_path: bool = Field(
        default=True,
        description="Serve POST /api/cases ahead of FastAPI's routing (the intake fast path);"
        " false lets the FastAPI route serve every report.",
    )

    @property
    def cases(self) -> CaseSettings:
        """The governance settings as one object (``runtime.cases``)."""
        return CaseSettings(
            work_periods=self.cases_work_periods,
            default_time_limit_hours=self.cases_default_time_limit_hours,
            warn_fraction=self.cases_warn_fraction,
            nearby_metres=self.cases_nearby_metres,
            retry_window_seconds=self.cases_retry_window_seconds,
            escalate_every_seconds=self.cases_escalate_every_seconds,
            evaluate_every_seconds=self.cases_evaluate_every_seconds,
            group_commit_ms=self.cases_group_commit_ms,
            fast_path=self.cases_fast_path,
        )


    # --- grid governance: delivery of dispatched cases to departments, Open311 ------------
    public_url: str = Field(
        default="", max_length=300,
        description="The address people reach the app at (e.g. "
        "`https://gov.example.cn/citygrowth`); links in e-mails and webhooks to departments "
        "start with it. Empty: links are paths.",
    )
    delivery_every_seconds: int = Field(
        default=30, ge=1, le=3600,
        description="How often the scheduler sends dispatched cases that wait for delivery "
        "(webhook, e-mail, plugins' channels).",
    )
    delivery_max_attempts: int = Field(
        default=8, ge=1, le=50,
        description="Attempts before a delivery is marked failed (and shown to the command "
        "center).",
    )
    delivery_backoff_seconds: int = Field(
        default=60, ge=1, le=86400,
        description="Wait after the first failed attempt; it doubles after each further one.",
    )
    delivery_backoff_max_seconds: int = Field(
        default=21600, ge=1, le=604800, description="The longest wait between two attempts.",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120,
        description="How long a department's webhook may take to answer.",
    )
    smtp_host: str = Field(
        default="",
        description="SMTP server for e-mail delivery to departments; empty: e-mail is off.",
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls",
        description="`starttls` (upgrade a plain connection), `ssl` (TLS from the start, "
        "usually port 465) or `none` (a trusted local relay only).",
    )
    smtp_user: str = Field(default="", description="SMTP login; empty: no login.")
    smtp_password: str = Field(default="", description="SMTP password (with `smtp_user`).")
    smtp_from: str = Field(
        default="citygrowth@localhost", description="Sender address of e-mails to departments.",
    )
    smtp_timeout_seconds: float = Field(
        default=20.0, gt=0, le=300, description="How long one SMTP conversation may take.",
    )
    open311_publication: Literal["full", "minimal"] = Field(
        default="minimal",
        description="What Open311's public request list shows to callers without an API key: "
        "`full` (description, address, exact position, photos) or `minimal` (category, status, "
        "the grid cell's centre as position, and times). Key holders see their own areas in full.",
    )
    open311_test_url: str = Field(
        default="", max_length=300,
        description="The test endpoint listed in Open311 discovery beside production; empty: the "
        "built-in test endpoint `/open311/test/v2` (validates requests, stores nothing).",
    )

    @field_validator("scheduler_schedules")
    @classmethod
    def _schedules(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not (SCHEDULE_EVERY.match(text.strip()) or len(text.split()) == 5
                    or text.strip() == "off"):
                raise ValueError(f"{name}: {text!r} is not 'every 30s' (s, m, h, d), a "
                                 "5-field cron expression or 'off'")
        return value

    @property
    def store_dir(self) -> Path:
        """Where the files every host shares live: ``shared_dir``, else ``data_dir``."""
        return self.shared_dir or self.data_dir

    @property
    def resolved_database_url(self) -> str:
        """The operational store's URL, defaulting to SQLite under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'citygrowth.db').resolve()}"

    def ensure_dirs(self) -> None:
        """Create the data folder and its standard sub-folders."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for sub in ("", "observations", "uploads", "results", "exports"):
            (self.store_dir / sub).mkdir(parents=True, exist_ok=True)


@dataclass(frozen=True)
class CaseSettings:
    """The case workflow's settings (``Settings.cases``): working periods, warnings, the
    duplicate radius, the retry window, job intervals and the intake writer's batching."""

    work_periods: str
    default_time_limit_hours: float
    warn_fraction: float
    nearby_metres: float
    retry_window_seconds: int
    escalate_every_seconds: int
    evaluate_every_seconds: int
    group_commit_ms: float
    fast_path: bool
