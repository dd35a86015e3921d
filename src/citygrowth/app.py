"""``create_app(settings)``: wires the application together and does nothing else."""

from __future__ import annotations

import asyncio
import gc
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp

from citygrowth import __version__
from citygrowth.auth.csrf import CSRFMiddleware
from citygrowth.auth.refusals import RefusalLog
from citygrowth.errors import ConfigurationError
from citygrowth.logging_setup import get_logger, setup_logging
from citygrowth.observatory.batches import recover_at_start
from citygrowth.observatory.store import ObservationStore
from citygrowth.ops.relay import OutboxReader
from citygrowth.plugins import collect_list
from citygrowth.runtime import Runtime, build_runtime
from citygrowth.scheduler import Scheduler
from citygrowth.settings import Settings
from citygrowth.web.errors import install_error_handlers
from citygrowth.web.limits import BodyLimitMiddleware
from citygrowth.web.middleware import LocaleMiddleware
from citygrowth.web.openapi import install_openapi
from citygrowth.web.security import SecurityHeadersMiddleware
from citygrowth.web.static_files import PrecompressedStaticFiles
from citygrowth.web.storage_errors import install_storage_handlers
from citygrowth.web.templating import make_templates

log = get_logger(__name__)
NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


class CityGrowthApp(FastAPI):
    """FastAPI with *fast paths*: ASGI wrappers that plugins declare through the
    ``citygrowth_fast_paths`` hook to serve one hot request ahead of the whole middleware
    stack, handing everything else to it (see ``governance/intake_asgi.py``)."""

    fast_paths: Sequence[Callable[[ASGIApp], ASGIApp]] = ()

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        for fast_path in self.fast_paths:
            stack = fast_path(stack)
        return stack


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """The web app for ``settings`` (or for an already built ``runtime``)."""
    runtime = runtime or build_runtime(settings)
    settings = runtime.settings
    if settings.env == "production" and not settings.secret_key:
        raise ConfigurationError(detail="CITYGROWTH_SECRET_KEY is required in production")
    setup_logging(settings.log_level, settings.log_json)
    settings.ensure_dirs()
    pm = runtime.plugins

    app = CityGrowthApp(
        title="citygrowth",
        version=__version__,
        description="City Growth Index, grid-governance command center and accountability "
        "for a district government. Every JSON error has the shape "
        '`{"ok": false, "error": "...", "code": "...", "errors": [...]}`; every JSON list '
        'the shape `{"ok": true, "items": [...], "next": "...", "total": n}` (docs/api.md).',
        # /docs and /redoc are served from vendored assets by citygrowth.ops.apidocs
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
        telemetry=None if settings.telemetry else NO_TELEMETRY,
    )
    app.state.runtime = runtime
    app.state.templates = make_templates(runtime)
    app.state.refusals = RefusalLog(runtime.sessionmaker, settings.audit_refusals_per_minute)

    routers = collect_list(pm.hook.citygrowth_routers(runtime=runtime))
    # declared fast paths (one hot route each) wrap the whole middleware stack
    app.fast_paths = tuple(collect_list(pm.hook.citygrowth_fast_paths(runtime=runtime)))
    app.add_middleware(CSRFMiddleware, max_form=settings.max_body_kb * 1024)  # session, locale
    # bodies bounded before anything reads them (the 413 in the caller's language)
    app.add_middleware(BodyLimitMiddleware, max_body=settings.max_body_kb * 1024,
                       max_upload=settings.max_upload_mb * 2**20,
                       max_photo=settings.photo_max_mb * 2**20)
    app.add_middleware(LocaleMiddleware, translations=runtime.translations,
                       default_locale=settings.default_locale)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key or secrets.token_urlsafe(32),
        session_cookie="citygrowth_session",
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        path=settings.root_path or "/",
        https_only=settings.env == "production",
    )
    # outermost: every answer, the 413 and the CSRF refusal included, gets the headers
    app.add_middleware(SecurityHeadersMiddleware,
                       hsts_seconds=settings.hsts_seconds if settings.env == "production" else 0)
    install_error_handlers(app)
    install_storage_handlers(app)  # a full or read-only store: 503, logged once
    static = Path(__file__).parent / "web" / "static"
    app.mount("/static", PrecompressedStaticFiles(directory=static), name="static")
    for router in routers:
        app.include_router(router)
    install_openapi(app)  # errors, security and media types as the routes answer them

    return app


def _warm_store(runtime: Runtime) -> None:
    try:
        ObservationStore(runtime.settings).summary()
    except Exception:  # a broken store shows on its own pages; start-up must go on
        log.exception("could not warm the observation store")
    settle_startup_objects()  # what the store loaded (ibis, DuckDB, pandas) is here to stay


def settle_startup_objects() -> None:
    """Collect start-up garbage, then move every object alive now (modules, routes, ORM
    mappers, templates, caches: they live as long as the process) out of the cyclic garbage
    collector's reach with ``gc.freeze()``. Otherwise each full collection walks all of them
    while every request in flight waits: under a burst of reports that was the p99 latency
    (~200 ms instead of ~70 ms in ``bench.intake``). Not done under ``env=test``, where one
    process makes many apps whose objects must stay collectable."""
    gc.collect()
    gc.freeze()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Repair what a crash left (``observatory.batches.recover_at_start``), compete for the
    scheduler's lead (when enabled), relay other processes' events to this one's event
    streams, and, outside tests, warm the observation store's in-memory view in the background
    so the first dashboard is fast; on shutdown stop all of it and dispose of the engine (after
    writing the events still queued for the outbox)."""
    runtime: Runtime = app.state.runtime
    # loads a crash left accepted but invisible are made visible; crash leftovers go
    await asyncio.to_thread(recover_at_start, runtime)
    scheduler = Scheduler(runtime) if runtime.settings.scheduler_enabled else None
    if scheduler:
        scheduler.start()
    relay = OutboxReader(runtime.engine, runtime.bus, runtime.bus.origin)
    relay.start()
    if runtime.settings.env != "test":
        settle_startup_objects()
        app.state.warmup = asyncio.create_task(asyncio.to_thread(_warm_store, runtime))
    try:
        yield
    finally:
        await relay.stop()
        if scheduler:
            await asyncio.to_thread(scheduler.stop)
        await asyncio.to_thread(runtime.dispose)
