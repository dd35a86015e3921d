"""Coding standards that hold the code's shape (as CKAN's ``test_coding_standards.py`` does).

* Every public service function ``(session, actor, …)`` checks permission: it calls
  ``require``/``can``/``scope_prefixes``/``departments_for``, directly or through a function
  of the project that does. The few that must not are on a short, commented allow-list.
* Imports sit at the top of their module; an import inside a function carries a
  ``# lazy: <reason>`` comment (breaking a real cycle, keeping the CLI quick to start, or
  delaying a heavy library), and docs/architecture.md lists them.
* No module outside ``settings.py`` names a time zone or reads configuration from a global.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).parent.parent
SRC = ROOT / "src" / "citygrowth"
CHECKS = frozenset({"require", "can", "scope_prefixes", "departments_for"})
# modules whose functions only hand over to services (they are checked there)
THIN = frozenset({"routes", "pages", "admin_routes", "cli", "main", "plugin", "demo",
                  "demo_data", "jobs"})
ALLOWED_WITHOUT_CHECK = {
    # write the audit entry / the feed line of an action the calling service has just checked
    "citygrowth.auth.audit.record",
    "citygrowth.accountability.changes.note",
    # the actor's own registration as a helper: nobody reads another's through it
    "citygrowth.governance.helpers.helper_of",
    # logging out: ends only the acting user's own sessions (anyone may log themselves out)
    "citygrowth.auth.service.end_own_sessions",
    # a reporter's own cases: found by their user id or by the tracking codes their browser
    # holds (the code is the credential, as on the tracking page)
    "citygrowth.governance.tracking.my_reports",
}


@dataclass
class Module:
    path: Path
    defs: dict[str, ast.FunctionDef | ast.AsyncFunctionDef]
    imports: dict[str, tuple[str, str]]


def _modules() -> dict[str, Module]:
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        name = ".".join(path.relative_to(SRC.parent).with_suffix("").parts)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defs = {n.name: n for n in tree.body
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
        imports = {a.asname or a.name: (n.module, a.name) for n in ast.walk(tree)
                   if isinstance(n, ast.ImportFrom) and n.module for a in n.names}
        out[name] = Module(path, defs, imports)
    return out


def _calls(node: ast.AST) -> list[tuple[str | None, str]]:
    found: list[tuple[str | None, str]] = []
    for n in ast.walk(node):
        if isinstance(n, ast.Call):
            if isinstance(n.func, ast.Name):
                found.append((None, n.func.id))
            elif isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name):
                found.append((n.func.value.id, n.func.attr))
    return found


def _checks(mods: dict[str, Module], mod: str, name: str, seen: set[tuple[str, str]]) -> bool:
    if (mod, name) in seen or mod not in mods or name not in mods[mod].defs:
        return False
    seen.add((mod, name))
    m = mods[mod]
    for base, called in _calls(m.defs[name]):
        if base is None and called in CHECKS:
            return True
        if base is None and called in m.defs and _checks(mods, mod, called, seen):
            return True
        if base is None and called in m.imports:
            source, original = m.imports[called]
            if original in CHECKS or _checks(mods, source, original, seen):
                return True
        if base is not None and base in m.imports:
            source, original = m.imports[base]
            if _checks(mods, f"{source}.{original}", called, seen):
                return True
    return False


def test_every_public_service_checks_permission() -> None:
    mods = _modules()
    services, unchecked = 0, []
    for name, m in mods.items():
        if m.path.stem in THIN or m.path.stem.endswith(("_pages", "_routes", "_cli")):
            continue
        for fn, node in m.defs.items():
            args = [a.arg for a in node.args.args]
            if fn.startswith("_") or args[:2] != ["session", "actor"]:
                continue
            services += 1
            if f"{name}.{fn}" not in ALLOWED_WITHOUT_CHECK and not _checks(mods, name, fn,
                                                                             set()):
                unchecked.append(f"{name}.{fn} ({m.path.relative_to(ROOT)}:{node.lineno})")
    assert services > 100  # the scan finds the services at all
    assert not unchecked, "services without a permission check: " + ", ".join(unchecked)


def lazy_imports() -> list[tuple[str, int, str]]:
    """(file, line, reason) of every import inside a function; reason '' when unmarked."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").split("\n")
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for sub in ast.walk(node):
                if isinstance(sub, ast.Import | ast.ImportFrom):
                    # the comment on the statement's line, or on the line above it
                    here = lines[sub.lineno - 2:(sub.end_lineno or sub.lineno)]
                    reasons = [m.group(1).strip() for line in here
                               if (m := re.search(r"#\s*lazy:\s*(\S.*)$", line))]
                    found.append((str(path.relative_to(ROOT)), sub.lineno,
                                  reasons[0] if reasons else ""))
    return found


def test_imports_inside_functions_say_why() -> None:
    unmarked = [f"{f}:{line}" for f, line, reason in lazy_imports() if not reason]
    assert not unmarked, "imports inside functions without '# lazy: <reason>': " + \
        ", ".join(unmarked)


def test_the_lazy_imports_are_listed_in_the_architecture_doc() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    files = sorted({f.removeprefix("src/citygrowth/") for f, _line, _reason in lazy_imports()})
    missing = [f for f in files if f not in doc]
    assert not missing, f"docs/architecture.md does not list the lazy imports of {missing}"


def test_no_zone_or_global_configuration_outside_settings() -> None:
    offenders = []
    for path in sorted(SRC.rglob("*")):
        if path.suffix not in (".py", ".js", ".html") or path.name == "settings.py" \
                or "vendor" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in (r'"Asia/Shanghai"', r"\bconfigure_\w+\(", r"\bcase_settings\(\)",
                        r"\bget_plugin_manager\(", r"\bset_default_locale\("):
            if re.search(pattern, text):
                offenders.append(f"{path.relative_to(ROOT)}: {pattern}")
    assert not offenders, offenders
