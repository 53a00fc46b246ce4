"""The one HTTP client of newsmirror.

A single shared ``httpx.AsyncClient`` with: bounded concurrency overall and per
host, connect/read timeouts, retries with backoff on timeouts, 429 and 5xx
(honouring Retry-After), conditional GET (ETag / Last-Modified), a cap on the
response size that also holds for the decompressed body, a User-Agent and an
optional HTTP or SOCKS proxy.

The private-address fence: a feed names what the server fetches, so by default
no request may reach a loopback, private, link-local, multicast or reserved
address (the server's own services, its network, a cloud metadata address).
Every connection resolves the host once, checks every address it got, and
connects to a checked address, keeping the name for the Host header and TLS
(SNI): a DNS answer that changes between check and connect cannot slip past.
Every redirect is a new request, checked the same way. ``http.allow_private``
opens the fence, wholly or for listed hosts and networks. Through a proxy the
proxy resolves names (socks5h, and httpx's socks5 and HTTP proxies alike), so
only literal addresses and ``localhost`` can be refused here.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import random
import socket
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

import httpcore
import httpx

from newsmirror import charset
from newsmirror.config import HttpConfig
from newsmirror.errors import BlockedAddressError, FetchError

_RETRY_STATUS = {429, 500, 502, 503, 504}
_MAX_RETRY_AFTER = 120.0


@dataclass(slots=True)
class Response:
    url: str  # after redirects
    status: int
    content: bytes
    content_type: str
    etag: str
    last_modified: str
    # Seconds from Cache-Control: max-age (None without one, or with no-store/no-cache).
    max_age: float | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def text(self) -> str:
        return charset.decode(self.content, self.content_type)


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _max_age(value: str | None) -> float | None:
    """Seconds from a Cache-Control header's max-age; None when it has none or forbids caching."""
    directives = {
        part.strip().lower().partition("=")[0]: part.partition("=")[2].strip(' "') for part in (value or "").split(",")
    }
    if "no-store" in directives or "no-cache" in directives:
        return None
    age = directives.get("max-age", "")
    return float(age) if age.isdigit() else None


def _describe(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out waiting for the server"
    if isinstance(exc, httpx.ProxyError):
        return f"proxy error: {exc}"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {exc}" if str(exc) else "cannot connect"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


# host, port → the addresses to connect to (IPv4 or IPv6 text), in order of preference.
Resolver = Callable[[str, int], Awaitable[list[str]]]
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


async def system_resolver(host: str, port: int) -> list[str]:
    """The machine's own name resolution (getaddrinfo, in a thread)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_kind(address: IpAddress) -> str | None:
    """Why the mirror must not reach ``address`` ("loopback", "private", ...), or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4 address dressed as IPv6 is judged as itself.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return address_kind(embedded)
    for kind, test in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
        ("private", address.is_private or not address.is_global),
    ):
        if test:
            return kind
    return None


class AddressFence:
    """Which hosts and addresses outbound requests may reach (``http.allow_private``)."""

    def __init__(self, allow_private: bool | list[str]) -> None:
        self.open = allow_private is True
        entries = [] if isinstance(allow_private, bool) else allow_private
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self.names: set[str] = set()
        for entry in entries:
            try:
                self.networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                self.names.add(_host_key(entry))

    def allows_host(self, host: str) -> bool:
        return self.open or _host_key(host) in self.names

    def refusal(self, host: str, address: str) -> str | None:
        """Why connecting to ``address`` (which ``host`` resolved to) is refused, or None."""
        if self.allows_host(host):
            return None
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return f"{address} is not an IP address"
        if any(ip in network for network in self.networks):
            return None
        kind = address_kind(ip)
        if kind is None:
            return None
        what = (
            f"{ip} is a {kind} address" if _host_key(host) == str(ip) else f"{host} resolves to {ip}, a {kind} address"
        )
        return (
            f"{what}: refused, so that no feed can make the mirror fetch and publish "
            "the server's own or internal pages (if this source really is internal, list it in http.allow_private)"
        )

    def check_url_host(self, host: str) -> str | None:
        """What can be refused before any connection or name lookup: literal addresses, localhost."""
        if self.allows_host(host):
            return None
        key = _host_key(host)
        if key == "localhost" or key.endswith(".localhost"):
            return self.refusal(host, "127.0.0.1")
        try:
            ipaddress.ip_address(key)
        except ValueError:
            return None
        return self.refusal(host, key)


def _host_key(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


class _Refused(Exception):
    """Raised inside httpx's machinery by the fence; HttpClient turns it into a BlockedAddressError."""


class _FencedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, behind the fence: resolve once, check, connect to the checked address."""

    def __init__(self, fence: AddressFence, resolver: Resolver) -> None:
        self._fence = fence
        self._resolver = resolver
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._resolver(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"looking up {host} timed out") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot look up {host}: {exc.strerror or exc}") from None
        if not addresses:
            raise httpcore.ConnectError(f"cannot look up {host}: no address")
        refusals = [self._fence.refusal(host, address) for address in addresses]
        allowed = [address for address, refusal in zip(addresses, refusals, strict=True) if refusal is None]
        if not allowed:
            raise _Refused(next(r for r in refusals if r))
        failure: Exception | None = None
        for address in allowed:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise _Refused(f"{path}: a Unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _FencedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport, its connection pool connecting through the fence."""

    def __init__(self, limits: httpx.Limits, backend: _FencedBackend) -> None:
        super().__init__(limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


class HostGate(Protocol):
    """A per-host limit shared with other processes: ``hold(host)`` waits for one of the host's slots
    and keeps it for the block (``politeness.HostSlots``, kept in the store)."""

    def hold(self, host: str) -> AbstractAsyncContextManager[object]: ...


class HttpClient:
    """Use as ``async with HttpClient(config) as http: await http.get(url)``.

    ``resolver`` replaces the machine's name resolution (tests map names to
    addresses with it, so that refusals are checked without connecting).
    ``gate`` makes ``http.per_host`` hold across every process that shares it
    (every worker on one store), not only within this client."""

    def __init__(
        self,
        config: HttpConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
        gate: HostGate | None = None,
    ) -> None:
        self.config = config
        self._gate = gate
        self.fence = AddressFence(config.allow_private)
        self.requests = 0  # requests sent so far (retries included), e.g. to bound a share of them
        self._overall = asyncio.Semaphore(config.concurrency)
        self._per_host: defaultdict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(config.per_host))
        limits = httpx.Limits(max_connections=config.concurrency, max_keepalive_connections=config.concurrency)
        if transport is None:
            if config.proxy:
                transport = httpx.AsyncHTTPTransport(limits=limits, proxy=config.proxy)
            else:
                transport = _FencedTransport(limits, _FencedBackend(self.fence, resolver or system_resolver))
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(config.read_timeout, connect=config.connect_timeout),
            headers={"User-Agent": config.user_agent, "Accept-Encoding": "gzip, deflate"},
            follow_redirects=True,
            max_redirects=10,
            transport=transport,
            # Only http.proxy is used: a proxy from the environment would route round the fence unseen.
            trust_env=False,
            # Every request, redirects included, passes here before it is sent.
            event_hooks={"request": [self._check_request]},
        )

    async def _check_request(self, request: httpx.Request) -> None:
        refusal = self.fence.check_url_host(request.url.host)
        if refusal:
            raise _Refused(refusal)

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._client.aclose()

    async def get(self, url: str, *, etag: str = "", last_modified: str = "", max_bytes: int | None = None) -> Response:
        """GET a URL, retrying transient failures. A 304 is returned, not raised;
        any other non-2xx status raises ``FetchError``. ``max_bytes`` overrides
        the configured size cap for this request."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            host = httpx.URL(url).host
        except httpx.InvalidURL as exc:
            raise FetchError(url, f"invalid URL: {exc}") from None
        attempt = 0
        while True:
            wait: float | None = None
            try:
                # Per host first (here, then across processes): a task waiting for a busy
                # host must not hold one of the overall slots that other hosts could use.
                shared = self._gate.hold(host) if self._gate else nullcontext()
                async with self._per_host[host], shared, self._overall:
                    return await self._get_once(url, headers, max_bytes or self.config.max_bytes)
            except FetchError as exc:
                if exc.status not in _RETRY_STATUS or attempt >= self.config.retries:
                    raise
                # A long Retry-After is for the feed's schedule; within a run, wait a bounded time.
                wait = min(exc.retry_after, _MAX_RETRY_AFTER) if exc.retry_after is not None else None
            except (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                if attempt >= self.config.retries:
                    raise FetchError(url, _describe(exc)) from None
            except httpx.HTTPError as exc:
                raise FetchError(url, _describe(exc)) from None
            except _Refused as exc:
                raise BlockedAddressError(url, str(exc)) from None
            # Exponential backoff with jitter, outside the semaphores so
            # a waiting retry does not hold a slot.
            if wait is None:
                wait = self.config.backoff * (2**attempt) * random.uniform(0.8, 1.2)
            await asyncio.sleep(wait)
            attempt += 1

    async def _get_once(self, url: str, headers: dict[str, str], limit: int) -> Response:
        self.requests += 1
        async with self._client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                return self._response(response, b"")
            if response.status_code >= 400:
                retry_after = _retry_after(response.headers.get("Retry-After"))
                if response.status_code in _RETRY_STATUS:
                    raise _RetryableStatus(url, response.status_code, retry_after)
                raise FetchError(url, f"HTTP {response.status_code} {response.reason_phrase}", response.status_code)
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise FetchError(url, f"response too large ({int(declared):,} bytes, limit {limit:,})")
            chunks: list[bytes] = []
            size = 0
            # aiter_bytes yields decompressed bytes, so the cap also stops
            # a small gzip body that inflates to gigabytes.
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise FetchError(url, f"response too large (over {limit:,} bytes)")
                chunks.append(chunk)
            return self._response(response, b"".join(chunks))

    @staticmethod
    def _response(response: httpx.Response, content: bytes) -> Response:
        return Response(
            url=str(response.url),
            status=response.status_code,
            content=content,
            content_type=response.headers.get("Content-Type", ""),
            etag=response.headers.get("ETag", ""),
            last_modified=response.headers.get("Last-Modified", ""),
            max_age=_max_age(response.headers.get("Cache-Control")),
        )


class _RetryableStatus(FetchError):
    def __init__(self, url: str, status: int, retry_after: float | None) -> None:
        super().__init__(url, f"HTTP {status}", status, retry_after)
