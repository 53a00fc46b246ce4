"""Commands that report from the store: status and log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from newsmirror.cli.app import ConfigOption, app, console, load, open_store_readonly, say
from newsmirror.config import DEFAULT_CONFIG
from newsmirror.errors import EXIT_PARTIAL


@app.command()
def status(
    config: ConfigOption = Path(DEFAULT_CONFIG),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (a list, one object per feed) instead.")] = False,
    fail_on_stale: Annotated[
        float | None,
        typer.Option(
            "--fail-on-stale",
            metavar="HOURS",
            min=0,
            help="Exit 1, naming them, when some feed has not succeeded for HOURS: a monitoring check.",
        ),
    ] = None,
) -> None:
    """How every feed is doing: last success, failures in a row, last error, items a day over
    7 days, articles stored, and warnings about what extraction returns lately (empty, very
    short or link-heavy bodies, bodies that suddenly shrank)."""
    import json

    from newsmirror.models import utcnow
    from newsmirror.status import feed_health, stale_feeds, status_table

    cfg = load(config)
    now = utcnow()
    with open_store_readonly(cfg) as store:
        health = feed_health(cfg, store, now)
    if as_json:
        typer.echo(json.dumps([feed.as_json() for feed in health], ensure_ascii=False, indent=2))
    else:
        Console(highlight=False, soft_wrap=False).print(status_table(health, now))
    if fail_on_stale is not None:
        stale = stale_feeds(health, now, fail_on_stale)
        for line in stale:
            say("stale", line, "stale")
        if stale:
            raise typer.Exit(EXIT_PARTIAL)


@app.command("log")
def log_command(
    config: ConfigOption = Path(DEFAULT_CONFIG),
    last: Annotated[int, typer.Option("--last", "-n", min=1, help="How many runs, newest first.")] = 10,
) -> None:
    """Read the run log: each sync the store recorded, newest first, with its counts and errors."""
    from newsmirror.runlog import describe_run

    cfg = load(config)
    with open_store_readonly(cfg) as store:
        runs = store.runs(last)
    if not runs:
        console.print(f"{cfg.store_label}: no run recorded yet")
    for run in runs:
        for line in describe_run(run):
            typer.echo(line)
