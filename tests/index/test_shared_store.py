"""Two hosts on one shared folder (``shared_dir``): each keeps its own ``data_dir`` (locks,
scratch), both see the same observation batches, index results, uploads and published
frameworks, read by the engines' own Parquet readers (DuckDB's, Spark's)."""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from PIL import Image

from citygrowth.auth.actor import system_actor
from citygrowth.governance import media
from citygrowth.index import jobs
from citygrowth.index.service import read_results
from citygrowth.ingest.service import load_observations
from citygrowth.observatory import batches
from citygrowth.observatory.store import ObservationStore
from citygrowth.runtime import Runtime, build_runtime
from citygrowth.settings import Settings
from tests.factories import STREET_A, STREET_B, make_areas


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 40, 40)).save(buf, "PNG")
    return buf.getvalue()


def hosts(tmp_path: Path, sqlite_url: str) -> tuple[Runtime, Runtime]:
    shared = tmp_path / "shared"
    out = []
    for name in ("a", "b"):
        s = Settings(data_dir=tmp_path / name, shared_dir=shared, database_url=sqlite_url,
                     env="test", secret_key="t", scheduler_enabled=False)
        s.ensure_dirs()
        out.append(build_runtime(s, entry_points=False))
    return out[0], out[1]


def rows(bump: float) -> pd.DataFrame:
    return pd.DataFrame({"indicator": ["APP_MUSEUMS"] * 2, "area_code": [STREET_A, STREET_B],
                         "period": ["2024"] * 2, "value": [3.0 * bump, 5.0]})


def test_two_hosts_share_observations_results_and_uploads(
        tmp_path: Path, sqlite_url: str) -> None:
    a, b = hosts(tmp_path, sqlite_url)
    with a.session() as s:
        make_areas(s)
    with a.session() as s:
        load_observations(s, a, system_actor("t"), rows(1.0), source="host a")
    shared = tmp_path / "shared" / "observations" / "batches"
    assert len(list(shared.glob("*.parquet"))) == 1
    assert not (tmp_path / "a" / "observations").exists()
    # host b's store sees host a's batch, and DuckDB's own reader reads the shared file
    got = ObservationStore(b.settings).query(["APP_MUSEUMS"])
    assert sorted(got["value"]) == [3.0, 5.0]
    direct = duckdb.sql(f"SELECT sum(value) FROM read_parquet('{shared}/*.parquet')")
    assert direct.fetchall() == [(8.0,)]
    # host a computes; host b reads the results
    assert jobs.refresh(a) is not None
    res = read_results(b, level="street", period="2024")
    assert set(res["unit"]) == {STREET_A, STREET_B}
    # a later load on b is seen by a (its cached view refreshes on the folder's change)
    with b.session() as s:
        load_observations(s, b, system_actor("t"), rows(2.0), source="host b")
    again = ObservationStore(a.settings).query(["APP_MUSEUMS"])
    assert sorted(again["value"]) == [5.0, 6.0]
    # one recompute for both: b computes the new vintage, a finds it done
    assert jobs.refresh(b) is not None and jobs.refresh(a) is None
    assert (tmp_path / "shared" / "index-recompute.lock").exists()
    # an upload kept by a is served from b's folder
    with a.session() as s:
        photo = media.encode_photo(png(), media.Limits.of(a.settings), "p.png")
        ref = media.ref_of(media.store_photo(s, a.settings.store_dir, photo, "user:1").id)
    found = media.file_for(b.settings.store_dir, ref.rsplit("/", 1)[1])
    assert found is not None and found[1].is_relative_to(tmp_path / "shared")
    assert batches.observations_dir(a.settings) == batches.observations_dir(b.settings)


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_reads_the_shared_batches(tmp_path: Path, sqlite_url: str,
                                        spark_con) -> None:  # type: ignore[no-untyped-def]
    a, b = hosts(tmp_path, sqlite_url)
    with a.session() as s:
        make_areas(s)
    with a.session() as s:
        load_observations(s, a, system_actor("t"), rows(1.0), source="host a")
    spark = ObservationStore(b.settings, backend="pyspark", spark_session=spark_con._session)
    got = spark.query(["APP_MUSEUMS"])
    assert sorted(got["value"]) == [3.0, 5.0]
