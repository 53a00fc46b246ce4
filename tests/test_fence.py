"""The private-address fence of the HTTP client. Nothing here connects to any address but
127.0.0.1: names are mapped to addresses by an injected resolver, and refusals happen
before any connection (which the tests check by recording every connection attempt)."""

from __future__ import annotations

import asyncio
import io
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import httpcore
import pytest
from PIL import Image
from pytest_httpserver import HTTPServer

from newsmirror import http as http_module
from newsmirror.config import Config, HttpConfig, parse_config
from newsmirror.errors import BlockedAddressError
from newsmirror.http import HttpClient, address_kind
from newsmirror.store import Store
from newsmirror.sync import sync

# Test names and what they "resolve" to. Only the 127.0.0.1 ones are ever connected to.
NAMES = {"news.test": "127.0.0.1", "internal.test": "127.0.0.1", "metadata.test": "169.254.169.254"}


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


BODY = "<p>" + "这是一篇正常的新闻文章，内容足够长，足以被当作正文提取出来。" * 4 + "</p>"


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    with HTTPServer(host="127.0.0.1") as httpserver:
        yield httpserver


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every address a connection is attempted to, and names resolved through the test table."""
    attempts: list[str] = []
    connect = httpcore.AnyIOBackend.connect_tcp

    async def recording(self: httpcore.AnyIOBackend, host: str, port: int, *args: object, **kwargs: object):
        attempts.append(host)
        assert host == "127.0.0.1", f"a test tried to connect to {host}"
        return await connect(self, host, port, *args, **kwargs)  # type: ignore[arg-type]

    async def resolve(host: str, port: int) -> list[str]:
        attempts.append(f"resolve {host}")
        if host in NAMES:
            return [NAMES[host]]
        ipaddress.ip_address(host)  # anything else must be a literal address in these tests
        return [host]

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", recording)
    monkeypatch.setattr(http_module, "system_resolver", resolve)
    return attempts


def get(url: str, **http: object) -> http_module.Response:
    async def go() -> http_module.Response:
        async with HttpClient(HttpConfig(retries=0, **http)) as client:  # type: ignore[arg-type]
            return await client.get(url)

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.5", "private"),
        ("172.16.3.4", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "private"),  # carrier-grade NAT
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:a00:5::", "private"),  # 6to4 of 10.0.0.5
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("93.184.215.14", None),
        ("2606:4700::1111", None),
    ],
)
def test_address_kinds(address: str, kind: str | None) -> None:
    assert address_kind(ipaddress.ip_address(address)) == kind


def test_loopback_and_metadata_addresses_are_refused_before_connecting(
    server: HTTPServer, connections: list[str]
) -> None:
    server.expect_request("/secret").respond_with_data("internal page")
    for url in (server.url_for("/secret"), "http://169.254.169.254/latest/meta-data/", "http://localhost:1/"):
        with pytest.raises(BlockedAddressError) as refused:
            get(url)
        assert str(refused.value).startswith(url) and "refused" in str(refused.value), refused.value
        assert "http.allow_private" in str(refused.value)
    assert connections == []
    assert len(server.log) == 0


def test_a_name_resolving_to_a_private_address_is_refused_before_connecting(connections: list[str]) -> None:
    with pytest.raises(BlockedAddressError, match=r"metadata\.test resolves to 169\.254\.169\.254, a link-local"):
        get("http://metadata.test/latest/meta-data/")
    assert connections == ["resolve metadata.test"]  # looked up once, never connected to


def test_a_redirect_from_an_allowed_name_to_loopback_is_refused(server: HTTPServer, connections: list[str]) -> None:
    port = server.port
    server.expect_request("/start").respond_with_data(
        "", status=302, headers={"Location": f"http://127.0.0.1:{port}/secret"}
    )
    server.expect_request("/by-name").respond_with_data(
        "", status=302, headers={"Location": f"http://internal.test:{port}/secret"}
    )
    server.expect_request("/secret").respond_with_data("internal page")
    with pytest.raises(BlockedAddressError, match=r"127\.0\.0\.1 is a loopback address"):
        get(f"http://news.test:{port}/start", allow_private=["news.test"])
    with pytest.raises(BlockedAddressError, match=r"internal\.test resolves to 127\.0\.0\.1, a loopback address"):
        get(f"http://news.test:{port}/by-name", allow_private=["news.test"])
    assert [request.path for request, _ in server.log] == ["/start", "/by-name"]


def test_the_checked_address_is_the_one_connected_to(server: HTTPServer, connections: list[str]) -> None:
    server.expect_request("/page").respond_with_data("hello")
    response = get(f"http://news.test:{server.port}/page", allow_private=["news.test"])
    assert response.content == b"hello"
    # news.test exists only in the test resolver: the connection used the address it gave
    # (no second lookup that a rebinding DNS server could answer differently), and the name
    # was kept for the Host header.
    assert connections == ["resolve news.test", "127.0.0.1"]
    request = server.log[0][0]
    assert request.headers["Host"] == f"news.test:{server.port}"


def test_the_switch_and_the_allow_list_open_the_fence(server: HTTPServer, connections: list[str]) -> None:
    server.expect_request("/page").respond_with_data("hello")
    assert get(server.url_for("/page"), allow_private=True).content == b"hello"
    assert get(server.url_for("/page"), allow_private=["127.0.0.0/8"]).content == b"hello"
    with pytest.raises(BlockedAddressError):
        get(server.url_for("/page"), allow_private=["10.0.0.0/8", "intranet.example"])


def mirror_config(tmp_path: Path, feed: str, allow: str) -> Config:
    return parse_config(
        f'[mirror]\nstore = "store.db"\n[http]\nretries = 0\nallow_private = {allow}\n'
        f'[[site]]\nid = "s"\nname = "S"\ncontent = "article"\n'
        f'[[site.channel]]\nid = "c"\nname = "C"\nfeed = "{feed}"\n',
        root=tmp_path,
    )


@pytest.mark.parametrize("switch", ["off", "on"])
def test_a_feed_pointing_inside_the_server(
    tmp_path: Path, server: HTTPServer, connections: list[str], switch: str
) -> None:
    """Items and images at 127.0.0.1 and 169.254.169.254: refused with the switch off, the
    loopback ones fetched with it on (169.254.169.254 stays refused: no test may reach it)."""
    port = server.port
    inside = f"http://127.0.0.1:{port}"
    items = [f"{inside}/inside.html", "http://169.254.169.254/latest/meta-data/", f"http://news.test:{port}/a.html"]
    server.expect_request("/feed.xml").respond_with_data(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>'
        + "".join(f"<item><title>T{n}</title><link>{link}</link></item>" for n, link in enumerate(items))
        + "</channel></rss>",
        content_type="application/rss+xml",
    )
    page = "<html><body><article><h1>T</h1>{}</article></body></html>"
    images = f'<p><img src="{inside}/secret.png" width="400"><img src="http://169.254.169.254/x.png" width="400"></p>'
    server.expect_request("/a.html").respond_with_data(page.format(BODY + images), content_type="text/html")
    server.expect_request("/inside.html").respond_with_data(page.format(BODY), content_type="text/html")
    server.expect_request("/secret.png").respond_with_data(png(), content_type="image/png")
    allow = '["news.test"]' if switch == "off" else '["news.test", "127.0.0.1"]'
    config = mirror_config(tmp_path, f"http://news.test:{port}/feed.xml", allow)
    warnings: list[str] = []

    class Progress:
        def feed(self, *args: object) -> None: ...
        def found(self, count: int) -> None: ...
        def polling(self, feeds: int) -> None: ...
        def article(self, *args: object) -> None: ...
        def warning(self, message: str) -> None:
            warnings.append(message)

    with Store(config.store_path) as store:
        summary = asyncio.run(sync(config, store, progress=Progress()))
        urls = {article.url for article in store.articles("s", "c")}
        stored_images = store.image_data(f"{inside}/secret.png") is not None
    metadata_errors = [e for e in summary.errors if "169.254.169.254" in e]
    assert len(metadata_errors) == 1 and metadata_errors[0].startswith("article s/c/"), summary.errors
    assert "link-local address: refused" in metadata_errors[0]
    assert any("image http://169.254.169.254/x.png" in w and "refused" in w for w in warnings), warnings
    assert f"http://news.test:{port}/a.html" in urls
    if switch == "off":
        assert any(e.startswith("article s/c/") and "127.0.0.1 is a loopback address" in e for e in summary.errors)
        assert any(f"image {inside}/secret.png" in w and "refused" in w for w in warnings), warnings
        assert f"{inside}/inside.html" not in urls and not stored_images
        assert {request.path for request, _ in server.log} == {"/feed.xml", "/a.html"}
    else:
        assert f"{inside}/inside.html" in urls and stored_images
        assert {request.path for request, _ in server.log} == {"/feed.xml", "/a.html", "/inside.html", "/secret.png"}
    assert not any(c.startswith("169.254") for c in connections)
