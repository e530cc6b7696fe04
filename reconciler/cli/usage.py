"""`reconciler usage`: credits used and left per account in a month, from the state."""

from __future__ import annotations

import click

from reconciler.apply.runtime import open_store
from reconciler.cli.api_support import STATE, echo_json
from reconciler.cli.output import output_option
from reconciler.report.table import table
from reconciler.store import ledger


@click.command("usage")
@click.argument("org", required=False)
@click.option("--period", help="The month, YYYY-MM (UTC); default the current one.")
@output_option("text", "json")
@STATE
def usage(org: str | None, period: str | None, fmt: str, state: str | None) -> int:
    """Credits per organization (or personal plan, `user:ID`) with each instance's share."""
    month = ledger.checked_period(period)
    account = None if org is None else (org if ":" in org else f"org:{org}")
    store = open_store(state, create=False)
    try:
        found = ledger.usage(store, month, account)
    finally:
        store.close()
    if fmt == "json":
        echo_json({"period": month, "accounts": [u.public() for u in found]})
        return 0
    if not found:
        click.echo(f"no usage in {month}" + (f" for {account}" if account else ""))
        return 0
    click.echo(table(["account", "plan", "credits", "used", "balance", "runs"], [
        (u.account, u.plan or "(not metered)", "-" if u.credits is None else u.credits,
         u.used, "-" if u.balance is None else u.balance, u.runs) for u in found]))
    rows = [(u.account, inst, v["credits"], v["runs"])
            for u in found for inst, v in sorted(u.instances.items())]
    if rows:
        click.echo("\n" + table(["account", "instance", "credits", "runs"], rows))
    return 0
