"""The command line. Each command is a thin layer over the module that does the work."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

from newsmirror.config import DEFAULT_CONFIG, Config, load_config
from newsmirror.errors import EXIT_BUG, EXIT_PARTIAL, EXIT_USAGE, NewsmirrorError, UsageError
from newsmirror.progress import LOG_FORMATS, Log
from newsmirror.words import counted

if TYPE_CHECKING:
    from newsmirror.discover import Discovery
    from newsmirror.models import RunSummary
    from newsmirror.store import Store

# markup=False: every message may quote outside text (paths, URLs, titles, selectors, git's words).
console = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


# Every line for the operator: plain, or JSON lines with --log-format json (set in main()).
log = Log(console)


def say(level: str, message: str, event: str = "") -> None:
    """Print one ``error:``/``warning:``/``stale:`` line (or, with --log-format json, one
    JSON object). The message is plain text, never Rich markup: it quotes URLs, titles,
    selectors and git's words, which may hold brackets."""
    log(level, event or level, message)  # type: ignore[arg-type]


def one_line(text: str) -> str:
    return " ".join(text.split())


class _Commands(TyperGroup):
    """The one place where errors become messages and exit codes."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except NewsmirrorError as exc:
            # One line per problem (a config can hold several mistakes).
            for line in str(exc).splitlines() or [type(exc).__name__]:
                say("error", one_line(line))
            raise typer.Exit(exc.exit_code) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # --help, usage errors, Ctrl-C: Typer reports them itself
        except Exception as exc:
            if (ctx.obj or {}).get("debug"):
                console.print(Text("".join(traceback.format_exception(exc))), end="")
            say(
                "error",
                f"unexpected {type(exc).__name__}: {one_line(str(exc))} — a bug in newsmirror; "
                "run again with --debug for the traceback, and report it",
            )
            raise typer.Exit(EXIT_BUG) from None


app = typer.Typer(
    cls=_Commands,
    help="Keep a readable, shareable mirror of news sites: sync feeds into a store, "
    "build Markdown pages from it, publish them to git remotes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="The config file.", envvar="NEWSMIRROR_CONFIG", show_default=True)
]


@app.callback()
def main(
    ctx: typer.Context,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            envvar="NEWSMIRROR_DEBUG",
            help="Show the traceback of every unexpected error (one line each otherwise).",
        ),
    ] = False,
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            envvar="NEWSMIRROR_LOG_FORMAT",
            metavar="plain|json",
            help="plain: lines for people (the default); json: one JSON object per line (time, level, event, "
            "feed/article/remote, message) for journald and log collectors.",
        ),
    ] = "plain",
) -> None:
    ctx.obj = {"debug": debug}
    if log_format not in LOG_FORMATS:
        raise typer.BadParameter(f"{log_format!r}: use plain or json", param_hint="--log-format")
    log.format = log_format  # type: ignore[assignment]
    log.take_python_warnings()
    if debug:
        # sync, build and publish log the traceback of an unexpected error in one
        # feed, article, image or remote at DEBUG level, and go on.
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("debug: %(message)s"))
        logger = logging.getLogger("newsmirror")
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    error = UsageError(message)
    error.exit_code = code
    raise error


def load(path: Path) -> Config:
    return load_config(path)


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


@contextmanager
def locked(cfg: Config) -> Iterator[None]:
    """Hold the run lock, or exit at once if another run holds it: a lock file beside a SQLite
    store, an advisory lock in a PostgreSQL one (so runs take turns across every machine)."""
    from newsmirror.lock import run_lock
    from newsmirror.store import cluster_run_lock
    from newsmirror.sync import owner_name

    with cluster_run_lock(cfg.store_url, owner_name("run")) if cfg.store_url else run_lock(cfg.store_path):
        yield


def open_store(cfg: Config) -> Store:
    from newsmirror.store import Store

    store = Store(cfg.store)
    if store.upgraded:
        log.info("store", str(store.upgraded))
    return store


def sync_stage(
    cfg: Config, store: Store, sites: Sequence[str] = (), channels: Sequence[str] = (), all_feeds: bool = False
) -> bool:
    from newsmirror.progress import SyncDisplay
    from newsmirror.sync import select_channels, sync

    try:
        chosen = select_channels(cfg, sites, channels)
    except ValueError as exc:
        fail(f"{exc}; see 'newsmirror check'")
    with SyncDisplay(log, len(chosen)) as display:
        summary = asyncio.run(sync(cfg, store, sites=sites, channels=channels, progress=display, all_feeds=all_feeds))
    for line in summary.failing:
        say("warning", line, "feed")
    print_summary(summary)
    return summary.ok


def print_summary(summary: RunSummary) -> None:
    not_due = f"; {summary.feeds_not_due} feeds not due yet (--all polls them)" if summary.feeds_not_due else ""
    log.info(
        "sync",
        f"feeds: {summary.feeds_ok} ok, {summary.feeds_unchanged} not modified, {summary.feeds_failed} failed; "
        f"articles: {summary.new} new, {summary.updated} updated, {summary.skipped} skipped, "
        f"{summary.failed} failed{not_due}"
        + (f"; rechecked {summary.rechecked}, {summary.deleted} deleted at the source" if summary.rechecked else ""),
    )


def build_stage(cfg: Config, store: Store) -> bool:
    from newsmirror.progress import StageDisplay
    from newsmirror.render import build

    with StageDisplay(log) as display:
        result = build(cfg, store, progress=display)
    for error in result.errors:
        say("error", error, "build")
    for warning in result.warnings:
        say("warning", warning, "build")
    log.info("build", f"built {cfg.output_dir}: {result.summary()}")
    log.info("build", result.weight(cfg.mirror.page_budget))
    return result.ok


def publish_stage(cfg: Config) -> bool:
    """Commit and push; print the commit, then one line per remote."""
    from newsmirror.publish import publish

    result = publish(cfg)
    for warning in result.warnings:
        say("warning", warning, "publish")
    log.info("publish", result.describe())
    if not result.remotes:
        log.info("publish", "no [[remote]] in the config: committed locally only")
    for remote in result.remotes:
        log("info" if remote.ok else "error", "remote", remote.describe(), remote=remote.name)
    return result.ok


def finish(ok: bool) -> None:
    if not ok:
        raise typer.Exit(EXIT_PARTIAL)


@app.command("sync")
def sync_command(
    config: ConfigOption = Path(DEFAULT_CONFIG),
    site: Annotated[list[str], typer.Option("--site", "-s", help="Only this site (repeatable).")] = [],  # noqa: B006
    channel: Annotated[list[str], typer.Option("--channel", help="Only this channel (repeatable).")] = [],  # noqa: B006
    all_feeds: Annotated[bool, typer.Option("--all", help="Poll every feed, not only those that are due.")] = False,
) -> None:
    """Fetch the feeds that are due and their new or updated articles into the store.

    Each feed is due again at its own publishing rhythm, between schedule.min_interval
    and schedule.max_interval, later when its server asks (Cache-Control: max-age,
    Retry-After), and backing off after failures; --all polls every feed now.

    Exits 0 when everything succeeded, 1 when some feeds or articles failed
    (they are retried by the next sync), 2 on a config error, 3 when a run is
    still going.
    """
    cfg = load(config)
    with locked(cfg), open_store(cfg) as store:
        finish(sync_stage(cfg, store, site, channel, all_feeds))


@app.command("worker")
def worker_command(config: ConfigOption = Path(DEFAULT_CONFIG)) -> None:
    """Poll each feed the moment it is due, until SIGTERM: a long-running service (systemd Restart=always).

    Sleeps until the next feed is due, claims due feeds under a lease, and polls them as
    `sync` does. Several workers, on any machines, share a PostgreSQL store: each feed is
    polled by one of them, and the feeds of a worker that died are taken over once its lease
    (schedule.lease) runs out. A SQLite store takes one worker: a second exits with status 3.
    SIGTERM or Ctrl-C lets the feeds in hand finish with their articles, then exits 0.
    Logs a summary every 10 minutes. Build and publish stay with `run`/`build`/`publish`.
    """
    from newsmirror.lock import worker_lock
    from newsmirror.progress import SyncDisplay
    from newsmirror.sync import owner_name
    from newsmirror.worker import stop_on_signals, work

    cfg = load(config)
    held = ExitStack()
    if not cfg.store_url:
        held.enter_context(worker_lock(cfg.store_path))
    with held, open_store(cfg) as store, SyncDisplay(log, 0) as display:
        owner = owner_name("worker")
        log.info("worker", f"worker {owner} polling the feeds of {cfg.store_label} as they fall due")

        async def main() -> object:
            stop = asyncio.Event()
            stop_on_signals(stop)
            # On SQLite this is the only worker (the lock), so a worker's lease left in the store is a dead one's.
            take_over = "" if cfg.store_url else "worker:"
            return await work(cfg, store, owner=owner, progress=display, report=report, stop=stop, take_over=take_over)

        def report(summary: RunSummary) -> None:
            for line in summary.failing:
                say("warning", line, "feed")
            print_summary(summary)

        asyncio.run(main())
    log.info("worker", f"worker {owner} stopped")


@app.command("build")
def build_command(config: ConfigOption = Path(DEFAULT_CONFIG)) -> None:
    """Render the store into the output tree: article pages, QR codes, indexes, most read, home.

    Only files whose content changes are written; pages that left the kept set
    are removed. Exits 0 on success, 1 when some article could not be rendered,
    2 on a config or store error, 3 when a run is still going.
    """
    cfg = load(config)
    if not cfg.store_url and not cfg.store_path.exists():
        fail(f"{cfg.store_path}: no store yet; run 'newsmirror sync' first")
    with locked(cfg), open_store(cfg) as store:
        finish(build_stage(cfg, store))


@app.command("publish")
def publish_command(config: ConfigOption = Path(DEFAULT_CONFIG)) -> None:
    """Commit the output tree (if it changed) and push it to every remote in the config.

    Exits 0 when every remote has the commit, 1 when some remote failed (the
    next publish pushes what it missed), 2 when nothing could be published,
    3 when a run is still going.
    """
    cfg = load(config)
    with locked(cfg):
        finish(publish_stage(cfg))


@app.command("run")
def run_command(
    config: ConfigOption = Path(DEFAULT_CONFIG),
    all_feeds: Annotated[bool, typer.Option("--all", help="Poll every feed, not only those that are due.")] = False,
) -> None:
    """Sync the feeds that are due, build and publish in one go, under a lock: what a timer calls.

    A timer firing while a run is still going exits at once with status 3.
    What a failed feed, article or remote missed is done by the next run; the
    build and publish go ahead with everything that was stored. Exits 0 when
    every step succeeded, 1 when some feed, article or remote failed.
    """
    cfg = load(config)
    finish(run_all(cfg, all_feeds))


def run_all(cfg: Config, all_feeds: bool = False) -> bool:
    """Sync, build and publish under the run lock; True when every step succeeded."""
    with locked(cfg), open_store(cfg) as store:
        synced = sync_stage(cfg, store, all_feeds=all_feeds)
        built = build_stage(cfg, store)
        published = publish_stage(cfg)
    return synced and built and published


def open_store_readonly(cfg: Config) -> Store:
    from newsmirror.store import Store, StoreError

    try:
        return Store(cfg.store, readonly=True)
    except StoreError as exc:
        fail(str(exc))


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
    "it; a proxy on another host: set FORWARDED_ALLOW_IPS to its address. The README's 'View counter' section "
    "has nginx and Caddy examples."
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
    if not cfg.store_url and not cfg.store_path.exists():
        fail(f"{cfg.store_path}: no store yet; run 'newsmirror sync' first")
    from newsmirror.counter import serve

    serve(cfg.store, host=host, port=port, window_minutes=window_minutes, trust_proxy=trust_proxy)


@app.command()
def demo(
    folder: Annotated[Path, typer.Argument(help="Where the demo mirror goes.")] = Path("demo-mirror"),
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port for the sample sites.")] = 8700,
) -> None:
    """Mirror the bundled sample news sites, served on 127.0.0.1, into ./demo-mirror.

    Serves the sample sites, syncs them into demo-mirror/newsmirror.db, builds the
    Markdown mirror in demo-mirror/mirror and publishes it to the local bare
    repository demo-mirror/remote.git, then stops. Needs no internet. Run again,
    it fetches nothing new (the sample sites answer 304), writes no file and makes
    no commit.
    """
    from newsmirror.demosite import DemoSite
    from newsmirror.demosite.mirror import prepare_demo

    try:
        site = DemoSite(port=port, slow_delay=1.0)
    except OSError as exc:
        fail(f"cannot serve the sample sites on 127.0.0.1:{port}: {exc.strerror or exc}; pass another --port")
    with site:
        demo = prepare_demo(site, folder)
        console.print(f"serving the sample news sites at {site.base_url}; mirroring them into {demo.folder}")
        ok = run_all(demo.config)
    console.print(
        f"\nThe mirror is in {demo.config.output_dir}: start with {demo.home}.\n"
        f"It was published to {demo.remote} (see: git -C {demo.remote} log --stat -1).\n"
        f"Its config is {demo.config_path}; try 'newsmirror build --config {demo.config_path}' after editing it."
    )
    if not ok:
        # The sample sites hold a broken feed and a missing article on purpose.
        console.print("(the errors above are the sample sites' deliberate faults: a malformed feed, a 404)")


@app.command()
def serve(
    config: ConfigOption = Path(DEFAULT_CONFIG),
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free port).")] = 8000,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Serve the built output tree read-only on 127.0.0.1, to preview it in a browser, until Ctrl-C."""
    from newsmirror.preview import preview_server

    cfg = load(config)
    if not cfg.output_dir.is_dir():
        fail(f"{cfg.output_dir}: no output yet; run 'newsmirror build' first")
    try:
        server = preview_server(cfg.output_dir, host, port)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}; pass another --port (0 picks a free one)")
    with server:
        typer.echo(f"http://{host}:{server.server_address[1]}/")
        console.print(f"serving {cfg.output_dir} read-only; press Ctrl-C to stop")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            console.print("stopped")


@app.command("bundle")
def bundle_command(
    out: Annotated[Path, typer.Option("--out", help="The folder the bundles are written to.")],
    config: ConfigOption = Path(DEFAULT_CONFIG),
    since: Annotated[
        str | None, typer.Option(help="Only articles fetched in this span before now: 12h, 1d, 2w (default: all kept).")
    ] = None,
    formats: Annotated[
        list[str] | None,
        typer.Option("--format", help="zim, epub or html; repeat for several (default: all three)."),
    ] = None,
) -> None:
    """Write offline copies of the mirror: a ZIM file for Kiwix, an EPUB per channel, an HTML file per article."""
    from newsmirror.bundle import FORMATS, offline_mirror, write_bundles
    from newsmirror.config import parse_duration
    from newsmirror.models import utcnow
    from newsmirror.progress import StageDisplay

    cfg = load(config)
    chosen = formats or list(FORMATS)
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown:
        fail(f"--format {unknown[0]!r}: choose zim, epub or html")
    try:
        cutoff = utcnow() - parse_duration(since) if since else None
    except ValueError as exc:
        fail(f"--since: {exc}")
    with open_store(cfg) as store:
        copy = offline_mirror(cfg, store, cutoff)
        for error in copy.errors:
            say("error", error, "bundle")
        if not copy.views:
            fail(f"no article {'fetched in the last ' + since if since else 'in the store'}; nothing to bundle", 1)
        try:
            with StageDisplay(log) as display:
                result = write_bundles(copy, out, chosen, display)
        except OSError as exc:
            fail(f"cannot write the bundles in {out}: {exc}")
    for path in [*result.written, *result.unchanged]:
        if path.parent == out:
            console.print(f"{path}: {path.stat().st_size / 1024:.0f} KB", markup=False)
    console.print(f"bundles of {counted(copy.article_count, 'article')} in {out}: {result.summary()}", markup=False)
    finish(not copy.errors)


@app.command()
def keygen(
    config: ConfigOption = Path(DEFAULT_CONFIG),
    force: Annotated[bool, typer.Option(help="Replace an existing key (readers will see a new fingerprint).")] = False,
) -> None:
    """Make the key that signs the mirror's SHA256SUMS (mirror.signing_key, outside the output folder).

    Writes an Ed25519 key in OpenSSH's format (mode 0600) and its public key beside it (.pub).
    Every build then signs SHA256SUMS with it and every page shows its short fingerprint.
    Keep the private key off the published tree and back it up: a new key means a new
    fingerprint that readers must learn again.
    """
    from newsmirror.signing import generate_key, public_key_path

    cfg = load(config)
    key = cfg.signing_key_path
    if key.is_relative_to(cfg.output_dir):
        fail(
            f"mirror.signing_key {key} is inside the output folder {cfg.output_dir}: "
            "it would be published; set it outside"
        )
    if key.exists() and not force:
        fail(f"{key} already exists; pass --force to replace it (readers will see a new fingerprint)")
    public = generate_key(key, f"newsmirror {cfg.mirror.title}")
    say("info", f"wrote {key} (private: keep it off the published tree) and {public_key_path(key)}", "keygen")
    say("info", f"fingerprint {public.fingerprint}; pages show {public.short_fingerprint}", "keygen")


@app.command()
def verify(
    copy: Annotated[str, typer.Argument(help="A folder or git clone of the mirror, or its base URL on a static host.")],
    config: ConfigOption = Path(DEFAULT_CONFIG),
    key: Annotated[
        str | None, typer.Option("--key", help="The mirror's public key: a .pub file or its 'ssh-ed25519 AAAA…' line.")
    ] = None,
    fingerprint: Annotated[
        str | None,
        typer.Option("--fingerprint", help="The key's fingerprint, SHA256:… (the short one pages show will do)."),
    ] = None,
) -> None:
    """Check that a copy of the mirror is faithful: SHA256SUMS signed by the mirror's key, every file as listed.

    Reports missing, altered and extra files by name (a web address cannot be listed, so
    only missing and altered files there). The key is --key, or --fingerprint (matched
    against the copy's SHA256SUMS.pub), or by default the key of the config in use.
    Exits 0 only for a faithful copy, 1 otherwise, 2 when it cannot be checked.
    """
    from newsmirror.config import HttpConfig
    from newsmirror.signing import PublicKey, SigningError, parse_public_key, public_key_path
    from newsmirror.verify import VerifyError, describe, verify_folder, verify_url

    public: PublicKey | None = None
    http = HttpConfig(allow_private=True)  # the address is the user's own choice, loopback included
    try:
        if key is not None:
            text = Path(key).read_text("utf-8") if Path(key).is_file() else key
            public = parse_public_key(text)
        elif fingerprint is None:
            if not config.exists():
                fail(f"{config}: no config to take the key from; pass --key or --fingerprint")
            cfg = load(config)
            pub = public_key_path(cfg.signing_key_path)
            if not pub.exists():
                fail(f"{pub}: no public key; pass --key or --fingerprint, or run 'newsmirror keygen'")
            public = parse_public_key(pub.read_text("utf-8"))
            http = cfg.http.model_copy(update={"allow_private": True})
        if copy.startswith(("http://", "https://")):
            report = verify_url(copy, public, fingerprint, http)
        else:
            report = verify_folder(Path(copy), public, fingerprint)
    except (SigningError, VerifyError) as exc:
        fail(str(exc))
    for line in describe(report):
        say("info" if report.faithful else "error", line, "verify")
    finish(report.faithful)


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
        request_log = None if quiet else (lambda line: console.print(line, markup=False))
        site = DemoSite(host=host, port=port, slow_delay=slow_delay, log=request_log)
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
