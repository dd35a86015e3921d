"""The ``observations`` demo step: the illustrative observations of
:mod:`citygrowth.observatory.demo`, loaded department by department like any upload."""

from __future__ import annotations

from sqlalchemy import select

from citygrowth.auth.actor import Actor
from citygrowth.ingest.service import load_observations
from citygrowth.observatory.demo import DEMO_SOURCE, LAST_DAY, area_frame, generate
from citygrowth.observatory.models import ObservationLoad
from citygrowth.runtime import Runtime


def run_demo(runtime: Runtime, actor: Actor) -> None:
    """Skipped when demo observations are already loaded."""
    with runtime.session() as session:
        done = session.scalar(select(ObservationLoad.id).where(
            ObservationLoad.source == DEMO_SOURCE, ObservationLoad.status == "accepted"
        ).limit(1))
        if done is not None:
            return
        fw = runtime.frameworks.load()
        areas = area_frame(session, runtime.settings.district_code)
        data = generate(areas, fw, min(LAST_DAY, runtime.today()))
        dept = data["indicator"].map({i.code: i.department for i in fw.indicators})
        for code, frame in data.groupby(dept, sort=True):
            load_observations(session, runtime, actor, frame, dataset=str(code),
                              source=DEMO_SOURCE, file_name=f"demo-{code}.csv",
                              illustrative=True)
