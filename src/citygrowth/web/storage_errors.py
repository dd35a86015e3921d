"""Storage failures answered as 503 with ``Retry-After``, in the caller's language, logged once
(``citygrowth.storage``); any other error of those types goes on to the server-error handler."""

from __future__ import annotations

import duckdb
from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy.exc import DBAPIError

from citygrowth.storage import StorageUnavailable, log_storage_failure, storage_failure
from citygrowth.web.errors import render_error


def storage_response(request: Request, failure: StorageUnavailable) -> Response:
    log_storage_failure(failure, f"{request.method} {request.url.path}")
    response = render_error(request, failure)
    response.headers["Retry-After"] = str(failure.retry_after)
    return response


def install_storage_handlers(app: FastAPI) -> None:
    async def _storage(request: Request, exc: Exception) -> Response:
        failure = storage_failure(exc)
        if failure is None:
            raise exc  # not the store's trouble: the server-error handler answers
        return storage_response(request, failure)

    for kind in (StorageUnavailable, DBAPIError, OSError, duckdb.IOException):
        app.add_exception_handler(kind, _storage)
