"""`reconciler run`: the daemon that keeps n8n equal to git."""

from __future__ import annotations

import click

from reconciler.daemon.config import resolve


@click.command("run")
@click.option("--repo", help="Repository to watch: a URL (file://, https://, ssh) or a path.")
@click.option("--branch", help="Tracked branch (dev).  [default: main]")
@click.option("--state", help="SQLite state file or postgresql:// URL "
                                "(default $RECONCILER_STATE).")
@click.option("--interval", type=float, help="Seconds between git polls.  [default: 60]")
@click.option("--jitter", type=float, help="Up to this many seconds added to each poll.")
@click.option("--resync", type=float,
              help="Reconcile at least this often even if git did not move.  [default: 600]")
@click.option("--listen", help="HTTP address HOST:PORT.  [default: 127.0.0.1:8787]")
@click.option("--log-format", type=click.Choice(["text", "json"]))
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"],
                                               case_sensitive=False))
@click.option("--ssh-key", type=click.Path(dir_okay=False),
              help="Private key file for ssh:// repositories (KEY and KEY.pub); "
                   "default: the ssh agent.")
@click.option("--lease", type=float,
              help="PostgreSQL state: seconds a leader's lease lasts unrenewed; a killed "
                   "leader is replaced within twice this.  [default: 15]")
@click.option("--wait-lock", is_flag=True, default=None,
              help="Wait for another daemon on the same state instead of exiting 3.")
@click.option("--once", "--exit-after-first", "once", is_flag=True, default=None,
              help="Reconcile once and exit: 0 on success, 1 on failure.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="Settings file (TOML or YAML); default $RECONCILER_CONFIG.")
def run(config_file: str | None, **flags: object) -> int:
    """Watch the repository and reconcile n8n whenever the branch or release tags move.

    Settings: flags override RECONCILER_* variables, which override the config file.
    Secrets come from the environment only: RECONCILER_N8N_API_KEY, the git token
    (RECONCILER_GIT_TOKEN) and RECONCILER_WEBHOOK_SECRET.
    """
    from reconciler.daemon.main import serve  # the web stack loads only for this command

    return serve(resolve(flags, config_file=config_file))
