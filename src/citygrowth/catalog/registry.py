"""Which indicator frameworks an installation has: the district's and those plugins offer.

``registry.load("default")`` reads the version the district published
(``<data_dir>/frameworks/active.yaml``, see :mod:`citygrowth.index.publish`) or else the
built-in ``frameworks/city_growth_index.yaml``; other names are looked up among the files that
plugins offer through ``citygrowth_indicator_frameworks`` (by the framework's ``code`` or the
file's stem), and anything else is taken as a path. One registry lives on each runtime.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from citygrowth.catalog.framework import (
    DEFAULT_FILE,
    Framework,
    builtin_framework,
    load_framework_file,
    peek_code,
)
from citygrowth.errors import NotFound

DEFAULT_NAMES = ("default", "", "CGI")


@dataclass(frozen=True)
class FrameworkRegistry:
    """The frameworks of one installation. ``published_dir`` holds published versions."""

    published_dir: Path
    offered: tuple[Path, ...] = ()

    def default_file(self) -> Path:
        """The district's framework: the published version if there is one, else the built-in."""
        active = self.published_dir / "active.yaml"
        return active if active.exists() else DEFAULT_FILE

    def files(self) -> list[Path]:
        """The district's framework file, then every file offered by plugins."""
        files = [self.default_file()]
        files += [p for p in self.offered if p not in files]
        return files

    def list(self) -> list[Framework]:
        return [load_framework_file(p) for p in self.files()]

    def load(self, name: str | Path = "default") -> Framework:
        """A framework by name (``default``, a framework code, a plugin file's stem) or path."""
        return load_framework_file(self.resolve(name))

    def resolve(self, name: str | Path) -> Path:
        if isinstance(name, Path):
            return name
        if name in DEFAULT_NAMES:
            return self.default_file()
        for f in self.files():
            if f.stem == name:
                return f
        for f in self.files():
            if f.exists() and peek_code(f) == name:
                return f
        p = Path(name)
        if p.suffix in (".yaml", ".yml") and p.exists():
            return p
        raise NotFound("No indicator framework named '{name}'.", name=str(name))

    @property
    def builtin(self) -> Framework:
        """The framework shipped with citygrowth."""
        return builtin_framework()
