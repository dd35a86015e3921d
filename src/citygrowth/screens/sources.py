"""Building :class:`ScreenSources` for a request (the area tree cached per app:
:func:`citygrowth.areas.tree.cached_tree`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import State

from citygrowth.areas.tree import cached_tree
from citygrowth.index.models import IndexRun
from citygrowth.observatory.store import ObservationStore
from citygrowth.runtime import Runtime
from citygrowth.screens.summary import ScreenSources


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
