"""``citygrowth deploy …``: the nginx site and the systemd units for the settings in force."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from citygrowth.cli.context import CliContext, pass_ctx
from citygrowth.i18n import _
from citygrowth.ops.deploy import Layout, example_files, render_nginx, render_systemd


@click.group("deploy")
def deploy() -> None:
    """Deployment files: the nginx site and the systemd units.

    Example: citygrowth deploy nginx --server-name cg.shibei.gov.cn > citygrowth.conf
    """


def _write_or_print(text: str, out: Path | None) -> None:
    if out is None:
        click.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    click.echo(_("Wrote {path}").format(path=out), err=True)


@deploy.command("nginx")
@click.option("--server-name", default=Layout.server_name, show_default=True,
              help="Host name(s) the site answers to.")
@click.option("--upstream", "upstreams", multiple=True,
              help="Address of a web instance (repeatable; default: CITYGROWTH_HOST:PORT).")
@click.option("--tls-cert", default=Layout.tls_cert, show_default=True,
              help="Certificate chain (PEM) of the site.")
@click.option("--tls-key", default=Layout.tls_key, show_default=True,
              help="Private key (PEM) of the certificate.")
@click.option("--no-tls", is_flag=True,
              help="Plain HTTP on --listen (only behind another TLS terminator, or for tests).")
@click.option("--listen", default="80", show_default=True, help="Listen address with --no-tls.")
@click.option("--static-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of the static files (default: the installed package's).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
@pass_ctx
def nginx(cx: CliContext, server_name: str, upstreams: tuple[str, ...], tls_cert: str,
          tls_key: str, no_tls: bool, listen: str, static_dir: Path | None,
          out: Path | None) -> None:
    """Print the nginx site: upload size from CITYGROWTH_MAX_UPLOAD_MB, the sub-path from
    CITYGROWTH_ROOT_PATH, unbuffered server-sent events, forwarded headers, static files.

    Example: citygrowth deploy nginx --server-name cg.shibei.gov.cn --upstream 127.0.0.1:8000
    """
    layout = replace(Layout(), server_name=server_name, upstreams=upstreams, tls=not no_tls,
                     tls_cert=tls_cert, tls_key=tls_key, listen=listen)
    if static_dir is not None:
        layout = replace(layout, static_dir=static_dir.resolve())
    _write_or_print(render_nginx(cx.settings, layout), out)


@deploy.command("systemd")
@click.option("--prefix", type=click.Path(file_okay=False, path_type=Path),
              default=Layout.prefix, show_default=True,
              help="Installation folder (its virtualenv is PREFIX/venv).")
@click.option("--user", default=Layout.user, show_default=True, help="System user to run as.")
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path),
              default=Layout.env_file, show_default=True,
              help="File with the CITYGROWTH_* settings.")
@click.option("--workers", default=Layout.workers, show_default=True, type=click.IntRange(1, 64),
              help="uvicorn worker processes of the web unit.")
@click.option("--backup-dir", type=click.Path(file_okay=False, path_type=Path),
              default=Layout.backup_dir, show_default=True, help="Where the daily backup goes.")
@click.option("--keep", default=Layout.keep, show_default=True, type=click.IntRange(1, 3650),
              help="Backups to keep.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write the unit files into this folder instead of printing them.")
@pass_ctx
def systemd(cx: CliContext, prefix: Path, user: str, env_file: Path, workers: int,
            backup_dir: Path, keep: int, out: Path | None) -> None:
    """Print the systemd units: web workers, the scheduler, the daily backup and its timer.

    Example: citygrowth deploy systemd --workers 4 --out /etc/systemd/system
    """
    layout = replace(Layout(), prefix=prefix, user=user, env_file=env_file, workers=workers,
                     backup_dir=backup_dir, keep=keep)
    units = render_systemd(cx.settings, layout)
    if out is None:
        for name, text in units.items():
            click.echo(f"# ---- {name} ----")
            click.echo(text)
        return
    out.mkdir(parents=True, exist_ok=True)
    for name, text in units.items():
        _write_or_print(text, out / name)


@deploy.command("examples")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def examples(folder: Path) -> None:
    """Write the example files of the repository's deploy/ folder (made with example values,
    not the settings in force).

    Example: citygrowth deploy examples deploy
    """
    for rel, text in example_files().items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    click.echo(_("Wrote {n} files under {path}").format(n=len(example_files()), path=folder))
