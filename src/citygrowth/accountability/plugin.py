"""The accountability domain's registrations through citygrowth's plugin hooks."""

from __future__ import annotations

from citygrowth.plugins import hookimpl  # noqa: F401
