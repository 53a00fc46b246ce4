"""Benchmark how a mirror's git repository grows: 30 days of 41 channels × 30 articles a day, with images.

A server on 127.0.0.1 plays the news sites: 41 channels (on 5 sites), each publishing
--per-day (30) articles a day, each article with one photo (a distinct JPEG, grain
and all, as a news photo is; shrunk by sync as every image is). Each simulated day,
``newsmirror run --all`` syncs the day's articles, builds and publishes to a bare
repository with the full history (the default). The same tree is then published with
``mirror.squash_history = true`` to a second bare repository. The default retention
(``keep_per_channel = 500``) applies: once a channel has 500 articles, the oldest leave
the tree, and the squashed repository stops growing while the history keeps them.

Every --every days (10), both repositories are packed as a host packs them
(``git gc --prune=now``) and measured. It prints the sizes and projects a year from
the growth of the last period. Headline figures:

- ``history_mb`` / ``squashed_mb``: the two repositories after the last day;
- ``year_history_mb`` / ``year_squashed_mb``: projected to 365 days.

    .venv/bin/python bench/growth.py                        # 30 days (~20 min on 2 cores)
    .venv/bin/python bench/growth.py --days 4 --per-day 5 --every 2   # a quick one
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path

from PIL import Image

SITES = 5
CHANNELS = 41
PARAGRAPH = (
    "记者从多个渠道获悉，本周的会谈在闭门状态下进行，双方就贸易、安全与地区局势交换了意见。分析人士认为其信号值得关注。"
)
PHOTO_SIZE = (1080, 720)


@cache
def _grain(seed: int) -> Image.Image:
    """Camera grain: what makes a news photo's JPEG weigh what it does (a few, reused)."""
    rnd = random.Random(seed)
    width, height = PHOTO_SIZE
    return Image.frombytes("L", (width, height), rnd.randbytes(width * height)).convert("RGB")


def photo(channel: int, number: int) -> bytes:
    """A distinct photo per article: a gradient scene with its own colours, blended with grain."""
    rnd = random.Random(channel * 1_000_003 + number)
    width, height = PHOTO_SIZE
    scene = Image.linear_gradient("L").resize((width, height))
    tint = [rnd.randrange(40, 200) for _ in range(3)]
    scene = Image.merge("RGB", [scene.point(lambda v, t=t: (v + t) % 256) for t in tint])
    block = Image.new("RGB", (width // 3, height // 3), tuple(rnd.randrange(256) for _ in range(3)))
    scene.paste(block, (rnd.randrange(width - block.width), rnd.randrange(height - block.height)))
    image = Image.blend(scene, _grain(number % 8), 0.18)
    out = BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


class World:
    """Which articles exist on the simulated ``day`` (0, 1, …): ``per_day`` a day in every channel."""

    def __init__(self, per_day: int, start: datetime) -> None:
        self.per_day = per_day
        self.start = start
        self.day = 0

    def published(self, number: int) -> datetime:
        day, rank = divmod(number, self.per_day)
        return self.start + timedelta(days=day, minutes=rank * (24 * 60 // self.per_day))

    def feed(self, channel: int) -> bytes:
        newest = (self.day + 1) * self.per_day
        items = "".join(
            f"<item><title>第{channel}频道 第{n}号新闻：会谈释放新信号</title>"
            f"<link>/a/{channel}/{100000 + n}.html</link>"
            f"<pubDate>{format_datetime(self.published(n), usegmt=True)}</pubDate></item>"
            for n in range(newest - 1, max(newest - 2 * self.per_day, 0) - 1, -1)
        )
        head = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>频道{channel}</title>'
        return f"{head}{items}</channel></rss>".encode()

    def article(self, channel: int, number: int) -> bytes:
        paragraphs = "".join(f"<p>{PARAGRAPH}（第{i + 1}段）</p>" for i in range(8))
        return (
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>新闻 {number}</title></head><body>'
            f'<div class="article"><h1>第{channel}频道 第{number - 100000}号新闻：会谈释放新信号</h1>'
            f'<img src="/img/{channel}/{number}.jpg" alt="会谈现场"><p>会谈现场（图片来源：示例）</p>'
            f"{paragraphs}</div></body></html>"
        ).encode()


def serve(world: World) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            parts = self.path.strip("/").split("/")
            if len(parts) == 1 and parts[0].endswith(".xml"):
                body, kind = world.feed(int(parts[0][1:-4])), "application/rss+xml"
            elif parts[0] == "a":
                body, kind = world.article(int(parts[1]), int(parts[2][:-5])), "text/html; charset=utf-8"
            elif parts[0] == "img":
                body, kind = photo(int(parts[1]), int(parts[2][:-4])), "image/jpeg"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def config_toml(port: int, store: Path, output: Path, remote: Path, squash: bool, keep: int) -> str:
    lines = [
        f'[mirror]\nstore = "{store}"\noutput = "{output}"\nsquash_history = {str(squash).lower()}\n'
        f"keep_per_channel = {keep}\n"
        'base_url = "https://github.com/newsmirror-growth/mirror/blob/main"\n',
        "[http]\nallow_private = true\n",
        f'[[remote]]\nname = "host"\nurl = "{remote}"\n',
    ]
    channels = iter(range(CHANNELS))
    for site in range(SITES):
        lines.append(f'[[site]]\nid = "s{site}"\nname = "站点{site}"\ncontent = "div.article"\n')
        for _ in range(CHANNELS // SITES + (site < CHANNELS % SITES)):
            channel = next(channels)
            lines.append(
                f'[[site.channel]]\nid = "c{channel}"\nname = "频道{channel}"\n'
                f'feed = "http://127.0.0.1:{port}/c{channel}.xml"\n'
            )
    return "\n".join(lines)


def newsmirror(*args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "newsmirror.cli", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"newsmirror {' '.join(args)} exited {result.returncode}:\n{result.stderr[-2000:]}")


def mirror_tree(source: Path, target: Path) -> None:
    """Make ``target`` hold the files of ``source`` (its .git aside), as hard links: the same build."""
    wanted = set()
    for folder, dirs, files in os.walk(source):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            relative = Path(folder, name).relative_to(source)
            wanted.add(relative)
            there = target / relative
            here = source / relative
            if not there.exists() or not there.samefile(here):
                there.parent.mkdir(parents=True, exist_ok=True)
                there.unlink(missing_ok=True)
                os.link(here, there)
    for folder, dirs, files in os.walk(target):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            path = Path(folder, name)
            if path.relative_to(target) not in wanted:
                path.unlink()


def packed_size(bare: Path) -> int:
    """The repository as a host keeps it: gc'd (unreachable objects pruned), every file under it."""
    subprocess.run(["git", "-C", str(bare), "gc", "--prune=now", "--quiet"], check=True)
    return sum(path.stat().st_size for path in bare.rglob("*") if path.is_file())


def tree_size(output: Path) -> tuple[int, int, int]:
    """Bytes and files of the published tree (without .git), and the bytes of its images."""
    total = files = images = 0
    for folder, dirs, names in os.walk(output):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in names:
            size = Path(folder, name).stat().st_size
            total += size
            files += 1
            if Path(folder).name == "images":
                images += size
    return total, files, images


def mb(size: float) -> str:
    return f"{size / 1e6:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=30, help="articles a day in each channel")
    parser.add_argument("--every", type=int, default=10, help="measure the repositories every this many days")
    parser.add_argument("--keep", type=int, default=500, help="mirror.keep_per_channel (retention)")
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temporary one)")
    args = parser.parse_args()

    work = args.dir or Path(tempfile.mkdtemp(prefix="newsmirror-growth-", dir="/var/tmp"))
    work.mkdir(parents=True, exist_ok=True)
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=args.days)
    world = World(args.per_day, start)
    server = serve(world)
    port = server.server_address[1]
    store = work / "newsmirror.db"
    history, squashed = work / "history.git", work / "squashed.git"
    for bare in (history, squashed):
        subprocess.run(["git", "init", "--quiet", "--bare", str(bare)], check=True)
    full = work / "history.toml"
    full.write_text(config_toml(port, store, work / "mirror", history, squash=False, keep=args.keep), "utf-8")
    squash = work / "squashed.toml"
    squash_config = config_toml(port, store, work / "mirror-squashed", squashed, squash=True, keep=args.keep)
    squash.write_text(squash_config, "utf-8")
    print(
        f"{args.days} days of {CHANNELS} channels x {args.per_day} articles a day, one photo each; "
        f"{os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f}, shared with other work)"
    )
    samples: list[tuple[int, int, int]] = []
    started = time.perf_counter()
    try:
        for day in range(args.days):
            world.day = day
            began = time.perf_counter()
            newsmirror("run", "--all", "--config", str(full))
            mirror_tree(work / "mirror", work / "mirror-squashed")
            newsmirror("publish", "--config", str(squash))
            took = time.perf_counter() - began
            if (day + 1) % args.every == 0 or day + 1 == args.days:
                sizes = packed_size(history), packed_size(squashed)
                samples.append((day + 1, *sizes))
                tree, files, images = tree_size(work / "mirror")
                print(
                    f"day {day + 1}: run {took:.1f} s; tree {mb(tree)} MB in {files:,} files ({mb(images)} MB images);"
                    f" repository with history {mb(sizes[0])} MB, squashed {mb(sizes[1])} MB"
                )
            else:
                print(f"day {day + 1}: run {took:.1f} s")
    finally:
        server.shutdown()
    (last_day, last_history, last_squashed) = samples[-1]
    (first_day, first_history, first_squashed) = samples[-2] if len(samples) > 1 else (0, 0, 0)
    span = last_day - first_day
    per_day_history = (last_history - first_history) / span
    per_day_squashed = (last_squashed - first_squashed) / span
    year_history = last_history + per_day_history * (365 - last_day)
    year_squashed = last_squashed + per_day_squashed * (365 - last_day)
    articles = CHANNELS * args.per_day
    print()
    print(f"{args.days} days in {time.perf_counter() - started:.0f} s; {articles:,} articles a day")
    print(
        f"growth from day {first_day} to day {last_day}: history {mb(per_day_history)} MB/day "
        f"({per_day_history / articles / 1e3:.0f} KB per article), squashed {mb(per_day_squashed)} MB/day"
    )
    print(
        "the squashed repository holds only the tree, which stops growing once every channel has "
        "keep_per_channel (500) articles" + (f" (day {500 // args.per_day + 1})" if args.per_day else "")
    )
    print(f"history_mb: {mb(last_history)}")
    print(f"squashed_mb: {mb(last_squashed)}")
    print(f"year_history_mb: {mb(year_history)}")
    print(f"year_squashed_mb: {mb(year_squashed)}")
    if not args.dir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
