"""One Spark session per test worker, on a temporary warehouse folder."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import needs


@pytest.fixture(scope="session")
def spark_con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    needs("pyspark", importlib.util.find_spec("pyspark") is not None)
    import ibis
    from pyspark.sql import SparkSession

    warehouse: Path = tmp_path_factory.mktemp("spark-warehouse")
    session = (SparkSession.builder.master("local[1]").appName("citygrowth-index-tests")
               .config("spark.sql.warehouse.dir", str(warehouse))
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={warehouse}")
               .getOrCreate())
    yield ibis.pyspark.connect(session)
    session.stop()
