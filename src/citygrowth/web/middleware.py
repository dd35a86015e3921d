"""Per-request language: ``?lang=`` (remembered in a cookie), the cookie, the user's choice,
``Accept-Language``, then the default (zh_CN)."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from citygrowth.i18n import Translations, normalise_locale, reset_locale, set_locale

LANG_COOKIE = "citygrowth_lang"


class LocaleMiddleware:
    def __init__(self, app: ASGIApp, translations: Translations,
                 default_locale: str = "zh_CN") -> None:
        self.app = app
        self.translations = translations
        self.default = normalise_locale(default_locale) or "zh_CN"

    def pick(self, scope: Scope) -> tuple[str, bool]:
        qs = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if "lang" in qs and (loc := normalise_locale(qs["lang"][0])):
            return loc, True
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == LANG_COOKIE and (loc := normalise_locale(value)):
                return loc, False
        for part in headers.get("accept-language", "").split(","):
            if loc := normalise_locale(part.split(";")[0]):
                return loc, False
        return self.default, False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        locale, remember = self.pick(scope)
        scope.setdefault("state", {})["locale"] = locale
        token = set_locale(locale, self.translations)

        async def send_wrapper(message: MutableMapping[str, Any]) -> None:
            if remember and message["type"] == "http.response.start":
                cookie = f"{LANG_COOKIE}={locale}; Path=/; Max-Age=31536000; SameSite=Lax"
                message.setdefault("headers", []).append((b"set-cookie", cookie.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            reset_locale(token)
