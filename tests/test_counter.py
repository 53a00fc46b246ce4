"""The view counter: the service as a real subprocess on 127.0.0.1, real HTTP requests, the real store."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from newsmirror import counter as counter_module
from newsmirror.counter import PIXEL_GIF, AddressFreeFormatter, CounterService, ViewTally
from newsmirror.models import Article, ArticleKey, utcnow
from newsmirror.store import Store

ARTICLES = [
    ArticleKey("kzg", "p9", "1029400"),
    ArticleKey("kzg", "p9", "trump-visit-3f2a9c01de"),
    ArticleKey("bbc", "world_news", "a_1"),
]
USER_AGENT = "reader-agent-7f3e/1.0"
COOKIE = "session=cookie-5d1c9a"


@dataclass
class Counter:
    base: str
    port: int
    process: subprocess.Popen[bytes]
    store: Path | str
    cwd: Path
    stdout: Path
    stderr: Path

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers={"User-Agent": USER_AGENT, "Cookie": COOKIE}, timeout=5)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=15)

    def views(self) -> dict[ArticleKey, int]:
        with Store(self.store, readonly=True) as store:
            return store.view_totals()

    def wait_for_views(self, expected: dict[ArticleKey, int], timeout: float = 5.0) -> dict[ArticleKey, int]:
        """Poll the store until it holds ``expected`` (the service saves every second)."""
        deadline = time.monotonic() + timeout
        while True:
            views = self.views()
            if views == expected or time.monotonic() > deadline:
                return views
            time.sleep(0.1)

    def logs(self) -> str:
        return self.stdout.read_text("utf-8", "replace") + self.stderr.read_text("utf-8", "replace")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _make_store(path: Path | str) -> None:
    with Store(path) as store:
        for key in ARTICLES:
            store.save_article(
                Article(
                    site=key.site,
                    channel=key.channel,
                    id=key.id,
                    url=f"https://news.example/{key.id}.html",
                    title=f"title {key.id}",
                    markdown="body",
                    html="<p>body</p>",
                    published=utcnow(),
                    fetched=utcnow(),
                )
            )


def _start(tmp_path: Path, *args: str, store: Path | str | None = None) -> Counter:
    """A counter on ``store`` (default: a new SQLite store in ``tmp_path``), once it answers."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    if store is None:
        store = tmp_path / "store.db"
        _make_store(store)
    config = tmp_path / "newsmirror.toml"
    config.write_text(f'[mirror]\nstore = "{store}"\ncounter_url = "https://counter.example"\n', "utf-8")
    port = _free_port()
    stdout, stderr = tmp_path / "stdout.log", tmp_path / "stderr.log"
    env = {k: v for k, v in os.environ.items() if k != "FORWARDED_ALLOW_IPS"}
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "newsmirror.cli", "counter", "-c", str(config), "--port", str(port), *args],
            cwd=tmp_path,
            stdout=out,
            stderr=err,
            env=env,
        )
    counter = Counter(f"http://127.0.0.1:{port}", port, process, store, tmp_path, stdout, stderr)
    deadline = time.monotonic() + 15
    while True:
        try:
            httpx.get(counter.base + "/", timeout=1)
            return counter
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                counter.stop()
                raise AssertionError(f"counter did not start:\n{counter.logs()}") from None
            time.sleep(0.05)


@pytest.fixture
def counter(tmp_path: Path) -> Iterator[Counter]:
    service = _start(tmp_path)
    yield service
    service.stop()


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[Counter]:
    service = _start(tmp_path, "--trust-proxy")
    yield service
    service.stop()


def _url(key: ArticleKey) -> str:
    return f"/v/{key.site}/{key.channel}/{key.id}.gif"


def _raw_get(port: int, target: bytes) -> tuple[bytes, bytes]:
    """Send a request line exactly as given (no client normalises it); return (status line, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: counter\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], body


def test_known_ids_count_and_every_answer_is_the_uncacheable_pixel(counter: Counter) -> None:
    with counter.client() as client:
        first = client.get(_url(ARTICLES[0]))
        client.get(_url(ARTICLES[1]))
        head = client.head(_url(ARTICLES[2]))  # a HEAD sees no image: not a view
    assert first.status_code == 200
    assert first.content == PIXEL_GIF and first.content.startswith(b"GIF89a") and len(first.content) == 43
    assert first.headers["content-type"] == "image/gif"
    assert first.headers["cache-control"] == "no-store, no-cache, must-revalidate, private, max-age=0"
    assert first.headers["pragma"] == "no-cache"
    assert first.headers["expires"] == "0"
    for header in ("set-cookie", "etag", "last-modified", "server"):
        assert header not in first.headers
    assert head.status_code == 200 and head.content == b""
    assert counter.wait_for_views({ARTICLES[0]: 1, ARTICLES[1]: 1}) == {ARTICLES[0]: 1, ARTICLES[1]: 1}


def test_unknown_ids_and_malformed_paths_get_the_pixel_count_nothing_and_touch_no_file(counter: Counter) -> None:
    # Decoys where a path-building server would look: none may be served, changed or counted.
    decoy = b"not the pixel"
    (counter.cwd / "v" / "kzg" / "p9").mkdir(parents=True)
    (counter.cwd / "v" / "kzg" / "p9" / "decoy.gif").write_bytes(decoy)
    (counter.cwd / "secret.gif").write_bytes(decoy)
    before = sorted(p.relative_to(counter.cwd) for p in counter.cwd.rglob("*") if "store.db" not in p.name)
    known = _url(ARTICLES[0]).encode()
    targets = [
        b"/v/kzg/p9/decoy.gif",  # well formed, not in the store
        b"/v/kzg/p9/999999.gif",
        b"/v/nosuchsite/p9/1029400.gif",
        b"/v/../secret.gif",
        b"/v/kzg/p9/../../../secret.gif",
        b"/v/kzg/p9/..%2f..%2f..%2fsecret.gif",
        b"/v/%2e%2e/%2e%2e/secret.gif",
        b"/v/kzg/p9/%2e%2e%2f1029400.gif",
        b"/v/kzg/%70%39/1029400.gif",  # percent-encoded "p9": only the exact form counts
        b"/v/kzg/p9/1029400.gif%00",
        b"/v/kzg/p9/1029400.gif/x",
        b"/v/kzg/p9/1029400.png",
        b"/v/KZG/p9/1029400.gif",
        b"/v/kzg/p9/" + b"a" * 4000 + b".gif",
        b"/v/kzg/p9/1029400.gif" + b"/" * 300,
        b"//v/kzg/p9/1029400.gif",
        b"/etc/passwd",
        b"/",
        b"*",
    ]
    for target in targets:
        status, body = _raw_get(counter.port, target)
        assert body == PIXEL_GIF, (target[:80], status)
    with counter.client() as client:
        assert client.post(known.decode()).content == PIXEL_GIF  # not a GET: no view either
        assert client.get(known.decode()).status_code == 200  # the one real view, to know a save happened
    assert counter.wait_for_views({ARTICLES[0]: 1}) == {ARTICLES[0]: 1}
    after = sorted(p.relative_to(counter.cwd) for p in counter.cwd.rglob("*") if "store.db" not in p.name)
    assert after == before
    assert (counter.cwd / "secret.gif").read_bytes() == decoy


def test_repeats_from_one_client_count_once_and_untrusted_forwarded_for_is_ignored(counter: Counter) -> None:
    with counter.client() as client:
        for _ in range(3):
            client.get(_url(ARTICLES[0]))
        # Without --trust-proxy anyone could forge X-Forwarded-For: these are all the same client.
        for address in ("203.0.113.7", "203.0.113.8", "198.51.100.23"):
            client.get(_url(ARTICLES[1]), headers={"X-Forwarded-For": address})
    expected = {ARTICLES[0]: 1, ARTICLES[1]: 1}
    assert counter.wait_for_views(expected) == expected
    assert counter.stop() in (0, -signal.SIGTERM)


def test_two_counters_on_one_postgresql_store_lose_no_view(tmp_path: Path, postgres_url: str) -> None:
    """Several `counter` instances (behind one proxy, on several machines) add to the same views table."""
    _make_store(postgres_url)
    counters = [_start(tmp_path / f"counter{n}", "--trust-proxy", store=postgres_url) for n in range(2)]
    try:

        def reader(service: Counter, first: int) -> None:
            with service.client() as client:
                for n in range(first, first + 60):
                    address = f"198.51.{n // 250}.{n % 250 + 1}"  # each a reader of its own
                    assert client.get(_url(ARTICLES[0]), headers={"X-Forwarded-For": address}).status_code == 200
                    client.get(_url(ARTICLES[1]), headers={"X-Forwarded-For": address})

        # Both at once, two readers each: the two processes' writes meet in the one table.
        threads = [threading.Thread(target=reader, args=(counters[k % 2], 60 * k)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        expected = {ARTICLES[0]: 240, ARTICLES[1]: 240}
        assert counters[0].wait_for_views(expected, timeout=10) == expected
    finally:
        codes = [service.stop() for service in counters]
    # uvicorn ends a graceful SIGTERM shutdown by raising the signal again.
    assert all(code in (0, -signal.SIGTERM) for code in codes), [service.logs() for service in counters]
    assert all("stopped;" in service.logs() for service in counters)
    assert counters[0].views() == expected


def test_behind_a_trusted_proxy_each_forwarded_client_counts_once(proxied: Counter) -> None:
    with proxied.client() as client:
        for address in ("203.0.113.7", "203.0.113.7", "203.0.113.8", "198.51.100.23", "2001:db8::7", "2001:db8::7"):
            client.get(_url(ARTICLES[0]), headers={"X-Forwarded-For": address})
        client.get(_url(ARTICLES[1]), headers={"X-Forwarded-For": "203.0.113.7"})  # same client, other article
    expected = {ARTICLES[0]: 4, ARTICLES[1]: 1}
    assert proxied.wait_for_views(expected) == expected


def test_sigterm_saves_pending_views_and_no_client_address_is_written_anywhere(proxied: Counter) -> None:
    addresses = [f"203.0.113.{n}" for n in range(1, 41)] + ["198.51.100.23", "2001:db8::7"]
    with proxied.client() as client:
        for address in addresses:
            assert client.get(_url(ARTICLES[2]), headers={"X-Forwarded-For": address}).status_code == 200
        client.get(_url(ARTICLES[0]))  # the direct client, 127.0.0.1
    proxied.stop()  # at once: most views are still in memory
    assert proxied.views() == {ARTICLES[2]: len(addresses), ARTICLES[0]: 1}

    logs = proxied.logs()
    assert "stopped; 43 views saved" in logs
    stored = b"".join(p.read_bytes() for p in proxied.cwd.glob("store.db*"))  # the database, -wal and -shm
    for secret in ["127.0.0.1", *addresses, USER_AGENT, COOKIE, "reader-agent", "cookie-5d1c9a"]:
        assert secret.encode() not in stored, secret
        assert secret not in logs, secret


def test_a_crash_loses_at_most_the_last_second(proxied: Counter) -> None:
    with proxied.client() as client:
        for n in range(20):
            client.get(_url(ARTICLES[1]), headers={"X-Forwarded-For": f"203.0.113.{n + 1}"})
    # The periodic save (every second) stores them without any shutdown; a loaded machine may take longer.
    assert proxied.wait_for_views({ARTICLES[1]: 20}, timeout=15) == {ARTICLES[1]: 20}
    proxied.process.kill()  # SIGKILL: no shutdown, nothing saved at exit
    proxied.process.wait(timeout=10)
    assert proxied.views() == {ARTICLES[1]: 20}
    assert "stopped" not in proxied.logs()


def test_tally_window_expiry_daily_salt_and_bounded_memory() -> None:
    now = [1000.0]
    wall = [1_700_000_000.0]  # 2023-11-14 22:13:20 UTC
    tally = ViewTally(60, max_clients=3, monotonic=lambda: now[0], wallclock=lambda: wall[0])
    key = ArticleKey("kzg", "p9", "1029400")
    tally.known = {key}
    path = b"/v/kzg/p9/1029400.gif"
    assert tally.view(path, "a") and not tally.view(path, "a")
    now[0] += 61  # the window has passed: a new view
    assert tally.view(path, "a")
    assert [tally.view(path, client) for client in "bcd"] == [True, True, True]
    assert tally.clients_remembered == 3  # "a" was dropped to stay within max_clients
    assert tally.view(path, "a")
    now[0] += 30
    tally.forget_expired()
    assert tally.clients_remembered == 3
    now[0] += 31
    tally.forget_expired()  # the window of every entry has passed
    assert tally.clients_remembered == 0
    assert tally.view(path, "e")
    assert not tally.view(path, "e")
    wall[0] += 2 * 3600  # past UTC midnight: new salt, empty table, a new day's bucket
    assert tally.view(path, "e")
    assert tally.clients_remembered == 1
    taken = tally.take()
    assert {day: dict(counts) for day, counts in taken.items()} == {"2023-11-14": {key: 7}, "2023-11-15": {key: 1}}
    assert tally.take() == {}
    tally.give_back(taken)
    assert sum(sum(c.values()) for c in tally.take().values()) == 8
    assert not tally.view(b"/v/kzg/p9/other.gif", "z")  # not a stored article


def test_a_failed_save_keeps_its_views_for_the_next_save(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(counter_module, "FLUSH_SECONDS", 3600.0)  # only the explicit flushes below save
    store = tmp_path / "store.db"
    _make_store(store)

    async def run() -> None:
        service = CounterService(store, ViewTally(60))
        await service.start()
        try:
            for client in ("a", "b"):
                assert service.tally.view(_url(ARTICLES[0]).encode(), client)
            with sqlite3.connect(store) as db:  # the store's table goes away under the service
                db.execute("ALTER TABLE views RENAME TO views_away")
            await service.flush()
            assert service.saved == 0
            with sqlite3.connect(store) as db:
                db.execute("ALTER TABLE views_away RENAME TO views")
            await service.flush()
            assert service.saved == 2
        finally:
            await service.stop()

    asyncio.run(run())
    with Store(store, readonly=True) as opened:
        assert opened.view_totals() == {ARTICLES[0]: 2}


def test_stopping_during_a_periodic_save_lets_it_finish_and_counts_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(counter_module, "FLUSH_SECONDS", 0.2)
    store = tmp_path / "store.db"
    _make_store(store)
    saving = threading.Event()
    real_add_views = Store.add_views

    def slow_add_views(self: Store, *args: object, **kwargs: object) -> None:
        saving.set()
        time.sleep(0.5)  # a slow disk: the stop comes while the save is in hand
        real_add_views(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Store, "add_views", slow_add_views)

    async def run() -> CounterService:
        service = CounterService(store, ViewTally(60))
        await service.start()
        for client in ("a", "b", "c"):
            assert service.tally.view(_url(ARTICLES[0]).encode(), client)
        while not saving.is_set():
            await asyncio.sleep(0.01)
        await service.stop()
        return service

    service = asyncio.run(run())
    assert service.saved == 3  # the save the stop met is counted ("stopped; 3 views saved")
    with Store(store, readonly=True) as opened:
        assert opened.view_totals() == {ARTICLES[0]: 3}


def test_log_lines_never_carry_an_address() -> None:
    record = logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, "peer %s:%d then %s, %s and %s", None, None)
    record.args = ("203.0.113.7", 443, "2001:db8::7", "::ffff:198.51.100.23", "fe80:0:0:0:200:5efe:c0a8:1")
    line = AddressFreeFormatter("%(asctime)s %(message)s").format(record)
    assert line.endswith("peer [address]:443 then [address], [address] and [address]")
    assert record.asctime in line  # times such as 03:30:12 are not addresses
