"""Load benchmark of the view counter (`newsmirror counter`).

Starts the counter as its own process on 127.0.0.1 over a temporary store of stored articles, and
drives it from this process with concurrent keep-alive clients (asyncio, raw HTTP/1.1: the load
generator shares the machine's cores with the server, so it has to be cheap) for a bounded time:

* baseline: well-formed image requests for ids that are not stored — the whole HTTP path, nothing
  counted;
* views: the real mix — new views (distinct simulated readers via X-Forwarded-For, the service run
  with --trust-proxy), repeats of a view just sent (must count once) and unknown ids.

Then it stops the counter with SIGTERM (which must save what is pending) and compares the distinct
(reader, article) views that got an answer with the views in the store: they must be equal.

Targets: at least 3,000 requests/s with p99 under 50 ms on a 2-core machine, no view lost.

    .venv/bin/python bench/counter.py [--seconds 20] [--connections 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from newsmirror.models import Article, ArticleKey, utcnow
from newsmirror.store import Store

TARGET_RPS = 3000
TARGET_P99_MS = 50.0


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    ok: int = 0
    errors: int = 0
    views: set[tuple[str, str]] = field(default_factory=set)  # distinct (reader, path) of answered views
    seconds: float = 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")

    @property
    def rps(self) -> float:
        return (self.ok + self.errors) / self.seconds if self.seconds else 0.0


def make_store(path: Path, count: int) -> list[ArticleKey]:
    keys = [ArticleKey(f"site{n % 3}", f"ch_{n % 7}", f"{1_000_000 + n}") for n in range(count)]
    with Store(path) as store:
        for key in keys:
            store.save_article(
                Article(
                    site=key.site,
                    channel=key.channel,
                    id=key.id,
                    url=f"https://news.example/{key.id}.html",
                    title=f"article {key.id}",
                    markdown="body",
                    html="<p>body</p>",
                    published=utcnow(),
                    fetched=utcnow(),
                )
            )
    return keys


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def read_response(reader: asyncio.StreamReader) -> bool:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return head.startswith(b"HTTP/1.1 200")


async def worker(port: int, deadline: float, plan, result: Result) -> None:
    """One keep-alive connection sending the requests of ``plan`` until the deadline."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    n = 0
    try:
        while time.perf_counter() < deadline:
            path, reader_address = plan(n)
            request = (f"GET {path} HTTP/1.1\r\nHost: counter\r\nX-Forwarded-For: {reader_address}\r\n\r\n").encode()
            start = time.perf_counter()
            writer.write(request)
            ok = await read_response(reader)
            result.latencies.append(time.perf_counter() - start)
            if ok:
                result.ok += 1
                if "/missing-" not in path:
                    result.views.add((reader_address, path))
            else:
                result.errors += 1
            n += 1
    finally:
        writer.close()


def baseline_plan(worker_id: int, keys: list[ArticleKey]):
    def plan(n: int) -> tuple[str, str]:
        return f"/v/site0/ch_0/missing-{worker_id}-{n}.gif", f"2001:db8:{worker_id:x}::{n:x}"

    return plan


def views_plan(worker_id: int, keys: list[ArticleKey]):
    """70% new views, 20% repeats of the view just sent, 10% unknown ids; readers view several articles."""

    def pair(n: int) -> tuple[str, str]:
        key = keys[(n * 7919 + worker_id * 104729) % len(keys)]
        return f"/v/{key.site}/{key.channel}/{key.id}.gif", f"2001:db8:{worker_id:x}::{n // 3:x}"

    def plan(n: int) -> tuple[str, str]:
        kind = n % 10
        if kind == 9:
            return f"/v/site0/ch_0/missing-{worker_id}-{n}.gif", f"2001:db8:{worker_id:x}::{n:x}"
        if kind in (4, 8):
            return pair(n - 1)
        return pair(n)

    return plan


async def drive(port: int, seconds: float, connections: int, make_plan, keys: list[ArticleKey]) -> Result:
    result = Result()
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(*(worker(port, deadline, make_plan(w, keys), result) for w in range(connections)))
    result.seconds = time.perf_counter() - start
    return result


def wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit("the counter exited at start; see its log above")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    sys.exit("the counter did not start within 20 s")


def report(name: str, result: Result) -> None:
    print(
        f"{name:<9} {result.rps:8.0f} req/s  p50 {result.percentile(0.50):6.2f} ms"
        f"  p99 {result.percentile(0.99):6.2f} ms  ({result.ok + result.errors} requests in {result.seconds:.1f} s,"
        f" {result.errors} not 200)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the views run (default 20)")
    parser.add_argument("--connections", type=int, default=64, help="concurrent keep-alive clients (default 64)")
    parser.add_argument("--articles", type=int, default=1000, help="articles in the store (default 1000)")
    args = parser.parse_args()
    baseline_seconds = min(5.0, max(1.0, args.seconds / 4))

    with tempfile.TemporaryDirectory(prefix="counter-bench-") as tmp:
        folder = Path(tmp)
        keys = make_store(folder / "store.db", args.articles)
        (folder / "bench.toml").write_text('[mirror]\nstore = "store.db"\n', "utf-8")
        port = free_port()
        log = (folder / "counter.log").open("wb")
        env = {k: v for k, v in os.environ.items() if k != "FORWARDED_ALLOW_IPS"}
        command = [sys.executable, "-m", "newsmirror.cli", "counter", "-c", str(folder / "bench.toml")]
        process = subprocess.Popen(
            [*command, "--port", str(port), "--trust-proxy"], stdout=log, stderr=subprocess.STDOUT, env=env
        )
        try:
            wait_ready(port, process)
            print(
                f"counter bench: {args.articles} stored articles, {args.connections} keep-alive connections on "
                f"loopback, {os.cpu_count()} cores shared by server and load generator"
            )
            baseline = asyncio.run(drive(port, baseline_seconds, args.connections, baseline_plan, keys))
            report("baseline", baseline)
            views = asyncio.run(drive(port, args.seconds, args.connections, views_plan, keys))
            report("views", views)
        finally:
            process.send_signal(signal.SIGTERM)  # must save the views still in memory
            code = process.wait(timeout=60)
            log.close()
        server_log = (folder / "counter.log").read_text("utf-8", "replace")
        with Store(folder / "store.db", readonly=True) as store:
            stored = sum(store.view_totals().values())

    lost = len(views.views) - stored
    print(f"  views run vs baseline (unknown ids, nothing counted): {views.rps / baseline.rps:.2f}x throughput")
    print(f"  requests accepted (200): {views.ok}, of which distinct (reader, article) views: {len(views.views)}")
    ended = "ended by the SIGTERM" if code == -signal.SIGTERM else f"exit status {code}"
    print(f"  views stored after SIGTERM: {stored} (counter {ended})")
    if views.errors or baseline.errors or stored != len(views.views):
        print("  counter log:\n" + server_log)
    p99 = views.percentile(0.99)
    met = views.rps >= TARGET_RPS and p99 < TARGET_P99_MS and lost == 0
    print(f"  targets (>= {TARGET_RPS} req/s, p99 < {TARGET_P99_MS:.0f} ms, 0 lost): {'met' if met else 'MISSED'}")
    print(f"requests_per_s: {views.rps:.0f}")
    print(f"p99_ms: {p99:.2f}")
    print(f"lost_views: {lost}")


if __name__ == "__main__":
    main()
