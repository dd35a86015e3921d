"""Precompressed static assets: ECharts is stored gzip-compressed and served as the file the
browser asked for, compressed or not as the client accepts."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

from fastapi.testclient import TestClient

import citygrowth.web

URL = "/static/vendor/echarts/echarts.min.js"
# SHA-256 of the vendored echarts.min.js 5.6.1 (the .gz must decompress to it exactly)
PUBLISHED = "bf4a223524e40b77c304bec67e1222cf551f14880cf42c69dc046558e11c07b1"
STORED = Path(citygrowth.web.__file__).parent / "static" / "vendor" / "echarts"


def test_the_stored_file_is_the_published_one() -> None:
    assert not (STORED / "echarts.min.js").exists()
    data = gzip.decompress((STORED / "echarts.min.js.gz").read_bytes())
    assert hashlib.sha256(data).hexdigest() == PUBLISHED
    assert (STORED / "LICENSE").exists() and (STORED / "NOTICE").exists()


def test_served_compressed_to_a_browser_and_plain_otherwise(client: TestClient) -> None:
    packed = (STORED / "echarts.min.js.gz").read_bytes()
    r = client.get(URL, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip" and r.headers["vary"] == "Accept-Encoding"
    assert r.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert int(r.headers["content-length"]) == len(packed)
    assert hashlib.sha256(r.content).hexdigest() == PUBLISHED  # the client decompressed it
    plain = client.get(URL, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    assert hashlib.sha256(plain.content).hexdigest() == PUBLISHED
    assert client.head(URL, headers={"Accept-Encoding": "gzip"}).status_code == 200


def test_other_static_files_and_missing_ones_are_unchanged(client: TestClient) -> None:
    assert client.get("/static/vendor/echarts/echarts.min.js.gz").status_code == 200
    assert client.get("/static/screens/workbench.js").status_code == 200
    assert client.get("/static/vendor/echarts/nope.js").status_code == 404
    assert client.post(URL).status_code == 405
