"""Every msgid in the source and the templates has a Chinese translation.

msgids are extracted with Babel's extractors: ``_()``, ``N_()``, ``gettext()``,
``translate()``, ``ngettext()`` in Python and ``_()``/``{% trans %}`` in Jinja templates; and,
with a small AST pass, the English messages of errors — a ``message = "..."`` class attribute,
a ``message="..."`` keyword (``Problem(message=...)``) and the first argument given to any
``CityGrowthError`` subclass (``NotFound("There is no …", code=…)``) — and the labels of
``NavItem`` and descriptions of ``DemoStep``.
"""

from __future__ import annotations

import ast
import io
from collections.abc import Iterator
from pathlib import Path

from babel.messages.extract import extract_python
from jinja2.ext import babel_extract

from citygrowth.i18n import catalog, translate

SRC = Path(__file__).parent.parent / "src" / "citygrowth"
KEYWORDS = {"_": None, "N_": None, "gettext": None, "translate": None, "ngettext": (1, 2)}
ERROR_BASES = {"CityGrowthError", "ValidationFailed", "NotFound", "Unauthenticated", "Forbidden",
               "Conflict", "TooManyRequests", "ConfigurationError"}
LABEL_KEYWORDS = {"NavItem": "label", "DemoStep": "description"}

Msg = tuple[str, str]  # (msgid, "file:line")


def _rel(path: Path) -> str:
    return str(path.relative_to(SRC.parent.parent))


def _python_babel(path: Path) -> Iterator[Msg]:
    with path.open("rb") as fh:
        for lineno, _func, message, _comments in extract_python(fh, KEYWORDS, [], {}):
            for m in message if isinstance(message, tuple) else (message,):
                if m:
                    yield m, f"{_rel(path)}:{lineno}"


def _error_classes(trees: dict[Path, ast.Module]) -> set[str]:
    names = set(ERROR_BASES)
    grew = True
    while grew:
        grew = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names and any(
                        _name(b) in names for b in node.bases):
                    names.add(node.name)
                    grew = True
    return names


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _const(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip():
        return node.value
    return None


def _python_ast(path: Path, tree: ast.Module, errors: set[str]) -> Iterator[Msg]:
    where = _rel(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name in errors:
            for stmt in node.body:
                if (isinstance(stmt, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == "message" for t in stmt.targets)
                        and (m := _const(stmt.value))):
                    yield m, f"{where}:{stmt.lineno}"
        if not isinstance(node, ast.Call):
            continue
        func = _name(node.func)
        for kw in node.keywords:
            if kw.arg == "message" and (m := _const(kw.value)):
                yield m, f"{where}:{node.lineno}"
            if func in LABEL_KEYWORDS and kw.arg == LABEL_KEYWORDS[func] and (
                    m := _const(kw.value)):
                yield m, f"{where}:{node.lineno}"
        if func in errors and node.args and (m := _const(node.args[0])):
            yield m, f"{where}:{node.lineno}"
        if func == "NavItem" and node.args and (m := _const(node.args[0])):
            yield m, f"{where}:{node.lineno}"


def _templates() -> Iterator[Msg]:
    for path in sorted(SRC.glob("**/templates/**/*.html")):
        with path.open("rb") as fh:
            for lineno, _func, message, _c in babel_extract(fh, tuple(KEYWORDS), [], {}):
                for m in message if isinstance(message, tuple) else (message,):
                    if m:
                        yield m, f"{_rel(path)}:{lineno}"


def extract_all() -> list[Msg]:
    files = sorted(SRC.glob("**/*.py"))
    trees = {p: ast.parse(p.read_text(encoding="utf-8"), str(p)) for p in files}
    errors = _error_classes(trees)
    out: list[Msg] = []
    for p in files:
        out += _python_babel(p)
        out += _python_ast(p, trees[p], errors)
    out += _templates()
    return out


def test_extractor_finds_the_kinds_of_msgids() -> None:
    found = {m for m, _ in extract_all()}
    assert "Please log in first." in found  # class attribute of an error
    assert "The user name or password is wrong." in found  # first argument of an error
    assert "A password needs at least {n} characters." in found  # Problem(message=…)
    assert "User name" in found  # a template
    assert "District administrator" in found  # N_()


def test_every_msgid_has_a_chinese_translation() -> None:
    cat = catalog()
    missing: dict[str, list[str]] = {}
    for msgid, where in extract_all():
        if msgid not in cat:
            missing.setdefault(msgid, []).append(where)
    report = "\n".join(f"  {', '.join(sorted(set(w)))}: {m!r}" for m, w in sorted(
        missing.items(), key=lambda kv: kv[1][0]))
    assert not missing, (f"{len(missing)} msgids have no zh_CN translation; add them to the "
                         f"domain's locale/zh_CN.po:\n{report}")


def test_translation_keeps_placeholders() -> None:
    import re

    bad = []
    for msgid, text in catalog().items():
        if sorted(re.findall(r"\{\w*\}", msgid)) != sorted(re.findall(r"\{\w*\}", text)):
            bad.append(f"{msgid!r} -> {text!r}")
    assert not bad, "translations whose {placeholders} differ:\n" + "\n".join(bad)
    assert translate("Please log in first.", "zh_CN") == "请先登录。"


def test_babel_reads_a_template_string() -> None:
    found = list(babel_extract(io.BytesIO(b'{{ _("Hello") }}'), ("_",), [], {}))
    assert found[0][2] == "Hello"
