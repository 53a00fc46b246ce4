"""Benchmark `newsmirror sync`: articles/s against a sequential baseline, and peak memory.

A separate process serves N generated articles (4 sites on 4 loopback addresses,
5 channels each, one RSS feed per channel) and adds --latency (default 50 ms)
to every response. `newsmirror sync` runs as a real subprocess into a fresh
store with the default HTTP settings (16 in flight, 4 per host). The baseline is
the same command with one request at a time (concurrency 1, per host 1) on a
sample of the articles, measured in the same run. Peak RSS is the largest sum of
the resident memory of the sync process and its children, sampled every 20 ms.

    .venv/bin/python bench/sync.py [--n 2000] [--latency 0.05] [--baseline-n 200]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil

# A small JPEG-looking image (the JPEG magic, then filler): what sync checks before it keeps one.
IMAGE = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 24
HOSTS = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"]
CHANNELS = 5
PARAGRAPH = (
    "记者从多个渠道获悉，本周的会谈在闭门状态下进行，双方就贸易、安全与地区局势交换了意见。"
    "分析人士认为，此次会谈的象征意义大于实际成果，但其释放的信号值得关注。"
)


def article_html(site: int, number: int) -> str:
    paragraphs = "\n".join(f"<p>{PARAGRAPH}（第{i + 1}段，文章{number}）</p>" for i in range(8))
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>文章 {number}</title>
<script>var tracker = "x";</script><style>.a{{color:red}}</style></head><body>
<div class="header"><a href="/">首页</a> <a href="/world/">国际</a> <a href="/china/">中国</a></div>
<div class="sidebar"><ul>{"".join(f'<li><a href="/a/{n}.html">相关新闻 {n}</a></li>' for n in range(20))}</ul></div>
<div class="article"><h1>站点{site} 第{number}号新闻：会谈释放新信号</h1>
<p class="meta">2026年11月20日 记者 王明</p>
<img src="/img/{number}.jpg" alt="会谈现场"><p class="caption">会谈现场（图片来源：示例）</p>
{paragraphs}
<span id="hideid" style="display:none">隐藏文字</span>
<div id="txt-mid1-t21" style="display:none">推广内容</div>
<p>本文短网址: <input value="http://e.io/x{number}"></p></div>
<div class="footer">版权所有 © 2026</div></body></html>"""


def feed_xml(site: int, channel: int, numbers: range) -> str:
    items = "".join(
        f"<item><title>站点{site} 第{n}号新闻</title><link>/a/{channel}/{n}.html</link>"
        f"<pubDate>{formatdate(1_790_000_000 + n * 60, usegmt=True)}</pubDate></item>"
        for n in numbers
    )
    head = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>c{channel}</title>'
    return f"{head}{items}</channel></rss>"


def serve(port: int, n: int, latency: float, ready: multiprocessing.Event) -> None:
    per_channel = -(-n // (len(HOSTS) * CHANNELS))
    pages = {site: {} for site in range(len(HOSTS))}
    number = 0
    for site in range(len(HOSTS)):
        for channel in range(CHANNELS):
            numbers = range(number, min(number + per_channel, n))
            number = numbers.stop
            pages[site][f"/feed/{channel}.xml"] = feed_xml(site, channel, numbers).encode()
            for k in numbers:
                pages[site][f"/a/{channel}/{k}.html"] = None  # rendered on demand: keeps the server small

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: without this, Nagle and
        # delayed ACKs would add ~40 ms to every keep-alive response.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            site = HOSTS.index(self.server.server_address[0])
            time.sleep(latency)
            if self.path.startswith("/img/"):
                # Every article shows one image, which sync copies into the mirror (the default).
                self._send(IMAGE, "image/jpeg")
                return
            if self.path not in pages[site]:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = pages[site][self.path] or article_html(site, int(self.path.rsplit("/", 1)[1][:-5])).encode()
            kind = "application/rss+xml" if self.path.endswith(".xml") else "text/html"
            self._send(body, f"{kind}; charset=utf-8")

        def _send(self, body: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    servers = []
    for host in HOSTS:
        server = ThreadingHTTPServer((host, port), Handler)
        server.daemon_threads = True
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
    ready.set()
    threading.Event().wait()


def config_toml(port: int, store: Path, concurrency: int, per_host: int, sites: range, channels: int) -> str:
    lines = [
        f'[mirror]\nstore = "{store}"\noutput = "{store.parent / "out"}"\n',
        f"[http]\nconcurrency = {concurrency}\nper_host = {per_host}\nretries = 1\n",
    ]
    for site in sites:
        lines.append(f'[[site]]\nid = "s{site}"\nname = "站点{site}"\ncontent = "div.article"\n')
        lines.append('remove = ["#hideid", "div[id^=txt-mid]"]\ndrop_blocks_matching = ["本文短网址"]\n')
        for channel in range(channels):
            lines.append(
                f'[[site.channel]]\nid = "c{channel}"\nname = "c{channel}"\n'
                f'feed = "http://{HOSTS[site]}:{port}/feed/{channel}.xml"\n'
            )
    return "\n".join(lines)


def run_sync(config: Path) -> tuple[float, float, str]:
    """Run `newsmirror sync`; return wall seconds, peak RSS of the process tree in MB, and its summary."""
    log = config.with_suffix(".log")
    started = time.perf_counter()
    with log.open("w") as log_file:  # a file, not a pipe: a full pipe would stall the sync
        process = subprocess.Popen(
            [sys.executable, "-m", "newsmirror.cli", "sync", "--config", str(config)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    watched = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            tree = [watched, *watched.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    err = log.read_text("utf-8")
    summary = (err.strip().splitlines() or [""])[-1]
    if process.returncode != 0:
        sys.exit(f"sync failed (exit {process.returncode}):\n{err[-3000:]}")
    return elapsed, peak / 1e6, summary


def free_port() -> int:
    """A TCP port free on every benchmark address."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind((HOSTS[0], 0))
            port = probe.getsockname()[1]
        try:
            for host in HOSTS[1:]:
                with socket.socket() as other:
                    other.bind((host, port))
        except OSError:
            continue
        return port
    sys.exit("no free port on the loopback addresses")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="articles to serve and sync")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every response")
    parser.add_argument("--baseline-n", type=int, default=200, help="articles in the sequential baseline")
    args = parser.parse_args()

    port = free_port()
    ready = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(port, args.n, args.latency, ready), daemon=True)
    server.start()
    if not ready.wait(30):
        sys.exit("the benchmark server did not start")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            # Baseline: one request at a time, on the first channel(s) of site 0.
            per_channel = -(-args.n // (len(HOSTS) * CHANNELS))
            base_channels = max(1, min(CHANNELS, -(-args.baseline_n // per_channel)))
            base_config = work / "baseline.toml"
            base_config.write_text(config_toml(port, work / "baseline.db", 1, 1, range(1), base_channels), "utf-8")
            base_s, _, base_summary = run_sync(base_config)
            base_articles = min(args.n, per_channel * base_channels)
            base_rate = base_articles / base_s
            print(f"sequential baseline: {base_articles} articles in {base_s:.1f} s = {base_rate:.1f} articles/s")
            print(f"  {base_summary}")

            config = work / "sync.toml"
            config.write_text(config_toml(port, work / "sync.db", 16, 4, range(len(HOSTS)), CHANNELS), "utf-8")
            seconds, peak_mb, summary = run_sync(config)
            rate = args.n / seconds
            print(f"newsmirror sync: {args.n} articles in {seconds:.1f} s = {rate:.1f} articles/s")
            print(f"  {summary}")
            print(f"latency per response: {args.latency * 1000:.0f} ms; cores: {os.cpu_count()}")
            print(f"articles_per_s: {rate:.1f}")
            print(f"speedup_vs_sequential: {rate / base_rate:.1f}")
            print(f"peak_rss_mb: {peak_mb:.0f}")
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
