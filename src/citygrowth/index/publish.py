"""Publishing a new version of the district's framework (new weights or methods).

A version comes from the index workbench's export or from a file an analyst edited. Publishing
checks it completely before anything changes: a framework file that parses, the district's
framework code, a version number not used before, the same indicators as the catalog in force
(so that stored observations, uploads and templates keep their meaning), and an index spec that
builds. Then the file is kept as ``<data_dir>/frameworks/<code>-<version>.yaml`` and made the
district's framework by an atomic replace of ``active.yaml``; the change is audited and
``framework.published`` is published on the bus. ``reset_framework`` goes back to the built-in
file. Every earlier version stays in the folder, and index results stay keyed by version.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from citygrowth.auth.actor import Actor
from citygrowth.auth.audit import record
from citygrowth.auth.permissions import require
from citygrowth.catalog.framework import (
    DEFAULT_FILE,
    Framework,
    load_framework_file,
    parse_framework,
)
from citygrowth.errors import CityGrowthError, Problem, ValidationFailed
from citygrowth.events import publish_on_commit
from citygrowth.index.spec import spec_for_framework
from citygrowth.runtime import Runtime

VERSION = re.compile(r"^[0-9A-Za-z.\-]{1,20}$")


def _folder(runtime: Runtime) -> Path:
    folder = runtime.frameworks.published_dir
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def check_version(text: str, current: Framework, folder: Path) -> Framework:
    """The framework in ``text``, checked against the one in force; every mistake named."""
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    except yaml.YAMLError as exc:
        raise ValidationFailed("The framework file is not valid YAML: {detail}",
                               code="bad_framework", detail=str(exc)[:200]) from None
    if not isinstance(data, dict):
        raise ValidationFailed("The framework file must be a mapping with code, version and "
                               "pillars.", code="bad_framework")
    fw = parse_framework(data, path="(upload)")
    problems: list[Problem] = []
    if fw.code != current.code:
        problems.append(Problem("The framework code must stay {code} (the file says {given}).",
                                {"code": current.code, "given": fw.code}, field="code"))
    if not VERSION.match(fw.version):
        problems.append(Problem("Version {version} may use only letters, digits, dots and "
                                "dashes (at most 20).", {"version": fw.version},
                                field="version"))
    elif fw.version == current.version or (folder / f"{fw.code}-{fw.version}.yaml").exists():
        problems.append(Problem("Version {version} has been used already; give the new "
                                "version a new number.", {"version": fw.version},
                                field="version"))
    have = {i.code for i in current.indicators}
    got = {i.code for i in fw.indicators}
    if got - have:
        problems.append(Problem("Indicators not in the catalog: {codes}.",
                                {"codes": ", ".join(sorted(got - have))}, field="indicators"))
    if have - got:
        problems.append(Problem("Indicators of the catalog missing from the file: {codes}.",
                                {"codes": ", ".join(sorted(have - got))}, field="indicators"))
    if problems:
        raise ValidationFailed("This framework version cannot be published.",
                               code="bad_framework", problems=problems)
    return fw


def publish_framework(session: Session, runtime: Runtime, actor: Actor, text: str) -> Framework:
    """Make ``text`` (a framework file) the district's framework; returns it as loaded."""
    require(actor, "framework.publish")
    folder = _folder(runtime)
    current = runtime.frameworks.load()
    fw = check_version(text, current, folder)
    kept = folder / f"{fw.code}-{fw.version}.yaml"
    tmp = folder / f".{kept.name}.tmp"
    tmp.write_text(text, encoding="utf-8")
    try:  # the index must build from it before it is put in force
        spec_for_framework(load_framework_file(tmp))
    except CityGrowthError:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, kept)
    active_tmp = folder / ".active.yaml.tmp"
    active_tmp.write_text(text, encoding="utf-8")
    os.replace(active_tmp, folder / "active.yaml")
    published = runtime.frameworks.load()
    record(session, actor, "framework.publish", f"{fw.code}@{fw.version}",
           {"previous": current.version, "file": kept.name})
    session.flush()
    publish_on_commit(session, runtime.bus, "framework.published", {
        "framework": fw.code, "version": fw.version, "previous": current.version})
    return published


def reset_framework(session: Session, runtime: Runtime, actor: Actor) -> Framework:
    """Go back to the built-in framework (published versions stay in the folder)."""
    require(actor, "framework.publish")
    folder = _folder(runtime)
    current = runtime.frameworks.load()
    (folder / "active.yaml").unlink(missing_ok=True)
    builtin = runtime.frameworks.load()
    record(session, actor, "framework.reset", f"{builtin.code}@{builtin.version}",
           {"previous": current.version})
    session.flush()
    if current.version != builtin.version:
        publish_on_commit(session, runtime.bus, "framework.published", {
            "framework": builtin.code, "version": builtin.version,
            "previous": current.version})
    return builtin


def framework_status(runtime: Runtime) -> dict[str, Any]:
    """The framework in force, whether it is a published version, and every version kept."""
    folder = _folder(runtime)
    fw = runtime.frameworks.load()
    return {"code": fw.code, "version": fw.version,
            "published": runtime.frameworks.default_file() != DEFAULT_FILE,
            "builtin_version": runtime.frameworks.builtin.version,
            "versions": sorted(p.stem.split("-", 1)[1] for p in folder.glob(f"{fw.code}-*.yaml"))}
