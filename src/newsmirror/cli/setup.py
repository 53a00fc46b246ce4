"""Commands that write and check a config: init (and its timers), check, add, and extract for site rules."""

from __future__ import annotations

import asyncio
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from newsmirror.cli.app import ConfigOption, app, console, fail, load, log, say
from newsmirror.config import DEFAULT_CONFIG
from newsmirror.errors import EXIT_PARTIAL
from newsmirror.words import counted

if TYPE_CHECKING:
    from newsmirror.discover import Discovery


@app.command()
def init(
    config: ConfigOption = Path(DEFAULT_CONFIG),
    force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False,
    timer: Annotated[
        str | None,
        typer.Option(
            metavar="systemd|cron|github-actions",
            help="Instead of a config: write the files that run this config on a timer, and say how to install them.",
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Where --timer writes its files.")] = Path("."),
) -> None:
    """Write a commented starter config to edit; with --timer, the files that run it unattended.

    --timer systemd: newsmirror.service + newsmirror.timer (every 15 minutes, under the run
    lock, sandboxed), and a Restart=always service for the view counter when counter_url is
    set. --timer cron: a crontab line. --timer github-actions: .github/workflows/newsmirror.yml,
    which runs in GitHub on a schedule and keeps the store in the Actions cache. Nothing is
    written into system folders: install the files with the steps printed.
    """
    if timer is not None:
        write_timer(config, timer, out, force)
        return
    if config.exists() and not force:
        fail(f"{config} already exists; edit it, or pass --force to overwrite it")
    config.write_text(resources.files("newsmirror").joinpath("starter.toml").read_text("utf-8"), "utf-8")
    console.print(f"wrote {config}: edit the sites and channels, then run 'newsmirror check'")


def write_timer(config: Path, kind: str, out: Path, force: bool) -> None:
    import shutil
    import sys

    from typer.main import get_command

    from newsmirror import timers

    if kind not in timers.KINDS:
        fail(f"--timer {kind!r}: use one of {', '.join(timers.KINDS)}")
    cfg = load(config)
    executable = Path(sys.executable).with_name("newsmirror")
    if not executable.exists():
        found = shutil.which("newsmirror")
        if not found:
            fail("cannot find the newsmirror command to put in the timer; install newsmirror (scripts/setup.sh)")
        executable = Path(found)
    commands = set(get_command(app).commands)  # type: ignore[attr-defined]
    try:
        plan = timers.plan(kind, cfg, config, executable.absolute(), commands, out)  # type: ignore[arg-type]
        written = timers.write(plan, out, force=force)
    except timers.TimerError as exc:
        fail(str(exc))
    for path in written:
        typer.echo(f"wrote {path}")
    typer.echo("to install:")
    for step in plan.install:
        typer.echo(f"  {step}")


@app.command()
def check(config: ConfigOption = Path(DEFAULT_CONFIG)) -> None:
    """Validate a config without fetching anything.

    Every mistake is one line naming the key. Addresses still at the starter's
    examples are warnings: the config is usable, but not finished.
    """
    cfg = load(config)
    channels = sum(len(site.channels) for site in cfg.sites)
    if not cfg.sites:
        fail(f"{config}: no [[site]] defined; add one (see 'newsmirror init')")
    for warning in cfg.warnings:
        say("warning", warning, "config")
    log.info(
        "check",
        f"{config}: ok — {counted(len(cfg.sites), 'site')}, {counted(channels, 'channel')}, "
        f"{counted(len(cfg.remotes), 'remote', zero='no')}; output {cfg.output_dir}, store {cfg.store_label}",
    )


@app.command()
def add(
    url: Annotated[str, typer.Argument(help="A page of the site (its home page, or a section), or a feed.")],
    config: ConfigOption = Path(DEFAULT_CONFIG),
    site: Annotated[
        str | None, typer.Option("--site", "-s", help="Add the channels to this site (default: a new [[site]]).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what was found; change nothing.")] = False,
) -> None:
    """Find a site's feeds and add them to the config as channels, keeping its comments and layout.

    Looks at the page's <link rel="alternate"> feeds, then at the paths where feeds commonly
    live, through the configured HTTP client and proxy. A site with no feed gets a listing
    channel: the page and a guessed CSS selector of its article links, to check with
    'newsmirror sync --channel ID' and 'newsmirror extract'.
    """
    from newsmirror.config_edit import add_channels, write_config
    from newsmirror.discover import DiscoveryError, discover
    from newsmirror.http import HttpClient

    cfg = load(config)
    if site is not None and all(s.id != site for s in cfg.sites):
        fail(f"{config}: no site {site!r}; sites: {', '.join(s.id for s in cfg.sites) or 'none'}")

    async def look() -> Discovery:
        async with HttpClient(cfg.http) as http:
            return await discover(url, http)

    try:
        found = asyncio.run(look())
    except DiscoveryError as exc:
        fail(str(exc))
    change = add_channels(config.read_text("utf-8"), found, site, str(config))
    for line in found.describe():
        typer.echo(line)
    for source in change.already:
        typer.echo(f"already in {config}: {source}")
    if not change.channels:
        if not found.feeds and not found.listing:
            fail(f"{url}: no feed found, and no list of article links to propose as a listing page", EXIT_PARTIAL)
        return
    where = f"new [[site]] {change.site!r}" if change.new_site else f"site {change.site!r}"
    for channel in change.channels:
        kind = f"listing {channel.source} (links = {channel.links!r})" if channel.links else f"feed {channel.source}"
        typer.echo(f"{'would add' if dry_run else 'added'} to {where}: channel {channel.id!r} ({channel.name}), {kind}")
    if dry_run:
        typer.echo(f"(--dry-run: {config} is unchanged)")
        return
    write_config(config, change.text)
    listing = next((c for c in change.channels if c.links), None)
    if listing:
        typer.echo(
            f"check the guess: 'newsmirror sync --config {config} --site {change.site} --channel {listing.id}', "
            "then a saved article page with 'newsmirror extract PAGE.html'"
        )
    else:
        typer.echo(f"next: 'newsmirror check --config {config}', then 'newsmirror sync --site {change.site}'")


@app.command()
def extract(
    page: Annotated[Path, typer.Argument(help="A saved page (.html or .html.gz), or a folder of them.")],
    url: Annotated[
        str, typer.Option(help="The page's address, for its relative links (default: its canonical link).")
    ] = "",
    site: Annotated[str | None, typer.Option(help="Use this site's extraction rules from the config.")] = None,
    config: ConfigOption = Path(DEFAULT_CONFIG),
    fmt: Annotated[str, typer.Option("--format", "-f", help="markdown, html, text or json.")] = "markdown",
    out: Annotated[
        Path | None, typer.Option(help="Write each result to OUT/<page name>.<ext> (needed for a folder).")
    ] = None,
) -> None:
    """Extract the article from saved pages: for writing and debugging site rules."""
    from newsmirror import extract as ex

    rules = None
    if site:
        cfg = load(config)
        try:
            rules = ex.SiteRules.from_site(cfg.site(site))
        except KeyError:
            fail(f"{config}: no site {site!r}; sites: {', '.join(s.id for s in cfg.sites) or 'none'}")
    done, read = ex.extract_saved(
        page, url, rules, fmt, out, show=lambda text: typer.echo(text, nl=False), warn=lambda line: say("error", line)
    )
    if out is not None:
        console.print(f"extracted {done} of {counted(read, 'page')} into {out}")
    if done < read:
        raise typer.Exit(EXIT_PARTIAL)
