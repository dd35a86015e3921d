"""The deployment files: rendered from the settings, accepted by nginx, and the examples under
``deploy/`` are what ``citygrowth deploy examples deploy`` writes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from citygrowth.cli import main
from citygrowth.governance.pages import ACTION_PHOTOS
from citygrowth.governance.resident import RESIDENT_PHOTOS
from citygrowth.ops.deploy import (
    PHOTOS_PER_FORM,
    Layout,
    example_files,
    render_nginx,
    render_systemd,
)
from citygrowth.settings import Settings
from tests.conftest import needs

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
NGINX = Path("/usr/sbin/nginx")


def test_the_examples_are_up_to_date() -> None:
    expected = example_files()
    found = {str(p.relative_to(DEPLOY)): p.read_text(encoding="utf-8")
             for p in DEPLOY.rglob("*") if p.is_file() and p.name != "README.md"}
    assert found == expected, "run `citygrowth deploy examples deploy` and commit the result"


def test_upload_limit_and_prefix_follow_the_settings(tmp_path: Path) -> None:
    s = Settings.model_construct(data_dir=tmp_path, max_upload_mb=50, root_path="/cg")
    site = render_nginx(s, Layout(upstreams=("10.0.0.5:8000", "10.0.0.6:8000")))
    assert "client_max_body_size 51m;" in site
    assert "server 10.0.0.5:8000;" in site and "server 10.0.0.6:8000;" in site
    assert "location /cg/ {\n        proxy_pass http://citygrowth_web/;" in site
    assert "location /cg/api/events {" in site and "proxy_buffering off;" in site
    assert "location = /cg {\n        return 301 /cg/;" in site
    root = render_nginx(Settings.model_construct(data_dir=tmp_path), Layout())
    assert "location / {" in root and "location /api/events {" in root
    assert "client_max_body_size 201m;" in root
    # a form with four photos of photo_max_mb may be larger than a data file upload
    photos = Settings.model_construct(data_dir=tmp_path, max_upload_mb=20, photo_max_mb=25)
    assert "client_max_body_size 101m;" in render_nginx(photos, Layout())
    assert PHOTOS_PER_FORM == RESIDENT_PHOTOS == ACTION_PHOTOS


def test_systemd_units(tmp_path: Path) -> None:
    s = Settings.model_construct(data_dir=tmp_path / "data", port=8100)
    units = render_systemd(s, Layout(workers=3, prefix=Path("/srv/cg")))
    web = units["citygrowth-web.service"]
    assert "ExecStart=/srv/cg/venv/bin/citygrowth serve --host 127.0.0.1 --port 8100 " \
           "--workers 3" in web
    assert "Environment=CITYGROWTH_SCHEDULER_ENABLED=false" in web
    assert f"ReadWritePaths={tmp_path / 'data'}" in web
    assert "ExecStart=/srv/cg/venv/bin/citygrowth scheduler" in units[
        "citygrowth-scheduler.service"]
    assert "Persistent=true" in units["citygrowth-backup.timer"]


def _nginx_accepts(site: str, tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    (tmp_path / "logs").mkdir(exist_ok=True)
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    conf.write_text(f"pid {tmp_path}/pid; error_log {tmp_path}/logs/error.log;\n"
                    f"events {{}}\nhttp {{ include /etc/nginx/mime.types; "
                    f"include {tmp_path}/site.conf; }}\n", encoding="utf-8")
    r = subprocess.run([str(NGINX), "-t", "-q", "-p", str(tmp_path), "-c", str(conf)],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("prefix", ["", "/citygrowth"])
def test_nginx_accepts_the_site(tmp_path: Path, prefix: str) -> None:
    needs("nginx", NGINX.exists(), str(NGINX))
    needs("openssl", shutil.which("openssl") is not None)
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                    "/CN=test", "-keyout", str(key), "-out", str(cert), "-days", "1"],
                   check=True, capture_output=True)
    s = Settings.model_construct(data_dir=tmp_path, root_path=prefix)
    site = render_nginx(s, Layout(tls_cert=str(cert), tls_key=str(key)))
    # unprivileged ports for the test
    site = site.replace("443 ssl", "18443 ssl").replace("listen 80;", "listen 18080;")
    site = site.replace("listen [::]:18443 ssl http2;", "").replace("listen [::]:80;", "")
    _nginx_accepts(site, tmp_path)


def test_cli_renders_with_the_settings_in_force(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYGROWTH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CITYGROWTH_MAX_UPLOAD_MB", "20")
    monkeypatch.setenv("CITYGROWTH_ROOT_PATH", "/cg")
    out = tmp_path / "site.conf"
    r = CliRunner().invoke(main, ["--lang", "en", "deploy", "nginx", "--no-tls", "--listen",
                                  "127.0.0.1:18080", "--out", str(out)])
    assert r.exit_code == 0, r.output
    site = out.read_text(encoding="utf-8")
    assert "client_max_body_size 41m;" in site and "listen 127.0.0.1:18080;" in site
    assert "ssl_certificate" not in site and "location /cg/static/ {" in site
    r = CliRunner().invoke(main, ["deploy", "systemd", "--out", str(tmp_path / "units")])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "units").iterdir()) == sorted(
        render_systemd(Settings.model_construct(data_dir=tmp_path)))
