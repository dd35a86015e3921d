"""Every command and subcommand of ``citygrowth`` — including those domains and plugins add —
has help text with an ``Example:`` line, and ``--help`` works for each."""

from __future__ import annotations

from collections.abc import Iterator

import click
from click.testing import CliRunner

from citygrowth.cli import main
from citygrowth.cli.localize import english_help


def walk(group: click.Command, path: tuple[str, ...] = ()) -> Iterator[
        tuple[tuple[str, ...], click.Command]]:
    """Every command, loading the plugins' ones as the command line does (lazily)."""
    yield path, group
    if isinstance(group, click.Group):
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            cmd = group.get_command(ctx, name)
            assert cmd is not None, name
            yield from walk(cmd, (*path, name))


def test_every_command_has_help_with_an_example() -> None:
    missing = [" ".join(("citygrowth", *p)) for p, cmd in walk(main)
               if "Example:" not in (english_help(cmd)[0] or "")]
    assert not missing, "commands without 'Example:' in their help:\n" + "\n".join(missing)


def test_help_runs_for_every_command() -> None:
    runner = CliRunner()
    failed = []
    for path, _cmd in walk(main):
        result = runner.invoke(main, ["--lang", "en", *path, "--help"])
        if result.exit_code != 0 or "Example:" not in result.output:
            failed.append(f"{' '.join(path)}: exit {result.exit_code}")
    assert not failed, "\n".join(failed)


def test_walk_sees_nested_commands() -> None:
    names = {" ".join(p) for p, _ in walk(main)}
    assert {"user key create", "audit verify", "users demo-logins"} <= names
