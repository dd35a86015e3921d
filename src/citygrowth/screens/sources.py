"""Building :class:`ScreenSources` for a request, with the area tree cached per app.

The tree is reloaded only when the areas table changes (its row count or newest
``updated_at``), so a dashboard call costs one small query instead of reading every area.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import State

from citygrowth.areas.models import Area
from citygrowth.areas.tree import AreaTree
from citygrowth.index.models import IndexRun
from citygrowth.observatory.store import ObservationStore
from citygrowth.runtime import Runtime
from citygrowth.screens.summary import ScreenSources

_lock = threading.Lock()


def cached_tree(state: State, session: Session) -> AreaTree:
    stamp = session.execute(select(func.count(Area.code), func.max(Area.updated_at))).one()
    key = (stamp[0], str(stamp[1]))
    with _lock:
        cached = getattr(state, "screens_tree", None)
        if cached is not None and cached[0] == key:
            tree: AreaTree = cached[1]
            return tree
    tree = AreaTree.load(session)
    with _lock:
        state.screens_tree = (key, tree)
    return tree


def latest_run(session: Session, framework: str, version: str | None = None) -> str | None:
    """The newest finished index run of ``framework`` (of that version when given) as
    ``"<id>:<vintage>"`` (None if none): the key on which index results are cached."""
    q = select(IndexRun.id, IndexRun.vintage).where(IndexRun.framework_code == framework,
                                                    IndexRun.status == "done")
    if version is not None:
        q = q.where(IndexRun.framework_version == version)
    row = session.execute(q.order_by(IndexRun.id.desc()).limit(1)).first()
    return None if row is None else f"{row[0]}:{row[1]}"


def sources(state: State, session: Session, runtime: Runtime) -> ScreenSources:
    fw = runtime.frameworks.load()
    return ScreenSources(
        runtime=runtime,
        store=ObservationStore(runtime.settings),
        framework=fw,
        tree=cached_tree(state, session),
        run=latest_run(session, fw.code, fw.version),
    )
