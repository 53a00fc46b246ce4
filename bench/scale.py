"""Benchmark polling at scale: 10,000 feeds from 200 loopback hosts, on SQLite and PostgreSQL.

A separate process serves --feeds feeds from --hosts loopback addresses (127.0.0.1,
127.0.0.2, …), site h<n> on host n, adding --latency (50 ms) to every response. Feeds
answer conditional GETs with 304 unless they have a new item. The store is prepared
through the store's API before each measurement, as a store left by earlier polls
would be: every feed polled once (its ETag known), due now. Then, with the default
HTTP settings (16 in flight, 4 per host):

- ``poll_all_s``: one ``newsmirror sync --all`` on a SQLite store, --changed of the
  feeds (1 %) having one new item (its page fetched and extracted), the rest 304;
- ``workers_1_s`` / ``workers_2_s``: the same on PostgreSQL with one, then two
  ``newsmirror worker`` processes, from their start until every feed is polled and
  every new item stored;
- ``freshness_p95_s``: two workers run for --minutes (10) while --active of the feeds
  (2 %) publish a new item every --interval (2 min) on average (exponential gaps);
  for each item, the time from its appearance at the server to its ``fetched`` time
  in the store, 95th percentile. The feeds' history in the store shows that rhythm;
  the config sets ``schedule.min_interval`` to half the interval (1 min), so the rhythm is not clamped.

The sample server counts requests per feed (a feed polled twice is reported) and the
largest number of requests in flight per host at once. The PostgreSQL cluster is a
temporary one (Debian's initdb/pg_ctl, as ``nobody`` when run as root), with
``synchronous_commit=off``. CPU seconds are reported per process kind, to tell
what limits each figure.

    .venv/bin/python bench/scale.py                     # the full run (~20 min)
    .venv/bin/python bench/scale.py --feeds 1000 --hosts 20 --minutes 2 --interval 30   # a quick one
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import math
import multiprocessing
import os
import pwd
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from multiprocessing.connection import Connection
from pathlib import Path

import psutil

from newsmirror.config import load_config
from newsmirror.feeds import parse_feed
from newsmirror.models import Article, ArticleKey, FeedState
from newsmirror.store import Store
from newsmirror.sync.markdown_upkeep import converter_fingerprint

SHOWN = 5  # items a feed lists, newest first
HISTORY = 5  # items an active feed has before the run, at its rhythm
PARAGRAPH = "记者从多个渠道获悉，本周的会谈在闭门状态下进行，双方就贸易与安全交换了意见。"
BODY = "".join(f"<p>第{i}段：{PARAGRAPH}</p>" for i in range(6))


# -- the world: which items each feed shows at a given moment (the same in both processes) -----


@dataclass
class World:
    feeds: int
    hosts: int
    port: int
    interval: float  # the active feeds' mean publishing interval, seconds
    # Per feed, the moments its items appear (sorted); item n is the n-th to appear.
    items: dict[int, list[float]] = field(default_factory=dict)

    def host(self, feed: int) -> str:
        return f"127.0.0.{1 + feed % self.hosts}"

    def site(self, feed: int) -> str:
        return f"h{feed % self.hosts}"

    def url(self, feed: int) -> str:
        return f"http://{self.host(feed)}:{self.port}/f{feed}.xml"

    def add(self, feed: int, moments: list[float]) -> None:
        self.items[feed] = sorted([*self.items.get(feed, []), *moments])

    def visible(self, feed: int, now: float) -> int:
        """How many items the feed has at ``now``."""
        moments = self.items.get(feed, [])
        count = 0
        while count < len(moments) and moments[count] <= now:
            count += 1
        return count

    def etag(self, feed: int, count: int) -> str:
        return f'"{feed}-{count}"'

    def feed_xml(self, feed: int, count: int) -> bytes:
        moments = self.items.get(feed, [])
        entries = []
        for n in range(count - 1, max(count - SHOWN, 0) - 1, -1):
            link = f"http://{self.host(feed)}:{self.port}/f{feed}/{100000 + n}.html"
            entries.append(
                f"<item><title>第{feed}号源 第{n}条新闻</title><link>{link}</link><guid>{link}</guid>"
                f"<pubDate>{formatdate(moments[n], usegmt=True)}</pubDate></item>"
            )
        head = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>源{feed}</title>'
        return f"{head}{''.join(entries)}</channel></rss>".encode()


def article_html(feed: int, number: int) -> bytes:
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>新闻 {number}</title></head><body>'
        f'<div class="nav"><a href="/">首页</a></div>'
        f'<div class="article"><h1>第{feed}号源 第{number - 100000}条新闻</h1>'
        f"{BODY}</div></body></html>"
    ).encode()


# -- the sample server (its own process) --------------------------------------------------------


class Server:
    """HTTP/1.1 on asyncio streams, one listening socket per loopback host, a latency per response."""

    def __init__(self, world: World, latency: float) -> None:
        self.world = world
        self.latency = latency
        self.feed_requests: Counter[int] = Counter()
        self.statuses: Counter[int] = Counter()
        self.articles: Counter[str] = Counter()
        self.in_flight: Counter[str] = Counter()
        self.max_in_flight: Counter[str] = Counter()
        self._cache: dict[tuple[int, int], bytes] = {}

    def reset(self) -> None:
        for counter in (self.feed_requests, self.statuses, self.articles, self.max_in_flight):
            counter.clear()

    def stats(self) -> dict[str, object]:
        return {
            "feed_requests": dict(self.feed_requests),
            "statuses": dict(self.statuses),
            "articles": dict(self.articles),
            "max_in_flight": dict(self.max_in_flight),
        }

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = writer.get_extra_info("sockname")[0]
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                headers = {}
                while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = header.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                path = line.split()[1].decode()
                self.in_flight[host] += 1
                self.max_in_flight[host] = max(self.max_in_flight[host], self.in_flight[host])
                try:
                    await asyncio.sleep(self.latency)
                    writer.write(self.answer(path, headers.get("if-none-match", "")))
                    await writer.drain()
                finally:
                    self.in_flight[host] -= 1
        except (ConnectionError, IndexError, UnicodeDecodeError):
            return
        finally:
            writer.close()

    def answer(self, path: str, if_none_match: str) -> bytes:
        status, body, extra = 404, b"", ""
        if path.endswith(".xml"):
            feed = int(path[2:-4])
            count = self.world.visible(feed, time.time())
            etag = self.world.etag(feed, count)
            self.feed_requests[feed] += 1
            extra = f"ETag: {etag}\r\nContent-Type: application/rss+xml; charset=utf-8\r\n"
            if if_none_match == etag:
                status = 304
            else:
                status = 200
                body = self._cache.get((feed, count)) or self._cache.setdefault(
                    (feed, count), self.world.feed_xml(feed, count)
                )
        elif path.startswith("/f") and path.endswith(".html"):
            feed_part, _, number = path[2:-5].partition("/")
            self.articles[path] += 1
            status, body = 200, article_html(int(feed_part), int(number))
            extra = "Content-Type: text/html; charset=utf-8\r\n"
        self.statuses[status] += 1
        reason = {200: "OK", 304: "Not Modified", 404: "Not Found"}[status]
        length = "" if status == 304 else f"Content-Length: {len(body)}\r\n"
        return f"HTTP/1.1 {status} {reason}\r\n{extra}{length}\r\n".encode() + body


def serve(world: World, latency: float, control: Connection) -> None:
    async def main() -> None:
        server = Server(world, latency)
        loop = asyncio.get_running_loop()
        for host in sorted({world.host(feed) for feed in range(world.feeds)}):
            await asyncio.start_server(server.handle, host, world.port, backlog=256)

        def commands() -> None:
            while True:
                command, argument = control.recv()
                if command == "add":
                    asyncio.run_coroutine_threadsafe(
                        _call(lambda a=argument: [world.add(f, m) for f, m in a.items()]), loop
                    ).result()
                    control.send("ok")
                elif command == "stats":
                    future = asyncio.run_coroutine_threadsafe(_call(server.stats), loop)
                    control.send(future.result())
                elif command == "reset":
                    asyncio.run_coroutine_threadsafe(_call(server.reset), loop).result()
                    control.send("ok")

        control.send("ready")
        await asyncio.to_thread(commands)

    asyncio.run(main())


async def _call(function):  # type: ignore[no-untyped-def]
    return function()


class ServerHandle:
    def __init__(self, world: World, latency: float) -> None:
        self._here, there = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("fork").Process(
            target=serve, args=(world, latency, there), daemon=True
        )
        self.process.start()
        assert self._here.recv() == "ready"
        self._lock = threading.Lock()

    def ask(self, command: str, argument: object = None) -> object:
        with self._lock:
            self._here.send((command, argument))
            return self._here.recv()

    def stats(self) -> dict[str, dict]:  # type: ignore[type-arg]
        return self.ask("stats")  # type: ignore[return-value]


# -- a temporary PostgreSQL ------------------------------------------------------------------------


@contextmanager
def postgres_cluster(base: Path) -> Iterator[tuple[str, int]]:
    """A throw-away cluster on a unix socket in ``base``; yields (admin URL maker's socket dir, postmaster pid)."""
    initdbs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not initdbs:
        sys.exit("bench/scale.py needs PostgreSQL (Debian's postgresql package) for the worker figures")
    bin_dir = Path(initdbs[-1]).parent
    run_as = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(base, nobody.pw_uid, nobody.pw_gid)
    data = base / "data"
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"]
    subprocess.run([*run_as, *initdb, "--no-sync"], check=True, capture_output=True)
    options = f"-k {base} -p 5432 -c listen_addresses='' -c synchronous_commit=off -c max_connections=100"
    subprocess.run(
        [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-o", options, "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        pid = int((data / "postmaster.pid").read_text().split()[0])
        yield str(base), pid
    finally:
        subprocess.run(
            [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True
        )


def create_database(socket_dir: str, name: str) -> str:
    import psycopg

    admin = f"postgresql://postgres@/postgres?host={socket_dir}&port=5432"
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@/{name}?host={socket_dir}&port=5432"


# -- the config and the store as earlier polls left them ---------------------------------------


def config_toml(world: World, store: str, output: Path, interval: float) -> str:
    # The floor under the feeds' rhythm: half their interval (1 min for the default 2 min).
    lines = [
        f'[mirror]\nstore = "{store}"\noutput = "{output}"\nimages = "link"\n',
        "[http]\nallow_private = true\nretries = 1\n",
        f'[schedule]\nmin_interval = "{max(1, round(interval / 2))}s"\n',
    ]
    for host in range(world.hosts):
        lines.append(f'[[site]]\nid = "h{host}"\nname = "站点{host}"\ncontent = "div.article"\n')
        for feed in range(host, world.feeds, world.hosts):
            lines.append(f'[[site.channel]]\nid = "f{feed}"\nname = "源{feed}"\nfeed = "{world.url(feed)}"\n')
    return "\n".join(lines)


def seed(config: Path, world: World, now: float) -> float:
    """Every feed polled once and due now; each item the feeds show stored. Returns the seconds it took."""
    started = time.perf_counter()
    moment = datetime.fromtimestamp(now, UTC)
    settings = load_config(config)
    with Store(settings.store) as store:
        # As sync records it: the seeded Markdown counts as made by today's converter, so the
        # first poll measures polling, not a remake of every seeded article's Markdown.
        store.set_markdown_converter(converter_fingerprint(settings))
        store.register_feeds([(world.site(f), f"f{f}", world.url(f)) for f in range(world.feeds)])
        for feed in range(world.feeds):
            count = world.visible(feed, now)
            if count:
                parsed = parse_feed(world.feed_xml(feed, count), world.url(feed), "application/rss+xml")
                for item in parsed.items:
                    assert item.published is not None
                    key = ArticleKey(world.site(feed), f"f{feed}", item.key)
                    if store.article(key) is None:
                        store.save_article(
                            Article(
                                site=key.site,
                                channel=key.channel,
                                id=key.id,
                                url=item.link,
                                title=item.title,
                                markdown=f"# {item.title}\n\n正文。\n",
                                html=f"<p>{item.title}</p>",
                                published=item.published,
                                fetched=item.published,
                                feed_hash=item.feed_hash,
                            )
                        )
            store.save_feed_state(
                FeedState(
                    world.site(feed),
                    f"f{feed}",
                    world.url(feed),
                    etag=world.etag(feed, count),
                    checked_at=moment - timedelta(hours=1),
                    ok=True,
                    next_due=moment - timedelta(seconds=1),
                )
            )
    return time.perf_counter() - started


# -- measuring ----------------------------------------------------------------------------------------


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
        except psutil.NoSuchProcess:
            pass
    return total


def postgres_cpu(postmaster: int) -> float:
    try:
        parent = psutil.Process(postmaster)
        return cpu_seconds([parent.pid, *(child.pid for child in parent.children())])
    except psutil.NoSuchProcess:
        return 0.0


@dataclass
class Phase:
    name: str
    seconds: float
    cpu: dict[str, float]
    polled_twice: int
    max_in_flight: int
    per_worker: list[int]


def start_worker(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "newsmirror.cli", "worker", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=120)
        except subprocess.TimeoutExpired:
            worker.kill()


def feeds_polled(log: Path) -> int:
    return sum(1 for line in log.read_text("utf-8", "replace").splitlines() if " feed h" in f" {line}")


def stored(location: str | Path, keys: list[ArticleKey]) -> int:
    with Store(location, readonly=True) as store:
        return sum(1 for key in keys if store.article(key) is not None)


def new_item_keys(world: World, bumped: list[int]) -> list[ArticleKey]:
    return [ArticleKey(world.site(f), f"f{f}", str(100000 + len(world.items[f]) - 1)) for f in bumped]


def bump(server: ServerHandle, world: World, feeds: list[int]) -> None:
    moment = time.time() - 0.001
    additions = {feed: [moment] for feed in feeds}
    for feed, moments in additions.items():
        world.add(feed, moments)
    server.ask("add", additions)


def check_server(server: ServerHandle, world: World, bumped: list[int]) -> tuple[int, int, int]:
    stats = server.stats()
    requests = stats["feed_requests"]
    polled_twice = sum(1 for n in requests.values() if n > 1)
    max_in_flight = max(stats["max_in_flight"].values() or [0])
    not_modified = stats["statuses"].get(304, 0)
    if len(requests) != world.feeds or not_modified < world.feeds - len(bumped):
        print(f"  warning: {len(requests)} of {world.feeds} feeds polled, {not_modified} answered 304")
    return polled_twice, max_in_flight, len(stats["articles"])


def poll_all(server: ServerHandle, world: World, work: Path, bumped: list[int]) -> Phase:
    store = work / "sqlite" / "store.db"
    store.parent.mkdir()
    config = work / "sqlite" / "newsmirror.toml"
    config.write_text(config_toml(world, str(store), work / "sqlite" / "out", world.interval), "utf-8")
    took = seed(config, world, time.time())
    print(f"  seeded the SQLite store in {took:.1f} s")
    bump(server, world, bumped)
    server.ask("reset")
    log = work / "sqlite" / "sync.log"
    started = time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "newsmirror.cli", "sync", "--all", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server_pid = server.process.pid
    server_cpu = cpu_seconds([server_pid])
    own = 0.0
    while process.poll() is None:
        own = cpu_seconds([process.pid]) or own
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        print(f"  warning: sync exited {process.returncode}: {log.read_text()[-500:]}")
    print("  " + next((line for line in reversed(log.read_text().splitlines()) if "feeds:" in line), "no summary"))
    twice, in_flight, _ = check_server(server, world, bumped)
    assert stored(store, new_item_keys(world, bumped)) == len(bumped), "not every new item was stored"
    cpu = {"sync": own, "server": cpu_seconds([server_pid]) - server_cpu}
    return Phase("poll_all_s", seconds, cpu, twice, in_flight, [world.feeds])


def workers_phase(
    name: str, count: int, server: ServerHandle, world: World, work: Path, url: str, postmaster: int, bumped: list[int]
) -> Phase:
    folder = work / name
    folder.mkdir()
    config = folder / "newsmirror.toml"
    config.write_text(config_toml(world, url, folder / "out", world.interval), "utf-8")
    took = seed(config, world, time.time())
    print(f"  seeded the PostgreSQL store in {took:.1f} s")
    bump(server, world, bumped)
    server.ask("reset")
    keys = new_item_keys(world, bumped)
    pg_before, server_before = postgres_cpu(postmaster), cpu_seconds([server.process.pid])
    logs = [folder / f"worker{i}.log" for i in range(count)]
    started = time.perf_counter()
    workers = [start_worker(config, log) for log in logs]
    own = [0.0] * count
    try:
        while True:
            time.sleep(0.1)
            own = [cpu_seconds([w.pid]) or before for w, before in zip(workers, own, strict=True)]
            stats = server.stats()
            polled = len(stats["feed_requests"]) >= world.feeds and len(stats["articles"]) >= len(bumped)
            if polled and stored(url, keys) == len(keys):
                break
            if any(w.poll() is not None for w in workers):
                raise SystemExit(f"a worker exited: {logs[0].read_text()[-800:]}")
        seconds = time.perf_counter() - started
        pg = postgres_cpu(postmaster) - pg_before
    finally:
        stop_workers(workers)
    twice, in_flight, _ = check_server(server, world, bumped)
    cpu = {"workers": sum(own), "postgresql": pg, "server": cpu_seconds([server.process.pid]) - server_before}
    return Phase(name, seconds, cpu, twice, in_flight, [feeds_polled(log) for log in logs])


def freshness(
    server: ServerHandle, world: World, work: Path, url: str, active: list[int], minutes: float, interval: float
) -> tuple[list[float], int, dict[str, float]]:
    folder = work / "workers_2_s"
    config = folder / "newsmirror.toml"
    rng = random.Random(15)
    start = time.time() + 2
    end = start + minutes * 60
    schedule: dict[int, list[float]] = {}
    for feed in active:
        moments, moment = [], start + rng.expovariate(1 / interval)
        while moment < end:
            moments.append(moment)
            moment += rng.expovariate(1 / interval)
        schedule[feed] = moments
    keys = {}
    for feed, moments in schedule.items():
        before = len(world.items[feed])
        world.add(feed, moments)
        for n, moment in enumerate(moments):
            keys[ArticleKey(world.site(feed), f"f{feed}", str(100000 + before + n))] = moment
    server.ask("add", schedule)
    server.ask("reset")
    logs = [folder / f"fresh{i}.log" for i in range(2)]
    workers = [start_worker(config, log) for log in logs]
    print(f"  {len(keys)} items appear over {minutes:g} min in {len(active)} feeds (one every {interval:g} s each)")
    fetched: dict[ArticleKey, float] = {}
    try:
        while time.time() < end + 3 * interval and len(fetched) < len(keys):
            time.sleep(5)
            with Store(url, readonly=True) as store:
                for key in keys:
                    if key not in fetched and (article := store.article(key)) is not None:
                        fetched[key] = article.fetched.timestamp()
    finally:
        own = cpu_seconds([w.pid for w in workers])
        stop_workers(workers)
    delays = [fetched[key] - moment for key, moment in keys.items() if key in fetched]
    # An item never stored counts as waiting until the end.
    delays += [time.time() - moment for key, moment in keys.items() if key not in fetched]
    stats = server.stats()
    return delays, sum(stats["feed_requests"].values()), {"workers": own}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--changed", type=float, default=0.01, help="share of feeds with a new item in each poll")
    parser.add_argument("--active", type=float, default=0.02, help="share of feeds publishing in the freshness run")
    parser.add_argument("--interval", type=float, default=120.0, help="their mean publishing interval, seconds")
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the workers run for freshness")
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temporary one)")
    args = parser.parse_args()
    if not 1 <= args.hosts <= 254:
        parser.error("--hosts must be between 1 and 254 (127.0.0.1 to 127.0.0.254)")

    rng = random.Random(10_000)
    world = World(args.feeds, args.hosts, free_port(), args.interval)
    feeds = list(range(args.feeds))
    active = sorted(rng.sample(feeds, max(1, round(args.active * args.feeds))))
    quiet = [f for f in feeds if f not in set(active)]
    changed = max(1, round(args.changed * args.feeds))
    bumps = [sorted(rng.sample(quiet, changed * 3))[i::3] for i in range(3)]
    seeded = time.time() - 60
    for feed in active:  # their history: HISTORY items at the rhythm, the newest a minute ago
        world.add(feed, [seeded - k * args.interval for k in range(HISTORY)])

    work = args.dir or Path(tempfile.mkdtemp(prefix="newsmirror-scale-", dir="/var/tmp"))
    work.mkdir(parents=True, exist_ok=True)
    print(
        f"{args.feeds:,} feeds on {args.hosts} hosts, {args.latency * 1000:.0f} ms latency, {changed} with a new item "
        f"per poll; {os.cpu_count()} cores (shared with other work: see the load average {os.getloadavg()[0]:.1f})"
    )
    server = ServerHandle(world, args.latency)
    phases: list[Phase] = []
    try:
        print("poll_all: one sync --all on SQLite")
        phases.append(poll_all(server, world, work, bumps[0]))
        pg_dir = Path(tempfile.mkdtemp(prefix="newsmirror-scale-pg-"))
        with postgres_cluster(pg_dir) as (socket_dir, postmaster):
            for name, count, bumped in (("workers_1_s", 1, bumps[1]), ("workers_2_s", 2, bumps[2])):
                print(f"{name}: {count} worker(s) on PostgreSQL")
                url = create_database(socket_dir, name)
                phases.append(workers_phase(name, count, server, world, work, url, postmaster, bumped))
            print(f"freshness: two workers for {args.minutes:g} min")
            delays, polls, fresh_cpu = freshness(server, world, work, url, active, args.minutes, args.interval)
        shutil.rmtree(pg_dir, ignore_errors=True)
    finally:
        server.process.kill()

    print()
    latency_bound = args.feeds * args.latency / 16
    print(f"latency bound at 16 in flight: {latency_bound:.1f} s (per worker)")
    for phase in phases:
        cpu = ", ".join(f"{name} {seconds:.1f}" for name, seconds in phase.cpu.items())
        print(
            f"{phase.name}: {phase.seconds:.1f} s, {args.feeds / phase.seconds:.0f} feeds/s; CPU seconds: {cpu}; "
            f"feeds polled per process {phase.per_worker}; polled twice {phase.polled_twice}; "
            f"most requests in flight to one host {phase.max_in_flight} (per_host 4)"
        )
    seconds = {phase.name: phase.seconds for phase in phases}
    print(f"two workers vs one: {seconds['workers_1_s'] / seconds['workers_2_s']:.2f}x (target 1.6x)")
    print(
        f"freshness: {len(delays)} items, median {statistics.median(delays):.1f} s, max {max(delays):.1f} s, "
        f"{polls} feed polls, workers' CPU {fresh_cpu['workers']:.1f} s; "
        f"target p95 < {2 * args.interval:.0f} s (2x the interval)"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    for phase in phases:
        print(f"{phase.name}: {phase.seconds:.1f}")
    print(f"freshness_p95_s: {percentile(delays, 0.95):.1f}")


if __name__ == "__main__":
    main()
