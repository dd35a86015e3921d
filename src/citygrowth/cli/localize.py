"""The command line in the reader's language: help texts, option descriptions and click's own
words ("Usage:", "Options", "Show this message and exit." …) through citygrowth's catalogs.

Command help is written in English in each command's docstring; :func:`localize` translates it
paragraph by paragraph (the English paragraph, whitespace joined, is the msgid) and keeps the
English to translate again for another language. An ``Example:`` paragraph keeps its command
and translates only its label. A paragraph without a translation stays English.

The language is chosen before click parses anything (:func:`pick_locale`): ``--lang`` on the
command line, else ``CITYGROWTH_DEFAULT_LOCALE`` (environment or ``.env``), else zh_CN.
"""

from __future__ import annotations

import gettext
import importlib
import inspect
import os
from collections.abc import Sequence
from pathlib import Path

import click

from citygrowth.i18n import ngettext as _ngettext
from citygrowth.i18n import normalise_locale, translate

_ENGLISH = "_citygrowth_english"
#: click's modules whose messages go through ``gettext``
CLICK_MODULES = ("click.core", "click.decorators", "click.exceptions", "click.formatting",
                 "click.parser", "click.types", "click.termui", "click.utils")


def pick_locale(args: Sequence[str], env_file: Path = Path(".env")) -> str:
    """The language of this run: ``--lang X`` / ``--lang=X``, CITYGROWTH_DEFAULT_LOCALE in the
    environment or the ``.env`` file, else zh_CN."""
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            return normalise_locale(args[i + 1]) or "zh_CN"
        if arg.startswith("--lang="):
            return normalise_locale(arg.split("=", 1)[1]) or "zh_CN"
    value = os.environ.get("CITYGROWTH_DEFAULT_LOCALE")
    if value is None and env_file.is_file():
        for line in env_file.read_text(encoding="utf-8", errors="replace").splitlines():
            key, sep, rest = line.strip().partition("=")
            if sep and key.strip() == "CITYGROWTH_DEFAULT_LOCALE":
                value = rest.strip().strip("'\"")
    return normalise_locale(value) or "zh_CN"


def _click_gettext(message: str) -> str:
    return translate(message)


def install_click_translations() -> None:
    """Let click's own messages go through citygrowth's catalogs (idempotent)."""
    for name in CLICK_MODULES:
        module = importlib.import_module(name)
        if getattr(module, "_", None) is gettext.gettext:
            module._ = _click_gettext  # type: ignore[attr-defined]
        if getattr(module, "ngettext", None) is gettext.ngettext:
            module.ngettext = _ngettext  # type: ignore[attr-defined]


def _key(paragraph: str) -> str:
    return " ".join(paragraph.split())


def translate_help(text: str | None, locale: str) -> str | None:
    """A help text in ``locale``, paragraph by paragraph."""
    if not text or locale == "en":
        return text
    out = []
    for paragraph in inspect.cleandoc(text).split("\n\n"):
        stripped = paragraph.strip()
        if stripped.startswith("\b") or not stripped:
            out.append(paragraph)
        elif stripped.startswith("Example:"):
            out.append(translate("Example:", locale) + stripped[len("Example:"):])
        else:
            key = _key(stripped)
            found = translate(key, locale)
            out.append(found if found != key else paragraph)
    return "\n\n".join(out)


def localize(cmd: click.Command, locale: str) -> click.Command:
    """Put ``cmd`` (and its subcommands and options) into ``locale``; returns it."""
    english = cmd.__dict__.setdefault(_ENGLISH, (cmd.help, cmd.short_help))
    cmd.help = translate_help(english[0], locale)
    cmd.short_help = translate_help(english[1], locale)
    # click (>= 8.1.8) caches the --help option, its text in the language of the run that
    # made it: let this run make it again in its own language
    if getattr(cmd, "_help_option", None) is not None:
        cmd._help_option = None
    for param in cmd.params:
        if isinstance(param, click.Option):
            help_en = param.__dict__.setdefault(_ENGLISH, param.help)
            param.help = translate_help(help_en, locale)
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            localize(sub, locale)
    return cmd


def english_help(cmd: click.Command) -> tuple[str | None, list[str]]:
    """(help, option helps) of ``cmd`` in English, whatever it was localized to."""
    help_en = cmd.__dict__.get(_ENGLISH, (cmd.help, None))[0]
    options = [p.__dict__.get(_ENGLISH, p.help) for p in cmd.params
               if isinstance(p, click.Option)]
    return help_en, [o for o in options if o]


def help_msgids(text: str | None) -> list[str]:
    """The msgids of a help text (what :func:`translate_help` looks up)."""
    if not text:
        return []
    ids = []
    for paragraph in inspect.cleandoc(text).split("\n\n"):
        stripped = paragraph.strip()
        if stripped and not stripped.startswith(("\b", "Example:")):
            ids.append(_key(stripped))
    return ids
