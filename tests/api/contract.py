"""Checking answers against the OpenAPI description, and making requests from it.

:class:`Contract` holds the description and validates an answer: its status must be
documented for the operation, its media type declared for that status, and a JSON body must
match the declared schema — *strictly*: an object the schema describes may hold no property
it does not name (unless the schema itself allows more), so an undocumented field fails too.

:func:`minimal` makes the smallest value a schema accepts, for a request body or parameter
(known field names get values of the seeded district).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

BASE = "urn:citygrowth:openapi"


def _strict(node: Any) -> Any:
    """A copy of a schema in which objects with named properties allow no other."""
    if isinstance(node, list):
        return [_strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _strict(v) for k, v in node.items()}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


@dataclass
class Answer:
    """What a request got: status, media type, body."""

    status: int
    media_type: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Contract:
    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = spec
        doc = json.loads(json.dumps(_strict(copy.deepcopy(dict(spec))))
                         .replace('"#/components/', f'"{BASE}#/components/'))
        self.registry: Registry[Any] = Registry().with_resource(
            BASE, Resource.from_contents(doc, default_specification=DRAFT202012))
        self.doc = doc

    def operations(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [(method, path, op) for path, ops in self.spec["paths"].items()
                for method, op in ops.items()]

    def problems(self, method: str, path: str, answer: Answer) -> list[str]:
        """What is wrong with ``answer`` to ``method path`` (nothing: it is as documented)."""
        op = self.doc["paths"][path][method]
        declared = op["responses"].get(str(answer.status)) or op["responses"].get("default")
        label = f"{method.upper()} {path} → {answer.status}"
        if declared is None:
            return [f"{label}: status not documented ({sorted(op['responses'])})"]
        content = declared.get("content") or {}
        if not content:
            return [] if not answer.body.strip() or answer.status in (204, 303) else [
                f"{label}: a body where none is declared"]
        media = _match(answer.media_type, content)
        if media is None:
            return [f"{label}: media type {answer.media_type!r} not declared "
                    f"({sorted(content)})"]
        schema = content[media].get("schema")
        if not schema or not _is_json(media):
            return []
        try:
            body = answer.json()
        except ValueError:
            return [f"{label}: the body is not JSON"]
        validator = Draft202012Validator(schema, registry=self.registry)
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        return [f"{label}: {'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message[:300]}"
                for e in errors[:5]]


def _is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def _match(media_type: str, content: Mapping[str, Any]) -> str | None:
    base = media_type.split(";")[0].strip().lower()
    for declared in content:
        if declared.split(";")[0].strip().lower() == base:
            return declared
    return None


# --- values for requests ----------------------------------------------------------------------

def resolve(spec: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return dict(schema)


def minimal(spec: Mapping[str, Any], schema: Mapping[str, Any], name: str,
            known: Mapping[str, Any], depth: int = 0) -> Any:
    """The smallest value ``schema`` accepts (known names first: the seeded district's)."""
    schema = resolve(spec, schema)
    if name in known:
        return known[name]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"]
            return minimal(spec, options[0], name, known, depth) if options else None
    if "default" in schema:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > 4:
            return {}
        props = schema.get("properties", {})
        return {k: minimal(spec, props[k], k, known, depth + 1) for k in props
                if k in schema.get("required", []) or k in known}
    if kind == "array":
        n = schema.get("minItems", 0)
        return [minimal(spec, schema.get("items", {}), name, known, depth + 1)
                for _ in range(n)]
    if kind == "integer":
        return max(int(schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)), 1)
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return False
    fmt = schema.get("format")
    if fmt == "date":
        return dt.date.today().isoformat()
    if fmt == "date-time":
        return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return "x" * max(int(schema.get("minLength", 1)), 1)
