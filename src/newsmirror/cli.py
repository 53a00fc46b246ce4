"""The command line. Each command is a thin layer over the module that does the work."""

from __future__ import annotations

import asyncio
from importlib import resources
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from newsmirror.config import DEFAULT_CONFIG, Config, ConfigError, load_config
from newsmirror.publish import PublishResult

# Exit codes, documented in the README.
EXIT_OK = 0
EXIT_PARTIAL = 1  # the run finished, but some feeds, articles or remotes failed
EXIT_USAGE = 2  # bad config, bad arguments, missing files
EXIT_BUSY = 3  # another run holds the lock

app = typer.Typer(
    help="Keep a readable, shareable mirror of news sites: sync feeds into a store, "
    "build Markdown and HTML pages from it, publish them to git remotes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True, highlight=False, soft_wrap=True)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="The config file.", envvar="NEWSMIRROR_CONFIG", show_default=True)
]


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    console.print(f"[red]error:[/red] {message}", markup=True, soft_wrap=True)
    raise typer.Exit(code)


def load(path: Path) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        fail(str(exc))


@app.command()
def init(
    config: ConfigOption = Path(DEFAULT_CONFIG),
    force: Annotated[bool, typer.Option(help="Overwrite an existing config.")] = False,
) -> None:
    """Write a commented starter config to edit."""
    if config.exists() and not force:
        fail(f"{config} already exists; edit it, or pass --force to overwrite it")
    config.write_text(resources.files("newsmirror").joinpath("starter.toml").read_text("utf-8"), "utf-8")
    console.print(f"wrote {config}: edit the sites and channels, then run 'newsmirror check'")


@app.command()
def check(config: ConfigOption = Path(DEFAULT_CONFIG)) -> None:
    """Validate a config without fetching anything."""
    cfg = load(config)
    channels = sum(len(site.channels) for site in cfg.sites)
    if not cfg.sites:
        fail(f"{config}: no [[site]] defined; add one (see 'newsmirror init')")
    console.print(
        f"{config}: ok — {len(cfg.sites)} sites, {channels} channels, {len(cfg.remotes)} remotes; "
        f"output {cfg.output_dir}, store {cfg.store_path}"
    )


@app.command()
def sync(
    config: ConfigOption = Path(DEFAULT_CONFIG),
    site: Annotated[list[str], typer.Option("--site", "-s", help="Only this site (repeatable).")] = [],  # noqa: B006
    channel: Annotated[list[str], typer.Option("--channel", help="Only this channel (repeatable).")] = [],  # noqa: B006
) -> None:
    """Fetch every channel's feed and its new or updated articles into the store.

    Exits 0 when everything succeeded, 1 when some feeds or articles failed
    (they are retried by the next sync), 2 on a config error.
    """
    from newsmirror.progress import SyncDisplay
    from newsmirror.store import Store, StoreError
    from newsmirror.sync import select_channels
    from newsmirror.sync import sync as run_sync

    cfg = load(config)
    try:
        chosen = select_channels(cfg, site, channel)
    except ValueError as exc:
        fail(f"{exc}; see 'newsmirror check -c {config}'")
    try:
        store = Store(cfg.store_path)
    except StoreError as exc:
        fail(str(exc))
    with store, SyncDisplay(console, len(chosen)) as display:
        summary = asyncio.run(run_sync(cfg, store, sites=site, channels=channel, progress=display))
    console.print(
        f"feeds: {summary.feeds_ok} ok, {summary.feeds_unchanged} not modified, {summary.feeds_failed} failed; "
        f"articles: {summary.new} new, {summary.updated} updated, {summary.skipped} skipped, "
        f"{summary.failed} failed"
    )
    if not summary.ok:
        raise typer.Exit(EXIT_PARTIAL)


@app.command()
def build(config: ConfigOption = Path(DEFAULT_CONFIG)) -> None:
    """Render the store into the output tree: article pages, QR codes, indexes, most read, home.

    Only files whose content changes are written; pages that left the kept set
    are removed. Exits 0 on success, 1 when some article could not be rendered,
    2 on a config or store error, 3 when a run is still going.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from newsmirror.build import BuildError
    from newsmirror.build import build as build_tree
    from newsmirror.lock import LockBusy, run_lock
    from newsmirror.store import Store, StoreError

    cfg = load(config)
    if not cfg.store_path.exists():
        fail(f"{cfg.store_path}: no store yet; run 'newsmirror sync' first")
    bar = Progress(
        TextColumn("{task.description:<9}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    tasks: dict[str, int] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    try:
        with run_lock(cfg.store_path), Store(cfg.store_path) as store, bar:
            result = build_tree(cfg, store, progress=progress)
    except LockBusy as exc:
        fail(str(exc), EXIT_BUSY)
    except (BuildError, StoreError) as exc:
        fail(str(exc))
    for error in result.errors:
        console.print(f"[red]error:[/red] {error}", markup=True, soft_wrap=True)
    console.print(f"built {cfg.output_dir}: {result.summary()}", markup=False)
    if not result.ok:
        raise typer.Exit(EXIT_PARTIAL)


def report_publish(result: PublishResult) -> None:
    """Print what a publish did: the commit, then one line per remote."""
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}", markup=True, soft_wrap=True)
    console.print(result.describe(), markup=False)
    if not result.remotes:
        console.print("no [[remote]] in the config: committed locally only", markup=False)
    for remote in result.remotes:
        line = remote.describe()
        console.print(f"[red]error:[/red] {line}" if not remote.ok else line, markup=not remote.ok, soft_wrap=True)


@app.command()
def publish(config: ConfigOption = Path(DEFAULT_CONFIG)) -> None:
    """Commit the output tree (if it changed) and push it to every remote in the config.

    Exits 0 when every remote has the commit, 1 when some remote failed (the
    next publish pushes what it missed), 2 when nothing could be published,
    3 when a run is still going.
    """
    from newsmirror.lock import LockBusy, run_lock
    from newsmirror.publish import PublishError
    from newsmirror.publish import publish as publish_tree

    cfg = load(config)
    try:
        with run_lock(cfg.store_path):
            result = publish_tree(cfg)
    except LockBusy as exc:
        fail(str(exc), EXIT_BUSY)
    except PublishError as exc:
        fail(str(exc))
    report_publish(result)
    if not result.ok:
        raise typer.Exit(EXIT_PARTIAL)


_COUNTER_HELP = (
    "Serve the view counter: the 1×1 image of every page, counting views of stored articles.\n\n"
    "With mirror.counter_url set, every built page carries the image <counter_url>/v/<site>/<channel>/<id>.gif. "
    "Each GET of it adds a view of that article (unknown ids get the same image and count nothing). Counts are "
    "saved to the store every second; SIGTERM or Ctrl-C saves what is pending; a crash loses at most the last "
    "second. The next `build` ranks the most-read list from them.\n\n"
    "Privacy: no IP address, user agent or cookie is ever stored or logged. Repeat views within --window-minutes "
    "are recognised in memory by a hash whose random key changes every UTC day and is never written down.\n\n"
    "Deployment: keep the counter on 127.0.0.1 behind a reverse proxy that serves HTTPS, run it with --trust-proxy "
    "(so readers are told apart by their own address, not the proxy's), and turn the proxy's access log off for "
    "it. nginx:\n\n"
    "  location /v/ {\n"
    "      proxy_pass http://127.0.0.1:8787;\n"
    "      proxy_set_header X-Forwarded-For $remote_addr;\n"
    "      access_log off;\n"
    "  }\n\n"
    "Caddy (it sets X-Forwarded-For itself; give the site no `log` directive):\n\n"
    "  counter.example.org {\n"
    "      reverse_proxy /v/* 127.0.0.1:8787\n"
    "  }\n\n"
    "A proxy on another host: set FORWARDED_ALLOW_IPS to its address. Run the counter as a service "
    "(e.g. systemd, Restart=always) on the machine that holds the store; stop it with SIGTERM."
)


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

    if fmt not in ex.FORMATS:
        fail(f"--format {fmt!r}: use one of {', '.join(ex.FORMATS)}")
    rules = None
    if site:
        cfg = load(config)
        try:
            rules = ex.SiteRules.from_site(cfg.site(site))
        except KeyError:
            fail(f"{config}: no site {site!r}; sites: {', '.join(s.id for s in cfg.sites) or 'none'}")
    if page.is_dir():
        if out is None:
            fail(f"{page} is a folder: pass --out OUTDIR for the results")
        pages = sorted(p for p in page.iterdir() if ex.is_page_file(p))
        if not pages:
            fail(f"{page}: no .html or .html.gz files in it")
    elif page.is_file():
        pages = [page]
    else:
        fail(f"{page}: no such file or folder")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for path in pages:
        try:
            result = ex.render(ex.extract_article(ex.read_page(path), url, rules), fmt)
        except (ex.ExtractionError, OSError) as exc:
            failed += 1
            console.print(f"[red]error:[/red] {path}: {exc}", markup=True)
            continue
        if out is None:
            typer.echo(result, nl=False)
            continue
        target = out / f"{ex.page_stem(path)}.{ex.FORMATS[fmt]}"
        temp = target.with_name(f".{target.name}.tmp")
        temp.write_text(result, encoding="utf-8")
        temp.replace(target)
    if out is not None:
        console.print(f"extracted {len(pages) - failed} of {len(pages)} pages into {out}")
    if failed:
        raise typer.Exit(EXIT_PARTIAL)


@app.command(help=_COUNTER_HELP)
def counter(
    config: ConfigOption = Path(DEFAULT_CONFIG),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8787,
    window_minutes: Annotated[
        float, typer.Option(min=0, help="Repeat views from one client within this many minutes count once; 0: all.")
    ] = 30,
    trust_proxy: Annotated[
        bool,
        typer.Option(
            "--trust-proxy",
            help="Take the client address from X-Forwarded-For, from the addresses in FORWARDED_ALLOW_IPS only "
            "(default 127.0.0.1,::1: a proxy on this host).",
        ),
    ] = False,
) -> None:
    cfg = load(config)
    if not cfg.store_path.exists():
        fail(f"{cfg.store_path}: no store yet; run 'newsmirror sync' first")
    from newsmirror.counter import CounterError, serve

    try:
        serve(cfg.store_path, host=host, port=port, window_minutes=window_minutes, trust_proxy=trust_proxy)
    except CounterError as exc:
        fail(str(exc))


@app.command("demo-site")
def demo_site(
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free port).")] = 8700,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    write_config: Annotated[
        Path | None, typer.Option("--write-config", help="Also write a newsmirror config that mirrors the demo sites.")
    ] = None,
    slow_delay: Annotated[float, typer.Option(min=0, help="Seconds the slow article takes to answer.")] = 2.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not log each request.")] = False,
) -> None:
    """Serve the bundled sample news sites (feeds and article pages) until Ctrl-C."""
    import os
    import threading

    from newsmirror.demosite import DemoSite

    try:
        log = None if quiet else (lambda line: console.print(line, markup=False))
        site = DemoSite(host=host, port=port, slow_delay=slow_delay, log=log)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}; pass another --port (0 picks a free one)")
    with site:
        if write_config is not None:
            temp = write_config.with_name(write_config.name + ".tmp")
            temp.write_text(site.config_toml(), "utf-8")
            os.replace(temp, write_config)
            console.print(f"wrote {write_config}: run 'newsmirror sync --config {write_config}' while this runs")
        typer.echo(site.base_url)
        console.print("serving the demo sites; press Ctrl-C to stop")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            console.print("stopped")


if __name__ == "__main__":
    app()
