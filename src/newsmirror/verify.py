"""`newsmirror verify`: is a copy of the mirror (a folder, a clone, a static host) faithful?

A copy is faithful when its SHA256SUMS carries a valid signature by the
expected key, every file it lists is there with the bytes it names, and no
file it does not list is there. A folder (or clone) is listed, so every extra
file is found. A static host cannot be listed: from a base URL, the extra
files found are those that a page of the copy links to (every Markdown and
HTML page it serves is read for its links, extra ones too) and those a static
host serves by itself (``WELL_KNOWN``); a file that nothing links to is not
seen there.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlsplit

from lxml import etree

from newsmirror import layout
from newsmirror.config import HttpConfig
from newsmirror.extract.dom import parse_html
from newsmirror.http import FetchError, HttpClient
from newsmirror.render.html_site import markdown_parser
from newsmirror.render.manifest import parse_manifest, published_files, sha256_file
from newsmirror.signing import PublicKey, SigningError, parse_public_key, signer_of, verify
from newsmirror.words import counted

# What a static host serves of its own accord at a folder's address or for a missing page (GitHub Pages:
# index.html, index.md, README.md; 404.html): looked for even when no page links them.
WELL_KNOWN = ("index.html", "index.md", "README.md", "404.html")
# Pages whose links are followed; at most this many linked files outside SHA256SUMS are looked for.
_PAGES = (".md", ".html")
# A name no tree holds: a host that serves a page for it serves one for every address (a "soft 404").
_NO_SUCH_FILE = "newsmirror-verify-no-such-file"
_MAX_LOOKED_FOR = 10_000


class VerifyError(Exception):
    """The copy cannot be checked at all (no manifest, no key); the message is for the user."""


@dataclass(slots=True)
class VerifyReport:
    location: str
    signer: str = ""
    files: int = 0
    missing: list[str] = field(default_factory=list)
    altered: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    signature_error: str = ""
    listed: bool = True  # could the copy's files be listed (a folder), so every extra is known
    looked_for: int = 0  # from a base URL: linked (or well-known) files outside SHA256SUMS that were asked for

    @property
    def faithful(self) -> bool:
        return not (self.signature_error or self.missing or self.altered or self.extra)


def _key_from(copy_pub: bytes | None, key: PublicKey | None, fingerprint: str | None) -> tuple[PublicKey, str]:
    """The key to check the signature with, and why the copy fails already if it does
    (its published key is not the one of the given fingerprint)."""
    if key is not None:
        return key, ""
    if fingerprint is None:
        raise VerifyError("give the mirror's public key (--key) or its fingerprint (--fingerprint)")
    if copy_pub is None:
        raise VerifyError(f"the copy has no {layout.SUMS_PUB} to match the fingerprint against; pass --key instead")
    try:
        published = parse_public_key(copy_pub.decode("utf-8", "replace"))
    except SigningError as exc:
        raise VerifyError(f"{layout.SUMS_PUB}: {exc}") from None
    if not published.matches(fingerprint):
        return published, f"the copy's key {published.fingerprint} is not the one of fingerprint {fingerprint}"
    return published, ""


def _check(report: VerifyReport, sums: bytes, signature: bytes, expected: tuple[PublicKey, str]) -> dict[str, str]:
    key, mismatch = expected
    if mismatch:
        report.signature_error = mismatch
    else:
        try:
            verify(sums, signature.decode("utf-8", "replace"), key)
        except SigningError as exc:
            report.signature_error = str(exc)
    try:
        report.signer = signer_of(signature.decode("utf-8", "replace")).fingerprint
    except (SigningError, ValueError):
        report.signer = ""
    try:
        return parse_manifest(sums.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise VerifyError(f"{layout.SUMS}: {exc}") from None


def verify_folder(folder: Path, key: PublicKey | None, fingerprint: str | None) -> VerifyReport:
    """Check a folder or a git clone of the mirror."""
    if not folder.is_dir():
        raise VerifyError(f"{folder}: no such folder")
    report = VerifyReport(str(folder))
    sums, signature = folder / layout.SUMS, folder / layout.SUMS_SIG
    if not sums.is_file() or not signature.is_file():
        raise VerifyError(f"{folder}: no {layout.SUMS} and {layout.SUMS_SIG}: not a signed newsmirror copy")
    pub = folder / layout.SUMS_PUB
    expected = _key_from(pub.read_bytes() if pub.is_file() else None, key, fingerprint)
    listed = _check(report, sums.read_bytes(), signature.read_bytes(), expected)
    present = published_files(folder)
    report.files = len(listed)
    for path, digest in sorted(listed.items()):
        if path not in present:
            report.missing.append(path)
        elif sha256_file(folder / path) != digest:
            report.altered.append(path)
    report.extra = sorted(set(present) - set(listed))
    return report


def verify_url(base_url: str, key: PublicKey | None, fingerprint: str | None, http: HttpConfig) -> VerifyReport:
    """Check a copy served by a static host, from its base URL."""
    return asyncio.run(_verify_url(base_url.rstrip("/"), key, fingerprint, http))


async def _verify_url(base: str, key: PublicKey | None, fingerprint: str | None, http: HttpConfig) -> VerifyReport:
    report = VerifyReport(base, listed=False)
    async with HttpClient(http) as client:

        async def get(path: str) -> bytes | None:
            try:
                return (await client.get(f"{base}/{quote(path)}")).content
            except FetchError as exc:
                if exc.status in (404, 410):
                    return None
                raise VerifyError(f"{base}: cannot fetch {path}: {exc.reason}") from None

        sums, signature, pub, absent = await asyncio.gather(
            get(layout.SUMS), get(layout.SUMS_SIG), get(layout.SUMS_PUB), get(_NO_SUCH_FILE)
        )
        if sums is None or signature is None:
            raise VerifyError(f"{base}: no {layout.SUMS} and {layout.SUMS_SIG}: not a signed newsmirror copy")
        listed = _check(report, sums, signature, _key_from(pub, key, fingerprint))
        report.files = len(listed)
        paths = sorted(listed)
        bodies = await asyncio.gather(*(get(path) for path in paths))
        served: dict[str, bytes] = {}
        for path, body in zip(paths, bodies, strict=True):
            if body is not None and hashlib.sha256(body).hexdigest() == listed[path]:
                served[path] = body
            elif body is None or body == absent:  # what the host serves for any address: not there
                report.missing.append(path)
            else:
                served[path] = body
                report.altered.append(path)
        # Extra files: those the pages link to (the extra ones' links too), and what a host serves by itself.
        known = set(listed) | {layout.SUMS, layout.SUMS_SIG}
        asked: set[str] = set()
        wanted = {path for path in WELL_KNOWN if path not in known}
        while True:
            for path, body in served.items():
                wanted |= {link for link in linked_paths(base, path, body) if link not in known}
            batch = sorted(wanted - asked)[: _MAX_LOOKED_FOR - len(asked)]
            if not batch:
                break
            asked.update(batch)
            wanted, served = set(), {}
            for path, body in zip(batch, await asyncio.gather(*(get(path) for path in batch)), strict=True):
                if body is not None and body != absent:  # what it serves for any address is no file
                    report.extra.append(path)
                    served[path] = body
    report.looked_for = len(asked)
    report.extra.sort()
    return report


def linked_paths(base: str, path: str, body: bytes) -> set[str]:
    """The files under ``base`` that the page ``path`` (Markdown or HTML) links to or shows, by their
    path from ``base`` (no query, no fragment; a folder's address is left out)."""
    if not path.endswith(_PAGES):
        return set()
    text = body.decode("utf-8", "replace")
    if path.endswith(".md"):
        targets = [
            str(child.attrGet("href") or child.attrGet("src") or "")
            for token in markdown_parser().parse(text)
            for child in token.children or []
            if child.type in ("link_open", "image")
        ]
    else:
        try:
            targets = [link for _element, _attribute, link, _pos in parse_html(text).iterlinks()]
        except (etree.ParserError, ValueError):
            return set()
    page_url = f"{base}/{quote(path)}"
    found: set[str] = set()
    for target in targets:
        address = urlsplit(urljoin(page_url, target.strip()))
        url = f"{address.scheme}://{address.netloc}{address.path}"
        if url.startswith(f"{base}/") and not url.endswith("/"):
            found.add(unquote(url.removeprefix(f"{base}/")))
    return found


def describe(report: VerifyReport) -> Iterable[str]:
    """The report as lines for the user, the verdict last."""
    if report.signature_error:
        yield f"signature: {report.signature_error}"
    yield from (f"missing: {path}" for path in report.missing)
    yield from (f"altered: {path}" for path in report.altered)
    yield from (f"extra: {path}" for path in report.extra)
    if report.faithful:
        extra = (
            ""
            if report.listed
            else (
                f"; nothing else is served at the {report.looked_for:,} other addresses its pages link to or a "
                "static host serves by itself (a web address cannot be listed: an added file that no page "
                "links to is not seen)"
            )
        )
        yield (
            f"{report.location}: a faithful copy — {report.files:,} files match SHA256SUMS, "
            f"signed by {report.signer}{extra}"
        )
    else:
        problems = len(report.missing) + len(report.altered) + len(report.extra) + bool(report.signature_error)
        yield f"{report.location}: NOT a faithful copy of the signed mirror ({counted(problems, 'problem')} above)"
