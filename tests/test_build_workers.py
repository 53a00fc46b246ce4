"""build: article pages and QR codes made by worker processes are the bytes the build makes by itself."""

from __future__ import annotations

import hashlib
import os
import signal
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import pytest

from newsmirror.config import Config
from newsmirror.layout import page_path, qr_path
from newsmirror.render import article_work, build
from newsmirror.render.article_work import Batch, Made, Makers
from newsmirror.render.manifest import parse_manifest
from newsmirror.store import Store
from test_build import article, make_config

pytestmark = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the worker pool is only used with two CPUs or more")

# With a copy in traditional script, each article makes two pages and two QR codes: enough for the pool.
ARTICLES = article_work.POOL_MIN // 4 + 10


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def configs(tmp_path: Path) -> tuple[Config, Config]:
    """Two configs alike but for their output folder."""
    extra = 'variants = ["zh-Hant"]\n'
    return tuple(make_config(tmp_path / name, extra, keep=ARTICLES) for name in ("pooled", "here"))  # type: ignore[return-value]


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> list[ProcessPoolExecutor]:
    """The pools builds make."""
    made: list[ProcessPoolExecutor] = []

    def worker_pool(workers: int, preload: Sequence[str] = ()) -> ProcessPoolExecutor:
        made.append(real(workers, preload))
        return made[-1]

    real = article_work.worker_pool
    monkeypatch.setattr(article_work, "worker_pool", worker_pool)
    return made


def test_pages_made_by_worker_processes_are_the_bytes_made_here(
    tmp_path: Path, store: Store, pools: list[ProcessPoolExecutor], monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(ARTICLES):
        store.save_article(article(n, channel=("p9", "p1")[n % 2], author="记者" if n % 3 else ""))
    pooled, here = configs(tmp_path)
    assert pooled.output_dir != here.output_dir

    first = build(pooled, store)
    assert first.ok, first.errors
    assert len(pools) == 1
    monkeypatch.setattr(article_work, "POOL_MIN", 10**9)
    alone = build(here, store)
    assert alone.ok and len(pools) == 1
    assert sorted(first.written) == sorted(alone.written)
    made, expected = files(pooled.output_dir), files(here.output_dir)
    assert made == expected
    key = article(0).key
    assert {page_path(key), qr_path(key), f"zh-hant/{page_path(key)}", f"zh-hant/{qr_path(key)}"} <= set(made)
    assert "王毅抵達莫斯科" in made[f"zh-hant/{page_path(key)}"].decode()  # the copy is converted in the worker

    sums = parse_manifest(made["SHA256SUMS"].decode())  # hashed as the workers wrote them: the files' own
    assert sums == {path: hashlib.sha256(data).hexdigest() for path, data in made.items() if path != "SHA256SUMS"}

    again = build(pooled, store)  # what the workers wrote is in the manifest: nothing to make again
    assert again.ok and again.written == [] and len(pools) == 1


def test_a_worker_killed_mid_build_leaves_the_rest_to_the_build(
    tmp_path: Path, store: Store, pools: list[ProcessPoolExecutor], monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(ARTICLES):
        store.save_article(article(n))
    pooled, here = configs(tmp_path)
    real_answer = Makers._answer

    def answer(self: Makers, batch: Batch, future: Future[list[Made]] | None) -> tuple[Batch, list[Made]]:
        if pools and pools[0]._processes:  # while the pool lives, each answer waited for kills a worker
            os.kill(next(iter(pools[0]._processes)), signal.SIGKILL)
        answered = real_answer(self, batch, future)
        if future is None or future.exception() is not None:
            made_here.append(batch)
        return answered

    made_here: list[Batch] = []  # the batches the dead worker left to this process
    monkeypatch.setattr(Makers, "_answer", answer)
    result = build(pooled, store)
    assert result.ok, result.errors
    assert made_here
    monkeypatch.setattr(Makers, "_answer", real_answer)
    monkeypatch.setattr(article_work, "POOL_MIN", 10**9)
    assert build(here, store).ok
    assert files(pooled.output_dir) == files(here.output_dir)
