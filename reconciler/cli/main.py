"""The command line: one module per command, one error boundary (pre-commit's shape).

Each command module exposes a click command whose body calls a function returning an
exit code. `entry` maps every project error to a message and an exit code; anything
unexpected is a bug and exits 3 with its type only (never its text, which could hold
data we do not control).
"""

from __future__ import annotations

import sys

import click

from reconciler.errors import InvalidInput, PlanError, ReconcilerError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="n8n-reconciler")
def cli() -> None:
    """Reconcile a git repository of n8n use cases into live installations."""


def _register() -> None:
    # Imported here so that `reconciler --help` lists every command; each module
    # holds one command (or one group of closely related sub-commands).
    from reconciler.cli import commands

    for command in commands.all_commands():
        cli.add_command(command)


def entry(argv: list[str] | None = None) -> int:
    """Console-script entry point: the single error boundary."""
    _register()
    try:
        result = cli.main(args=argv, prog_name="reconciler", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 1
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except click.ClickException as exc:
        exc.show()
        return 2 if isinstance(exc, click.UsageError) else exc.exit_code
    except (InvalidInput, PlanError) as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        return exc.exit_code
    except ReconcilerError as exc:
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    return int(result or 0)


def main() -> None:
    sys.exit(entry())
