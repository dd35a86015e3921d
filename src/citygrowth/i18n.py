"""Translations: English msgids, Chinese (zh_CN) first.

Source strings are written in English and wrapped in ``_()`` (or ``N_()`` where they must be
translated later). Each domain package keeps its own catalog at ``<package>/locale/zh_CN.po``;
plugins add theirs through the ``citygrowth_locale_dirs`` hook. All catalogs are read with Babel
and merged once per process. The current language is a context variable set per request (by
the web middleware) or per command (by the CLI); zh_CN is the default.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
_current: contextvars.ContextVar[str] = contextvars.ContextVar("citygrowth_locale", default="")
_default: list[str] = [DEFAULT_LOCALE]
_extra_dirs: list[Path] = []


def normalise_locale(value: str | None) -> str | None:
    """Map ``zh``, ``zh-CN``, ``zh_Hans``, ``en-US`` … to a supported locale, or None."""
    if not value:
        return None
    v = value.strip().replace("-", "_").lower()
    if v.startswith("zh"):
        return "zh_CN"
    if v.startswith("en"):
        return "en"
    return None


def set_default_locale(locale: str) -> None:
    _default[0] = normalise_locale(locale) or DEFAULT_LOCALE


def get_locale() -> str:
    return _current.get() or _default[0]


def set_locale(locale: str | None) -> contextvars.Token[str]:
    return _current.set(normalise_locale(locale) or _default[0])


@contextmanager
def locale_context(locale: str | None) -> Iterator[None]:
    token = set_locale(locale)
    try:
        yield
    finally:
        _current.reset(token)


def add_catalog_dir(path: Path) -> None:
    """Register a folder holding ``zh_CN.po`` (used by plugins); clears the cache."""
    if path not in _extra_dirs:
        _extra_dirs.append(path)
        catalog.cache_clear()


def catalog_files() -> list[Path]:
    root = Path(__file__).parent
    files = sorted(root.glob("**/locale/zh_CN.po"))
    files += [d / "zh_CN.po" for d in _extra_dirs if (d / "zh_CN.po").exists()]
    return files


@lru_cache(maxsize=1)
def catalog() -> dict[str, str]:
    """msgid → zh_CN text, merged from every catalog file."""
    merged: dict[str, str] = {}
    for path in catalog_files():
        with path.open("rb") as fh:
            cat = read_po(fh, locale="zh_CN")
        for msg in cat:
            if msg.id and msg.string and not msg.fuzzy:
                key = msg.id if isinstance(msg.id, str) else msg.id[0]
                val = msg.string if isinstance(msg.string, str) else msg.string[0]
                merged[key] = val
    return merged


def translate(message: str, locale: str | None = None) -> str:
    """Translate an English msgid into ``locale`` (default: the current one)."""
    loc = normalise_locale(locale) or get_locale()
    if loc == "en":
        return message
    return catalog().get(message, message)


def gettext(message: str) -> str:
    return translate(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    # Chinese has one form; English picks by n.
    if get_locale() == "en":
        return singular if n == 1 else plural
    return translate(singular)


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now."""
    return message


_ = gettext


def bilingual(zh: str | None, en: str | None, locale: str | None = None) -> str:
    """Pick the right name of a record that carries both (indicators, areas, categories)."""
    loc = normalise_locale(locale) or get_locale()
    if loc == "en":
        return en or zh or ""
    return zh or en or ""
