"""`newsmirror worker`: real worker processes against the sample sites, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from newsmirror.config import load_config
from newsmirror.demosite import DemoSite
from newsmirror.errors import StoreError
from newsmirror.models import article_id
from newsmirror.store import Store
from postgres import PostgresServer


def write_config(tmp_path: Path, demo: DemoSite, store: Path | str) -> Path:
    config = tmp_path / "newsmirror.toml"
    text = demo.config_toml(output=str(tmp_path / "mirror"), store=str(store))
    # A short lease, so that a killed worker's feeds are taken over within seconds.
    config.write_text(text + '\n[schedule]\nlease = "3s"\n', "utf-8")
    return config


def start_worker(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "newsmirror.cli", "worker", "--config", str(config)], stdout=out, stderr=out
        )


def stored_count(store: Path | str) -> int:
    try:
        with Store(store, readonly=True) as opened:
            return len(opened.article_keys())
    except Exception:  # not created yet
        return 0


def wait_for(condition, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def article_paths(demo: DemoSite) -> list[str]:
    return [a.url.split(demo.base_url, 1)[1] for a in demo.expected.all_articles()]


def test_one_worker_on_sqlite_refuses_a_second_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    with DemoSite(slow_delay=0.2) as demo:
        store = tmp_path / "store.db"
        config = write_config(tmp_path, demo, store)
        worker = start_worker(config, tmp_path / "worker.log")
        try:
            expected = len(demo.expected.all_articles())
            wait_for(lambda: stored_count(store) == expected)
            second = subprocess.run(
                [sys.executable, "-m", "newsmirror.cli", "worker", "--config", str(config)],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert second.returncode == 3
            assert "another newsmirror worker is already running on the SQLite store" in second.stderr
            assert "postgresql://" in second.stderr and "\n" not in second.stderr.strip()
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0
        finally:
            if worker.poll() is None:
                worker.kill()
        log = (tmp_path / "worker.log").read_text("utf-8")
        assert "stopped" in log.splitlines()[-1] and "feeds:" in log
        # Nothing is due any more: no feed was asked twice.
        feeds = Counter(r.path for r in demo.requests if r.path.endswith(".xml"))
        assert feeds and set(feeds.values()) == {1}, feeds


def test_two_workers_on_postgresql_store_every_article_once(tmp_path: Path, postgres_url: str) -> None:
    with DemoSite(slow_delay=0.5) as demo:
        config = write_config(tmp_path, demo, postgres_url)
        workers = [start_worker(config, tmp_path / f"worker{i}.log") for i in range(2)]
        try:
            expected = len(demo.expected.all_articles())
            wait_for(lambda: stored_count(postgres_url) == expected)
            time.sleep(1)  # anything either of them would still fetch
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            assert [worker.wait(timeout=30) for worker in workers] == [0, 0]
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
        requests = Counter(r.path for r in demo.requests)
        # Each feed polled by one of them, each article page fetched once at most (some come in their feed).
        assert all(requests[path] <= 1 for path in article_paths(demo)), requests
        assert sum(requests[path] for path in article_paths(demo)) > 10
        assert all(n == 1 for path, n in requests.items() if path.endswith(".xml")), requests
        assert stored_count(postgres_url) == expected


def test_a_worker_killed_mid_run_has_its_feeds_finished_by_the_other(tmp_path: Path, postgres_url: str) -> None:
    with DemoSite(slow_delay=30) as demo:  # the slow article holds its feed in the first worker's hands
        config = write_config(tmp_path, demo, postgres_url)
        first = start_worker(config, tmp_path / "first.log")
        other = None
        try:
            wait_for(lambda: stored_count(postgres_url) >= 10)
            assert first.poll() is None
            other = start_worker(config, tmp_path / "other.log")
            time.sleep(1)
            os.kill(first.pid, signal.SIGKILL)
            first.wait()
            demo.slow_delay = 0.2
            expected = len(demo.expected.all_articles())
            wait_for(lambda: stored_count(postgres_url) == expected, timeout=90)
            other.send_signal(signal.SIGTERM)
            assert other.wait(timeout=30) == 0
        finally:
            for worker in (first, other):
                if worker is not None and worker.poll() is None:
                    worker.kill()
        # The slow article was in the killed worker's hands; the other one stored it.
        other_log = (tmp_path / "other.log").read_text("utf-8")
        assert demo.expected.slow and all(f"/{article_id(url)}: new" in other_log for url in demo.expected.slow)


def test_a_worker_whose_database_connection_drops_exits_with_one_line_for_systemd_to_restart_it(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    name = "worker_dropped"
    url = postgres.create_database(name)
    with DemoSite(slow_delay=0.5) as demo:
        config = write_config(tmp_path, demo, url)
        log = tmp_path / "worker.log"
        worker = start_worker(config, log)
        try:
            wait_for(lambda: stored_count(url) >= 5)
            assert postgres.drop_connections(name) >= 1  # as a restart of the server does
            code = worker.wait(timeout=60)
        finally:
            if worker.poll() is None:
                worker.kill()
        # The demo's pages that answer 404 may be fetched before the drop, under load; their errors are not the store's.
        missing = demo.expected.not_found
        errors = [
            line
            for line in log.read_text("utf-8").splitlines()
            if line.startswith("error:") and not any(f"{url}: HTTP 404" in line for url in missing)
        ]
        # Not a crash (exit 4, a traceback): the store's own error, one line, then systemd's Restart=always.
        assert code == StoreError.exit_code, log.read_text("utf-8")[-2000:]
        assert len(errors) == 1 and "Traceback" not in log.read_text("utf-8"), errors
        assert "password" not in errors[0]
        # Restarted, it carries on: every article stored once the server is back.
        again = start_worker(config, log)
        try:
            expected = len(demo.expected.all_articles())
            wait_for(lambda: stored_count(url) == expected, timeout=90)
            again.send_signal(signal.SIGTERM)
            assert again.wait(timeout=30) == 0
        finally:
            if again.poll() is None:
                again.kill()


def test_a_worker_rechecks_too_and_catches_edits_and_deletions_within_its_share(tmp_path: Path) -> None:
    """A mirror run by workers alone: their rechecks find a silent edit and a deletion at the source,
    and they spend at most recheck_share of the worker's requests."""
    with DemoSite(slow_delay=0.1) as demo:
        store = tmp_path / "store.db"
        config = tmp_path / "newsmirror.toml"
        text = demo.config_toml(output=str(tmp_path / "mirror"), store=str(store))
        # The sample articles are from March 2026; a recheck period of 3.6 s; feeds polled every 1-2 s.
        settings = 'images = "link"\nrecheck_days = 10000\nrecheck_hours = 0.001\nrecheck_share = 0.5\n'
        text = text.replace("[mirror]\n", "[mirror]\n" + settings, 1)
        config.write_text(text + '\n[schedule]\nlease = "3s"\nmin_interval = "1s"\nmax_interval = "2s"\n', "utf-8")
        from_feed = tuple(f"/{site.id}/" for site in load_config(config).sites if site.body_from_feed)
        world = [i for i in demo._items["cgw"] if i.channel == "world" and not i.missing and not i.video]
        edited, gone = world[0], world[-1]
        edited_url, gone_url = demo.base_url + edited.path, demo.base_url + gone.path

        def caught() -> bool:
            with Store(store, readonly=True) as opened:
                keys = {h.key.id for h in opened.deleted_heads()}
                return article_id(gone_url) in keys and any(
                    len(opened.revisions(key)) == 1 for key in opened.article_keys() if key.id == edited.key
                )

        worker = start_worker(config, tmp_path / "worker.log")
        try:
            wait_for(lambda: stored_count(store) == len(demo.expected.all_articles()))
            demo.edit_article(edited_url, "二十个沿海国家", "二十二个沿海国家")  # silent: its feed entry stays
            demo.delete_article(gone_url, "404")
            wait_for(caught, timeout=120)
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0
        finally:
            if worker.poll() is None:
                worker.kill()
    log = (tmp_path / "worker.log").read_text("utf-8")
    assert "deleted at the source" in log
    pages = {i.path for items in demo._items.values() for i in items}
    # A recheck asks with the validators of the page's last answer; a page whose text comes from its
    # feed was never fetched, so its first recheck asks without.
    rechecks = [r for r in demo.requests if r.path in pages and (r.conditional or r.path.startswith(from_feed))]
    others = len(demo.requests) - len(rechecks)
    reported = sum(int(n) for n in re.findall(r"; rechecked (\d+),", log))
    assert 0 < reported <= len(rechecks) <= others, (reported, len(rechecks), others)  # half of its requests at most


def test_two_workers_on_postgresql_keep_the_per_host_limit_together(tmp_path: Path, postgres_url: str) -> None:
    """http.per_host holds across workers, counted at the sample server: each worker alone could send
    per_host requests at once, so two would send twice as many without the slots in the store."""
    with DemoSite(slow_delay=0.5, latency=0.1) as demo:  # every response takes a while: requests overlap
        config = write_config(tmp_path, demo, postgres_url)
        config.write_text(config.read_text("utf-8").replace("per_host = 4", "per_host = 2"), "utf-8")
        workers = [start_worker(config, tmp_path / f"worker{i}.log") for i in range(2)]
        try:
            expected = len(demo.expected.all_articles())
            wait_for(lambda: stored_count(postgres_url) == expected, timeout=120)
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            assert [worker.wait(timeout=30) for worker in workers] == [0, 0]
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
        assert demo.most_in_flight == {"127.0.0.1": 2}
        # Both took part: the feeds of the one host were shared, not all claimed by the first to start.
        polled = [log.read_text("utf-8").count("feed ") for log in (tmp_path / "worker0.log", tmp_path / "worker1.log")]
        assert all(polled), polled


def test_build_and_publish_take_turns_across_processes_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    """The run lock of a PostgreSQL store is an advisory lock in the database: while one process's
    `run` holds it, `build` and `publish` from another exit 3 naming the holder; the server drops
    it when its holder is killed with -9, and the next build goes ahead."""
    with DemoSite(slow_delay=60) as demo:  # the slow article keeps the first run's sync, and its lock, going
        config = write_config(tmp_path, demo, postgres_url)
        with open(tmp_path / "run.log", "wb") as out:
            holder = subprocess.Popen(
                [sys.executable, "-m", "newsmirror.cli", "run", "--config", str(config)], stdout=out, stderr=out
            )
        try:
            wait_for(lambda: stored_count(postgres_url) >= 10)
            for command in ("build", "publish", "run"):
                other = subprocess.run(
                    [sys.executable, "-m", "newsmirror.cli", command, "--config", str(config)],
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
                assert other.returncode == 3, (command, other.stderr)
                assert "another newsmirror run is still going on the store postgresql://" in other.stderr
                assert f"run:{socket.gethostname()}:{holder.pid}" in other.stderr  # the holder, by name and pid
            assert not (tmp_path / "mirror").exists()  # nothing was built behind the holder's back
            os.kill(holder.pid, signal.SIGKILL)
            holder.wait()
            built = subprocess.run(
                [sys.executable, "-m", "newsmirror.cli", "build", "--config", str(config)],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert built.returncode == 0, built.stderr
            assert (tmp_path / "mirror" / "README.md").exists()
        finally:
            if holder.poll() is None:
                holder.kill()
