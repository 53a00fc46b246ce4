"""The HTTP client against a real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import threading
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from newsmirror.config import HttpConfig
from newsmirror.http import FetchError, HttpClient

FAST = HttpConfig(retries=2, backoff=0.01, connect_timeout=2, read_timeout=2, allow_private=True)


@pytest.fixture
def server():
    with HTTPServer(host="127.0.0.1", threaded=True) as httpserver:
        yield httpserver


def fetch(url: str, config: HttpConfig = FAST, **kwargs: str):
    async def go():
        async with HttpClient(config) as http:
            return await http.get(url, **kwargs)

    return asyncio.run(go())


def test_conditional_get_answers_304(server: HTTPServer) -> None:
    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response("<rss/>", headers={"ETag": '"v1"', "Last-Modified": "Wed, 25 Nov 2026 10:00:00 GMT"})

    server.expect_request("/feed.xml").respond_with_handler(handler)
    first = fetch(server.url_for("/feed.xml"))
    assert (first.status, first.etag, first.last_modified) == (200, '"v1"', "Wed, 25 Nov 2026 10:00:00 GMT")
    second = fetch(server.url_for("/feed.xml"), etag=first.etag, last_modified=first.last_modified)
    assert second.not_modified and second.content == b""
    assert server.log[-1][0].headers["If-Modified-Since"] == "Wed, 25 Nov 2026 10:00:00 GMT"


def test_retries_5xx_and_429_honouring_retry_after(server: HTTPServer) -> None:
    answers = iter([Response(status=503), Response(status=429, headers={"Retry-After": "1"}), Response("ok")])
    times: list[float] = []

    def handler(request: Request) -> Response:
        times.append(time.monotonic())
        return next(answers)

    server.expect_request("/flaky").respond_with_handler(handler)
    response = fetch(server.url_for("/flaky"))
    assert response.content == b"ok"
    assert len(times) == 3
    assert times[2] - times[1] >= 0.9  # waited as Retry-After asked


def test_gives_up_after_retries_with_one_line_error(server: HTTPServer) -> None:
    server.expect_request("/down").respond_with_data("no", status=502)
    with pytest.raises(FetchError) as error:
        fetch(server.url_for("/down"))
    assert len(server.log) == FAST.retries + 1
    assert str(error.value) == f"{server.url_for('/down')}: HTTP 502"


def test_404_is_not_retried(server: HTTPServer) -> None:
    server.expect_request("/gone").respond_with_data("missing", status=404)
    with pytest.raises(FetchError, match="HTTP 404") as error:
        fetch(server.url_for("/gone"))
    assert error.value.status == 404
    assert len(server.log) == 1


def test_size_cap_on_declared_and_on_decompressed_size(server: HTTPServer) -> None:
    config = HttpConfig(max_bytes=64 * 1024, retries=0, allow_private=True)
    server.expect_request("/big").respond_with_data(b"x" * (200 * 1024))
    bomb = gzip.compress(b"\0" * (5 * 1024 * 1024))  # 5 KB on the wire, 5 MB inflated
    server.expect_request("/bomb").respond_with_data(bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="too large"):
        fetch(server.url_for("/big"), config)
    with pytest.raises(FetchError, match="too large"):
        fetch(server.url_for("/bomb"), config)


def test_read_timeout_is_reported(server: HTTPServer) -> None:
    calls: list[float] = []

    def slow(request: Request) -> Response:
        calls.append(time.monotonic())
        time.sleep(1.0)
        return Response("late")

    server.expect_request("/slow").respond_with_handler(slow)
    config = HttpConfig(read_timeout=0.3, retries=1, backoff=0.01, allow_private=True)
    with pytest.raises(FetchError, match="timed out"):
        fetch(server.url_for("/slow"), config)
    assert len(calls) == 2  # retried once


def test_per_host_concurrency_is_bounded(server: HTTPServer) -> None:
    lock = threading.Lock()
    in_flight = peak = 0

    def handler(request: Request) -> Response:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.05)
        with lock:
            in_flight -= 1
        return Response("ok")

    server.expect_request("/page").respond_with_handler(handler)

    async def many():
        async with HttpClient(HttpConfig(concurrency=16, per_host=3, allow_private=True)) as http:
            return await asyncio.gather(*(http.get(server.url_for("/page")) for _ in range(12)))

    assert len(asyncio.run(many())) == 12
    assert 2 <= peak <= 3


def test_gbk_page_labelled_utf8_decodes_to_chinese(server: HTTPServer) -> None:
    text = "<html><body><p>中共中央外事工作委员会办公室主任抵达莫斯科，开始其访问行程。</p></body></html>"
    server.expect_request("/gbk").respond_with_data(text.encode("gbk"), content_type="text/html; charset=utf-8")
    assert fetch(server.url_for("/gbk")).text == text


def test_chinese_url_path_reaches_the_server(server: HTTPServer) -> None:
    server.expect_request("/新闻/1.html").respond_with_data("ok")
    assert fetch(server.url_for("/新闻/1.html")).content == b"ok"


def test_unreachable_host_is_one_line(server: HTTPServer) -> None:
    with pytest.raises(FetchError, match="cannot connect") as error:
        fetch("http://127.0.0.1:9/feed.xml", HttpConfig(retries=0, allow_private=True))
    assert "\n" not in str(error.value)


def test_a_busy_host_does_not_starve_the_others() -> None:
    started: list[str] = []

    def handler(request: Request) -> Response:
        started.append(request.path)
        time.sleep(0.1)
        return Response("ok")

    with HTTPServer(host="127.0.0.1", threaded=True) as busy, HTTPServer(host="127.0.0.2", threaded=True) as other:
        busy.expect_request("/a").respond_with_handler(handler)
        other.expect_request("/b").respond_with_handler(handler)

        async def many():
            async with HttpClient(HttpConfig(concurrency=4, per_host=2, allow_private=True)) as http:
                # Tasks for the busy host come first and outnumber its per-host slots.
                urls = [busy.url_for("/a")] * 8 + [other.url_for("/b")] * 2
                return await asyncio.gather(*(http.get(url) for url in urls))

        asyncio.run(many())
    # The other host is served in the first wave, beside the busy host's two slots.
    assert sorted(started[:4]) == ["/a", "/a", "/b", "/b"], started


def test_fetches_through_an_http_proxy(server: HTTPServer) -> None:
    # The test server plays the proxy: it receives the absolute-form request for a host
    # that does not resolve, which only a proxy can reach.
    server.expect_request("/news/feed.xml", headers={"Host": "news.invalid"}).respond_with_data("via proxy")
    config = HttpConfig(proxy=f"http://127.0.0.1:{server.port}", retries=0, allow_private=True)
    assert fetch("http://news.invalid/news/feed.xml", config).content == b"via proxy"
