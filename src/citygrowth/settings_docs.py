"""Render docs/settings.md from :class:`citygrowth.settings.Settings`."""

from __future__ import annotations

import json

from citygrowth.settings import Settings


def render_settings_doc() -> str:
    lines = [
        "# Settings",
        "",
        "Generated from `src/citygrowth/settings.py` by `citygrowth settings docs`; do not edit.",
        "Each setting is read from the environment variable shown (or a `.env` file in the",
        "working folder). Lists are given as JSON, e.g. `CITYGROWTH_PLUGINS='[\"my.plugin\"]'`.",
        "",
        "| variable | type | default | description |",
        "|---|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        default = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
        shown = json.dumps(default, default=str, ensure_ascii=False)
        ann = getattr(field.annotation, "__name__", None) or str(field.annotation)
        ann = ann.replace("typing.", "").replace("|", "\\|")
        desc = (field.description or "").replace("\n", " ")
        lines.append(f"| `CITYGROWTH_{name.upper()}` | {ann} | `{shown}` | {desc} |")
    return "\n".join(lines) + "\n"
