"""The command line: one module per command, one error boundary (pre-commit's shape).

Each command module exposes a click command whose body calls a function returning an
exit code. `entry` maps every project error to a message and an exit code (the table
is `reconciler.errors.ExitCode`, documented in docs/cli.md); anything unexpected is a
bug and exits 4 with its type only (never its text, which could hold data we do not
control), unless `--debug` asks for the traceback.
"""

from __future__ import annotations

import sys
import traceback

import click

from reconciler.cli.commands import COMMANDS, LazyGroup, load_command
from reconciler.cli.output import OUTPUT
from reconciler.errors import ExitCode, InvalidInput, PlanError, ReconcilerError

GLOBAL_FLAGS = ("--debug", "--no-color")


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="n8n-reconciler")
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error.")
@click.option("--no-color", is_flag=True,
              help="No colors (as NO_COLOR=1 does).")
def cli(debug: bool, no_color: bool) -> None:
    """Reconcile a git repository of n8n use cases into live installations.

    Exit codes (every command): 0 ok, 1 invalid input or failed, 2 changes
    (plan --detailed-exitcode), 3 environment not set up, 4 internal error,
    64 usage error, 130 interrupted. See docs/cli.md.
    """
    OUTPUT.debug = OUTPUT.debug or debug
    OUTPUT.no_color = OUTPUT.no_color or no_color


def _register() -> None:
    """Every command imported and registered (tests and docs read `cli.commands`);
    the CLI itself imports only the command it runs (LazyGroup)."""
    for name in COMMANDS:
        if name not in cli.commands:
            cli.add_command(load_command(name), name)


def _global_flags(argv: list[str]) -> list[str]:
    """--debug and --no-color are honoured anywhere on the line, not only first."""
    OUTPUT.reset()
    OUTPUT.debug = "--debug" in argv
    OUTPUT.no_color = "--no-color" in argv
    rest = [a for a in argv if a not in GLOBAL_FLAGS]
    return [*(f for f in GLOBAL_FLAGS if f in argv), *rest]


def entry(argv: list[str] | None = None) -> int:
    """Console-script entry point: the single error boundary."""
    args = _global_flags(list(sys.argv[1:] if argv is None else argv))
    try:
        result = cli.main(args=args, prog_name="reconciler", standalone_mode=False)
    except click.exceptions.Abort as stop:
        if isinstance(stop.__context__, KeyboardInterrupt):  # click's wrapping of Ctrl-C
            return ExitCode.INTERRUPTED
        click.echo("aborted", err=True)
        return ExitCode.FAILED
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except click.ClickException as exc:
        exc.show()
        return ExitCode.USAGE if isinstance(exc, click.UsageError) else ExitCode.FAILED
    except (InvalidInput, PlanError) as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        return int(exc.exit_code)
    except ReconcilerError as exc:
        click.echo(f"error: {exc}", err=True)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except Exception as exc:  # a bug: say so briefly; the details only on request
        return _internal(exc)
    return int(result or 0)


def _internal(exc: Exception) -> int:
    if OUTPUT.debug:
        traceback.print_exception(exc, file=sys.stderr)
    click.echo(f"internal error: {type(exc).__name__} (a bug in n8n-reconciler; "
               "run again with --debug for the traceback)", err=True)
    return ExitCode.INTERNAL


def main() -> None:
    sys.exit(entry())
