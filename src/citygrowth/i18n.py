"""Translations: English msgids, Chinese (zh_CN) first.

Source strings are written in English and wrapped in ``_()`` (or ``N_()`` where they must be
translated later). Each domain package keeps its own catalog at ``<package>/locale/zh_CN.po``;
plugins add theirs through the ``citygrowth_locale_dirs`` hook. Each runtime merges the catalogs
it has (``runtime.translations``, read with Babel on first use). The current language — a
locale and the runtime's catalogs — is a context variable set per request (by the web
middleware), per command (by the CLI) and per job (by the scheduler); zh_CN is the default.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"


class Translations:
    """The zh_CN catalog of one runtime: every built-in domain's ``locale/zh_CN.po`` and the
    folders its plugins add (``citygrowth_locale_dirs``), read on first use."""

    def __init__(self, extra_dirs: tuple[Path, ...] = ()) -> None:
        self.extra_dirs = extra_dirs
        self._catalog: dict[str, str] | None = None

    def files(self) -> list[Path]:
        files = catalog_files()
        files += [d / "zh_CN.po" for d in self.extra_dirs if (d / "zh_CN.po").exists()]
        return files

    @property
    def catalog(self) -> dict[str, str]:
        """msgid → zh_CN text."""
        if self._catalog is None:
            merged = dict(_builtin_catalog())
            for path in self.files()[len(catalog_files()):]:
                merged.update(_read_po(path))
            self._catalog = merged
        return self._catalog


@dataclass(frozen=True)
class Language:
    """What ``_()`` translates into: a locale and the catalog of the runtime in force."""

    locale: str
    translations: Translations


_current: contextvars.ContextVar[Language | None] = contextvars.ContextVar(
    "citygrowth_language", default=None)


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


def get_locale() -> str:
    lang = _current.get()
    return lang.locale if lang else DEFAULT_LOCALE


def current_translations() -> Translations:
    lang = _current.get()
    return lang.translations if lang else builtin_translations()


def set_locale(locale: str | None,
               translations: Translations | None = None) -> contextvars.Token[Language | None]:
    """Translate into ``locale`` (with ``translations``, else those in force) from now on in
    this context (a request, a command, a job); undo with ``reset_locale(token)``."""
    lang = Language(normalise_locale(locale) or get_locale(),
                    translations or current_translations())
    return _current.set(lang)


def reset_locale(token: contextvars.Token[Language | None]) -> None:
    _current.reset(token)


@contextmanager
def locale_context(locale: str | None,
                   translations: Translations | None = None) -> Iterator[None]:
    token = set_locale(locale, translations)
    try:
        yield
    finally:
        _current.reset(token)


def catalog_files() -> list[Path]:
    """The built-in domains' catalog files."""
    return sorted(Path(__file__).parent.glob("**/locale/zh_CN.po"))


def _read_po(path: Path) -> dict[str, str]:
    with path.open("rb") as fh:
        cat = read_po(fh, locale="zh_CN")
    out: dict[str, str] = {}
    for msg in cat:
        if msg.id and msg.string and not msg.fuzzy:
            key = msg.id if isinstance(msg.id, str) else msg.id[0]
            out[key] = msg.string if isinstance(msg.string, str) else msg.string[0]
    return out


@lru_cache(maxsize=1)
def _builtin_catalog() -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in catalog_files():
        merged.update(_read_po(path))
    return merged


@lru_cache(maxsize=1)
def builtin_translations() -> Translations:
    """The built-in catalogs only (what a context with no runtime in force translates with)."""
    return Translations()


def catalog() -> dict[str, str]:
    """msgid → zh_CN text of the translations in force."""
    return current_translations().catalog


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
