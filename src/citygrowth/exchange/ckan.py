"""A CKAN-compatible catalog: one package per indicator, organisations are departments.

Each indicator of the framework is a package (``cgi-eco-gdp``), owned by its department's
organisation, tagged and grouped by its pillar, with resources pointing at our own endpoints
(CSV, JSON, SDMX-ML, SDMX-CSV). ``package_list``, ``package_show`` and ``package_search`` follow
CKAN's action API (q, fq, rows, start, sort, facet.field).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from citygrowth.exchange.sdmx.model import sdmx_id
from citygrowth.exchange.sdmx.structure import FLOW_ID, IndicatorInfo
from citygrowth.exchange.sources import Publication
from citygrowth.i18n import N_, translate

_NS = uuid.UUID("6f1c1f4e-9d07-5b0e-8a53-3e0c7a2b9c11")
MAX_ROWS = 1000
SEARCH_FIELDS = ("name", "title", "tags", "organization", "groups", "res_format",
                 "indicator_code", "frequency", "unit", "finest_level")
SORTABLE = ("name", "title", "title_string", "metadata_modified", "score")


class CkanError(Exception):
    """An error answered in CKAN's envelope. ``kind`` is CKAN's ``__type``."""

    STATUS = {"Not Found Error": 404, "Validation Error": 409, "Authorization Error": 403,
              "Bad Request": 400, "Search Query Error": 409}

    def __init__(self, kind: str, message: str = "", fields: dict[str, list[str]] | None = None
                 ) -> None:
        self.kind = kind
        self.message = message
        self.fields = fields or {}
        super().__init__(message or kind)

    @property
    def status(self) -> int:
        return self.STATUS.get(self.kind, 400)


def validation(field: str, message: str) -> CkanError:
    return CkanError("Validation Error", fields={field: [message]})


def package_name(code: str) -> str:
    """``ECO_GDP`` → ``cgi-eco-gdp`` (CKAN names: lower-case letters, digits, - and _)."""
    return "cgi-" + re.sub(r"[^a-z0-9_-]+", "-", code.lower().replace("_", "-")).strip("-")


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NS, ":".join(parts)))


@dataclass(frozen=True)
class Catalog:
    """Packages built from a publication, with the base URL their resources point to."""

    pub: Publication
    base_url: str
    modified: dict[str, str]
    created: str

    def organization(self, dept: str) -> dict[str, Any]:
        zh, en = self.pub.departments.get(dept, (dept, dept))
        return {"id": _uuid("org", dept), "name": dept, "title": zh, "title_en": en,
                "description": en, "type": "organization", "is_organization": True,
                "state": "active", "approval_status": "approved", "image_url": "",
                "created": self.created}

    def _resources(self, ind: IndicatorInfo, pid: str) -> list[dict[str, Any]]:
        key = f".{sdmx_id(ind.code)}."
        base = self.base_url.rstrip("/")
        specs = (
            ("csv", "CSV", "text/csv", f"{base}/api/exchange/indicators/{ind.code}.csv",
             N_("Observations (CSV)")),
            ("json", "JSON", "application/json",
             f"{base}/api/exchange/indicators/{ind.code}.json", N_("Observations (JSON)")),
            ("sdmx", "SDMX-ML", "application/vnd.sdmx.genericdata+xml;version=2.1",
             f"{base}/sdmx/data/{FLOW_ID}/{key}?format=genericdata",
             N_("Observations (SDMX-ML 2.1 generic data)")),
            ("sdmx-csv", "SDMX-CSV", "application/vnd.sdmx.data+csv;version=2.0.0",
             f"{base}/sdmx/data/{FLOW_ID}/{key}?format=csv", N_("Observations (SDMX-CSV 2.0)")),
        )
        return [
            {"id": _uuid("res", ind.code, rid), "package_id": pid,
             "name": translate(name), "description": ind.name_en, "format": fmt,
             "mimetype": mime, "url": url,
             "position": pos, "state": "active", "url_type": None, "resource_type": "api",
             "created": self.created, "last_modified": self.modified.get(ind.code)}
            for pos, (rid, fmt, mime, url, name) in enumerate(specs)
        ]

    def package(self, ind: IndicatorInfo) -> dict[str, Any]:
        name = package_name(ind.code)
        pid = _uuid("pkg", self.pub.agency, ind.code)
        org = self.organization(ind.department)
        tags = [t for t in (ind.pillar_name_zh, ind.pillar_name_en) if t] or ["supporting"]
        groups = ([{"id": _uuid("grp", ind.pillar), "name": ind.pillar.lower(),
                    "title": ind.pillar_name_zh, "display_name": ind.pillar_name_zh,
                    "description": ind.pillar_name_en}] if ind.pillar else [])
        resources = self._resources(ind, pid)
        extras = {"indicator_code": ind.code, "unit": ind.unit, "frequency": ind.frequency,
                  "finest_level": ind.finest_level, "pillar": ind.pillar,
                  "sdmx_dataflow": f"{self.pub.agency}:{FLOW_ID}(1.0)",
                  "sdmx_key": f".{sdmx_id(ind.code)}.", "source": ind.source,
                  "framework": f"{self.pub.framework_code} {self.pub.framework_version}"}
        return {
            "id": pid, "name": name, "title": ind.name_zh,
            "title_translated": {"zh_CN": ind.name_zh, "en": ind.name_en},
            "notes": _notes(ind), "type": "dataset", "state": "active", "private": False,
            "license_id": "notspecified", "license_title": "License not specified",
            "author": org["title"], "maintainer": org["title"], "url": "",
            "version": self.pub.framework_version, "owner_org": org["id"], "organization": org,
            "tags": [{"id": _uuid("tag", t), "name": t, "display_name": t, "state": "active",
                      "vocabulary_id": None} for t in tags],
            "groups": groups, "resources": resources, "num_resources": len(resources),
            "num_tags": len(tags), "extras": [{"key": k, "value": v} for k, v in extras.items()],
            "metadata_created": self.created,
            "metadata_modified": self.modified.get(ind.code, self.created),
        }

    def packages(self) -> list[dict[str, Any]]:
        return [self.package(i) for i in sorted(self.pub.indicators, key=lambda i: i.code)]

    def find(self, id_or_name: str) -> dict[str, Any]:
        for ind in self.pub.indicators:
            if id_or_name in (package_name(ind.code), _uuid("pkg", self.pub.agency, ind.code),
                              ind.code):
                return self.package(ind)
        raise CkanError("Not Found Error", "Not found")


def _notes(ind: IndicatorInfo) -> str:
    parts = [ind.description_zh or ind.name_zh, ind.name_en,
             f"单位 Unit: {ind.unit}" if ind.unit else "",
             f"频率 Frequency: {ind.frequency}", f"最细区域 Finest area level: {ind.finest_level}",
             f"来源 Source: {ind.source}" if ind.source else ""]
    return "\n\n".join(p for p in parts if p)


# --- actions ----------------------------------------------------------------------------------

def _int(params: dict[str, Any], name: str, default: int, lo: int, hi: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise validation(name, "Invalid integer") from None
    if value < lo or value > hi:
        raise validation(name, f"Must be between {lo} and {hi}")
    return value


def package_list(cat: Catalog, params: dict[str, Any]) -> list[str]:
    limit = _int(params, "limit", MAX_ROWS, 0, MAX_ROWS)
    offset = _int(params, "offset", 0, 0, 10**9)
    names = sorted(package_name(i.code) for i in cat.pub.indicators)
    return names[offset:offset + limit]


def package_show(cat: Catalog, params: dict[str, Any]) -> dict[str, Any]:
    pid = params.get("id") or params.get("name")
    if not isinstance(pid, str) or not pid.strip():
        raise validation("id", "Missing value")
    return cat.find(pid.strip())


_TOKEN = re.compile(r'([+-]?)(?:(\w+):)?("[^"]*"|\S+)')


def _field_values(pkg: dict[str, Any], field: str) -> list[str]:
    extras = {e["key"]: e["value"] for e in pkg["extras"]}
    if field == "tags":
        return [t["name"] for t in pkg["tags"]]
    if field == "groups":
        return [g["name"] for g in pkg["groups"]]
    if field == "organization":
        return [pkg["organization"]["name"]]
    if field == "res_format":
        return [r["format"] for r in pkg["resources"]]
    if field in ("title", "title_string"):
        return [pkg["title"], pkg["title_translated"]["en"]]
    if field in extras:
        return [str(extras[field])]
    return [str(pkg.get(field, ""))]


def _text(pkg: dict[str, Any]) -> str:
    bits = [pkg["name"], pkg["title"], pkg["title_translated"]["en"], pkg["notes"],
            pkg["organization"]["name"], pkg["organization"]["title"],
            pkg["organization"]["title_en"], *(_field_values(pkg, "tags")),
            *(e["value"] for e in pkg["extras"])]
    return " ".join(str(b) for b in bits).lower()


def _matches(pkg: dict[str, Any], query: str) -> bool:
    """Every token must hit: free text is a substring of the package's text; ``field:value``
    equals one of the field's values (titles: a substring); ``-`` negates a token."""
    for sign, field, raw in _TOKEN.findall(query):
        value = raw.strip('"').lower()
        if field and field not in SEARCH_FIELDS and field not in ("text", "id"):
            raise CkanError("Search Query Error", f"Unknown field: {field}")
        if field in ("", "text"):
            hit = value in ("*", "*:*") or value in _text(pkg)
        elif field == "id":
            hit = value == pkg["id"]
        else:
            values = [v.lower() for v in _field_values(pkg, field)]
            words = field in ("title", "title_string")
            hit = value == "*" or (any(value in v for v in values) if words else value in values)
        if hit == (sign == "-"):
            return False
    return True


def _sort(results: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    for clause in reversed([c.strip() for c in sort.split(",") if c.strip()]):
        field, _sp, direction = clause.partition(" ")
        if field not in SORTABLE or direction.strip() not in ("", "asc", "desc"):
            raise validation("sort", f"Cannot sort by '{clause}'")
        if field == "score":
            continue
        key = "title" if field == "title_string" else field
        results.sort(key=lambda p: str(p.get(key, "")), reverse=direction.strip() == "desc")
    return results


def _facets(results: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    raw = params.get("facet.field")
    if not raw:
        return {}
    try:
        fields = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise validation("facet.field", "Not a JSON list") from None
    if not isinstance(fields, list) or not all(f in SEARCH_FIELDS for f in fields):
        raise validation("facet.field", f"Facet fields must be among {', '.join(SEARCH_FIELDS)}")
    out: dict[str, Any] = {}
    for f in fields:
        counts: dict[str, int] = {}
        for pkg in results:
            for v in set(_field_values(pkg, f)):
                counts[v] = counts.get(v, 0) + 1
        out[f] = {"title": f, "items": [{"name": k, "display_name": k, "count": n}
                                        for k, n in sorted(counts.items())]}
    return out


def package_search(cat: Catalog, params: dict[str, Any]) -> dict[str, Any]:
    q = str(params.get("q") or "*:*")
    fq = str(params.get("fq") or "")
    rows = _int(params, "rows", 10, 0, MAX_ROWS)
    start = _int(params, "start", 0, 0, 10**9)
    sort = str(params.get("sort") or "score desc, metadata_modified desc")
    found = [p for p in cat.packages() if _matches(p, q) and _matches(p, fq)]
    found = _sort(found, sort)
    facets = _facets(found, params)
    return {"count": len(found), "sort": sort, "results": found[start:start + rows],
            "facets": {k: {i["name"]: i["count"] for i in v["items"]} for k, v in facets.items()},
            "search_facets": facets}


def status_show(cat: Catalog, params: dict[str, Any]) -> dict[str, Any]:
    return {"ckan_version": "2.10.0", "site_url": cat.base_url.rstrip("/"),
            "site_title": cat.pub.name_zh, "site_description": cat.pub.name_en,
            "locale_default": "zh_CN", "extensions": ["citygrowth"]}


ACTIONS = {"package_list": package_list, "package_show": package_show,
           "package_search": package_search, "status_show": status_show}
