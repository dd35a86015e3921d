"""Icons of the case categories and of the report pages, from the vendored Lucide sprite
(``static/vendor/lucide/icons.svg``, ISC licence; see its README for how it was made).

A 小类 without an icon of its own takes its 大类's; a category a plugin adds without either
gets :data:`FALLBACK`. ``tests/governance/test_icons.py`` checks every name is in the sprite.
"""

from __future__ import annotations

SPRITE = "/static/vendor/lucide/icons.svg"
FALLBACK = "circle-help"

CATEGORY_ICONS: dict[str, str] = {
    # 部件 (components)
    "C01": "wrench", "C0101": "droplet", "C0102": "circle-dot", "C0103": "grid-3x3",
    "C0104": "fire-extinguisher", "C0105": "lamp-floor",
    "C02": "traffic-cone", "C0201": "siren", "C0202": "fence", "C0203": "signpost",
    "C03": "sparkles", "C0301": "toilet", "C0302": "trash", "C0303": "armchair",
    "C04": "trees", "C0401": "tree-deciduous", "C0402": "sprout",
    "C05": "building-2", "C0501": "house",
    # 事件 (events)
    "E01": "trash-2", "E0101": "trash-2", "E0102": "brush-cleaning", "E0103": "shovel",
    "E02": "megaphone", "E0201": "sticky-note", "E0202": "megaphone",
    "E03": "hard-hat", "E0301": "hammer", "E0302": "brick-wall",
    "E04": "triangle-alert", "E0401": "construction", "E0402": "waves",
    "E05": "store", "E0501": "store", "E0502": "car", "E0503": "shopping-bag",
    "E06": "leaf", "E0601": "volume-2", "E0602": "cooking-pot",
    "E07": "heart-handshake", "E0701": "hand-heart", "E0702": "accessibility",
}

#: Icons of the pages themselves (buttons, steps, states).
UI_ICONS = ("map-pin", "locate-fixed", "camera", "image-plus", "x", "search", "check",
            "circle-check", "clock", "star", "rotate-ccw", "list", "map", "message-square-text",
            "chevron-right", "plus", "minus", "shield-check", "user-round", FALLBACK)


def category_icon(code: str, parent_code: str | None = None) -> str:
    """The icon name of a category: its own, else its 大类's, else :data:`FALLBACK`."""
    return (CATEGORY_ICONS.get(code) or CATEGORY_ICONS.get(parent_code or code[:3])
            or FALLBACK)


def sprite_names() -> list[str]:
    """Every icon the sprite must hold, sorted."""
    return sorted({*CATEGORY_ICONS.values(), *UI_ICONS})
