"""An area profile lists the area's targets only to those who may read them: a street's staff
open another street's profile (its index is public to them) without its targets — found by the
matrix (``test_matrix.py``), where street A's commander read street B's target names."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from citygrowth.app import create_app
from citygrowth.settings import Settings
from tests.security.world import SIDES, WORLD_SECRET, World, build_world


def test_a_profile_lists_only_the_targets_its_reader_may_read(tmp_path: Path) -> None:
    world: World = build_world(tmp_path / "w")
    names = {m.area: m.text for m in world.markers if m.kind == "target"}
    street_a, street_b = SIDES["A"][0], SIDES["B"][0]
    app = create_app(Settings(data_dir=tmp_path / "w" / "var", database_url=world.url,
                              env="test", secret_key=WORLD_SECRET, scheduler_enabled=False))
    with TestClient(app) as client:
        def targets(who: str, street: str) -> list[str]:
            r = client.get(f"/api/profile/{street}", headers={"X-API-Key": world.keys[who]})
            assert r.status_code == 200, r.text
            return [t["name"] for t in r.json()["targets"]]

        assert targets("cmd_a", street_a) == [names[street_a]]
        assert targets("cmd_a", street_b) == []  # the profile opens, without B's targets
        assert targets("admin", street_b) == [names[street_b]]
        page = client.get(f"/profile/{street_b}", headers={"X-API-Key": world.keys["cmd_a"]})
        assert page.status_code == 200 and names[street_b] not in page.text
    app.state.runtime.dispose()
    shutil.rmtree(tmp_path / "w", ignore_errors=True)
