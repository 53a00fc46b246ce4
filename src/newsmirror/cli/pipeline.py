"""The pipeline's commands: sync, worker, build, publish, and run (all three under one lock)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from newsmirror.cli.app import (
    ConfigOption,
    app,
    fail,
    finish,
    load,
    locked,
    log,
    open_store,
    say,
)
from newsmirror.config import DEFAULT_CONFIG, Config

if TYPE_CHECKING:
    from newsmirror.models import RunSummary
    from newsmirror.store import Store


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
        + (f"; rechecked {summary.rechecked}, {summary.deleted} deleted at the source" if summary.rechecked else "")
        + (f"; {summary.remade} stored articles' Markdown made again by this release" if summary.remade else ""),
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
