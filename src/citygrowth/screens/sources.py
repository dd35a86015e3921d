"""Building :class:`ScreenSources` for a request, with the area tree cached per app.

The tree is reloaded only when the areas table changes (its row count or newest
``updated_at``), so a dashboard call costs one small query instead of reading every area.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citygrowth.areas.models import Area
from citygrowth.areas.tree import AreaTree
from citygrowth.catalog.framework import load_framework
from citygrowth.observatory.store import ObservationStore
from citygrowth.screens.summary import ScreenSources
from citygrowth.settings import Settings

_lock = threading.Lock()


def cached_tree(state: Any, session: Session) -> AreaTree:
    stamp = session.execute(select(func.count(Area.code), func.max(Area.updated_at))).one()
    key = (stamp[0], str(stamp[1]))
    with _lock:
        cached = getattr(state, "screens_tree", None)
        if cached is not None and cached[0] == key:
            return cached[1]  # type: ignore[no-any-return]
    tree = AreaTree.load(session)
    with _lock:
        state.screens_tree = (key, tree)
    return tree


def latest_run(session: Session, framework: str, version: str | None = None) -> str | None:
    """The newest finished index run of ``framework`` (of that version when given) as
    ``"<id>:<vintage>"`` (None if none): the key on which index results are cached."""
    from citygrowth.index.models import IndexRun

    q = select(IndexRun.id, IndexRun.vintage).where(IndexRun.framework_code == framework,
                                                    IndexRun.status == "done")
    if version is not None:
        q = q.where(IndexRun.framework_version == version)
    row = session.execute(q.order_by(IndexRun.id.desc()).limit(1)).first()
    return None if row is None else f"{row[0]}:{row[1]}"


def sources(state: Any, session: Session, settings: Settings) -> ScreenSources:
    fw = load_framework("default")
    return ScreenSources(
        settings=settings,
        store=ObservationStore(settings),
        framework=fw,
        tree=cached_tree(state, session),
        run=latest_run(session, fw.code, fw.version),
    )
