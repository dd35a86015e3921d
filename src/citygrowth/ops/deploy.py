"""Deployment files rendered from the settings in force: the nginx site and systemd units.

``citygrowth deploy nginx`` and ``citygrowth deploy systemd`` print (or write) them; the
examples under ``deploy/`` in the repository are these renderings with the example values of
:data:`EXAMPLE` (``tests/test_deploy.py`` keeps them in step).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from citygrowth.settings import Settings

TEMPLATES = Path(__file__).parent / "deploy_templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "web" / "static"
UNITS = ("citygrowth-web.service", "citygrowth-scheduler.service", "citygrowth-backup.service",
         "citygrowth-backup.timer")
#: room for the multipart form around an upload of ``max_upload_mb``
FORM_OVERHEAD_MB = 1
#: the most photos one page form sends (a resident's report, a step on the case page)
PHOTOS_PER_FORM = 4

HARDENING = """\
NoNewPrivileges=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectSystem=strict
ProtectHome=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictSUIDSGID=yes
LockPersonality=yes
UMask=0027
ReadWritePaths={data_dir}
"""


@dataclass(frozen=True)
class Layout:
    """Where an installation lives on the server (the defaults of docs/operating.md)."""

    prefix: Path = Path("/opt/citygrowth")  # the virtualenv: prefix/venv
    env_file: Path = Path("/etc/citygrowth/citygrowth.env")
    user: str = "citygrowth"
    backup_dir: Path = Path("/var/backups/citygrowth")
    backup_time: str = "02:30"
    keep: int = 14
    workers: int = 4
    upstreams: tuple[str, ...] = ()
    server_name: str = "citygrowth.example.gov.cn"
    tls: bool = True
    tls_cert: str = "/etc/ssl/citygrowth/fullchain.pem"
    tls_key: str = "/etc/ssl/citygrowth/privkey.pem"
    listen: str = "80"
    static_dir: Path = field(default=STATIC_DIR)

    @property
    def bin(self) -> Path:
        return self.prefix / "venv" / "bin" / "citygrowth"


#: the values the examples under ``deploy/`` are rendered with
EXAMPLE_STATIC = Path("/opt/citygrowth/venv/lib/python3.11/site-packages/citygrowth/web/static")
EXAMPLE = Layout(static_dir=EXAMPLE_STATIC)
EXAMPLE_DATA_DIR = Path("/srv/citygrowth")


def _env() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                       keep_trailing_newline=True, autoescape=False)


def upload_body_mb(settings: Settings) -> int:
    """nginx's ``client_max_body_size``: the larger of a data file upload and a form with
    its photos (``max_upload_mb``, ``PHOTOS_PER_FORM`` × ``photo_max_mb``), plus the form."""
    return max(settings.max_upload_mb, PHOTOS_PER_FORM * settings.photo_max_mb) \
        + FORM_OVERHEAD_MB


def render_nginx(settings: Settings, layout: Layout = Layout(), note: str = "") -> str:
    """The nginx site serving the application at ``settings.root_path`` (``/`` when empty)."""
    upstreams = layout.upstreams or (f"{settings.host}:{settings.port}",)
    return _env().get_template("nginx.conf.j2").render(
        prefix=settings.root_path.rstrip("/"), upstreams=upstreams, tls=layout.tls,
        tls_cert=layout.tls_cert, tls_key=layout.tls_key, server_name=layout.server_name,
        listen=layout.listen, max_upload_mb=settings.max_upload_mb,
        body_mb=upload_body_mb(settings), photos_per_form=PHOTOS_PER_FORM,
        static_dir=str(layout.static_dir).rstrip("/"),
        note=note)


def render_systemd(settings: Settings, layout: Layout = Layout()) -> dict[str, str]:
    """The systemd units by file name: web workers, the scheduler, the backup and its timer."""
    data_dir = settings.data_dir.resolve() if not settings.data_dir.is_absolute() \
        else settings.data_dir
    values = {
        "workers": layout.workers, "bind": f"{settings.host}:{settings.port}",
        "host": settings.host, "port": settings.port, "user": layout.user,
        "env_file": layout.env_file, "data_dir": data_dir, "bin": layout.bin,
        "docs": layout.prefix / "docs" / "operating.md",
        "backup_dir": layout.backup_dir, "keep": layout.keep, "backup_time": layout.backup_time,
        "hardening": HARDENING.format(data_dir=data_dir),
    }
    env = _env()
    return {name: env.get_template(f"{name}.j2").render(**values) for name in UNITS}


def example_files() -> dict[str, str]:
    """The files under ``deploy/``: path relative to it → content."""
    # model_construct: the defaults and these values only, never the environment's
    root = Settings.model_construct(data_dir=EXAMPLE_DATA_DIR, max_upload_mb=200)
    sub = Settings.model_construct(data_dir=EXAMPLE_DATA_DIR, max_upload_mb=200,
                                   root_path="/citygrowth")
    files = {f"systemd/{name}": text for name, text in render_systemd(root, EXAMPLE).items()}
    files["nginx/citygrowth.conf"] = render_nginx(root, EXAMPLE)
    files["nginx/citygrowth-subpath.conf"] = render_nginx(
        sub, EXAMPLE, note=" (here with CITYGROWTH_ROOT_PATH=/citygrowth)")
    return files
