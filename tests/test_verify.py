"""A mirror anyone can verify: keygen, SHA256SUMS and its SSHSIG signature, `newsmirror verify`."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsmirror import layout
from newsmirror.cli import app
from newsmirror.config import Config, load_config
from newsmirror.models import Article
from newsmirror.publish import init_bare, publish
from newsmirror.render import build
from newsmirror.render.manifest import manifest_text, published_files, sha256_file
from newsmirror.signing import SigningError, generate_key, load_key, parse_public_key
from newsmirror.signing import verify as signing_verify
from newsmirror.store import Store

runner = CliRunner()
WHEN = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)


def mirror(tmp_path: Path, *, remote: Path | None = None) -> Config:
    """A config and store with two articles, and a signing key made with `newsmirror keygen`."""
    text = (
        '[mirror]\ntitle = "测试镜像"\nbase_url = "https://example.org/m"\noutput = "out"\nstore = "store.db"\n'
        '\n[[site]]\nid = "kzg"\nname = "看中国"\n\n  [[site.channel]]\n  id = "p9"\n  name = "看世界"\n'
        '  feed = "https://www.example.com/p9.xml"\n'
    )
    if remote:
        text += f'\n[[remote]]\nname = "local"\nurl = "{remote.as_posix()}"\n'
    (tmp_path / "newsmirror.toml").write_text(text, "utf-8")
    cfg = load_config(tmp_path / "newsmirror.toml")
    with Store(cfg.store_path) as store:
        for number, body in ((1029400, "王毅抵达莫斯科。\n\n克里姆林宫不排除会晤。"), (1029401, "菜价上涨。")):
            store.save_article(
                Article(site="kzg", channel="p9", id=str(number), url=f"https://www.example.com/{number}.html",
                        title=f"标题 {number}", markdown=body, html="", published=WHEN, fetched=WHEN)
            )  # fmt: skip
    result = runner.invoke(app, ["keygen", "-c", str(tmp_path / "newsmirror.toml")])
    assert result.exit_code == 0, result.output
    assert "fingerprint SHA256:" in result.output
    return cfg


def built(cfg: Config) -> Path:
    with Store(cfg.store_path) as store:
        result = build(cfg, store)
    assert result.ok and not result.warnings, (result.errors, result.warnings)
    return cfg.output_dir


def verify(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["verify", *args])
    return result.exit_code, result.output


def pub_of(cfg: Config) -> Path:
    return cfg.signing_key_path.with_name(cfg.signing_key_path.name + ".pub")


def test_the_tree_is_signed_and_standard_tools_accept_it(tmp_path: Path) -> None:
    cfg = mirror(tmp_path)
    out = built(cfg)
    assert not cfg.signing_key_path.is_relative_to(out)
    sums = (out / layout.SUMS).read_text("utf-8")
    lines = sums.splitlines()
    paths = [line.split("  ", 1)[1] for line in lines]
    assert paths == sorted(paths) and layout.SUMS not in paths and layout.SUMS_SIG not in paths
    assert {"README.md", "pages/kzg/p9/1029400.md", "pages/kzg/p9/1029400.png", layout.SUMS_PUB} <= set(paths)
    # The reader's tools: sha256sum -c, and ssh-keygen -Y verify with the published key.
    assert subprocess.run(["sha256sum", "--quiet", "-c", layout.SUMS], cwd=out).returncode == 0
    (tmp_path / "allowed_signers").write_text("mirror " + (out / layout.SUMS_PUB).read_text("utf-8"), "utf-8")
    checked = subprocess.run(
        ["ssh-keygen", "-Y", "verify", "-f", str(tmp_path / "allowed_signers"), "-I", "mirror", "-n", "newsmirror",
         "-s", str(out / layout.SUMS_SIG)],
        input=sums.encode(), capture_output=True,
    )  # fmt: skip
    assert checked.returncode == 0 and b'Good "newsmirror" signature' in checked.stdout, checked.stderr
    # And the other way: what ssh-keygen -Y sign makes with the same key is the same format, and verifies here.
    copy = tmp_path / "sums"
    copy.write_text(sums, "utf-8")
    signed = subprocess.run(
        ["ssh-keygen", "-Y", "sign", "-f", str(cfg.signing_key_path), "-n", "newsmirror", str(copy)],
        capture_output=True,
    )
    assert signed.returncode == 0, signed.stderr
    theirs = (tmp_path / "sums.sig").read_text("utf-8")
    public = parse_public_key(pub_of(cfg).read_text("utf-8"))
    signing_verify(sums.encode(), theirs, public)
    assert theirs == (out / layout.SUMS_SIG).read_text("utf-8")  # Ed25519 is deterministic: the same bytes
    with pytest.raises(SigningError):
        signing_verify(sums.encode() + b"x", theirs, public)
    # Every page shows the key's short fingerprint, the one ssh-keygen -l prints.
    listed = subprocess.run(["ssh-keygen", "-lf", str(pub_of(cfg))], capture_output=True, text=True).stdout
    short = listed.split()[1][: len("SHA256:") + 16]
    assert f"`{short}`" in (out / "pages/kzg/p9/1029400.md").read_text("utf-8")
    assert f"`{short}`" in (out / "README.md").read_text("utf-8")
    # Nothing writes when nothing changed: the same bytes, signature included (Ed25519 is deterministic).
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with Store(cfg.store_path) as store:
        again = build(cfg, store)
    assert again.written == [] and {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_sha256sums_stays_true_to_files_changed_behind_the_builds_back(tmp_path: Path) -> None:
    """A no-change build does not hash or sign again; whatever changed the tree since (a file added
    or edited by hand, SHA256SUMS or its signature damaged) is in the next one's SHA256SUMS."""
    cfg = mirror(tmp_path)
    out = built(cfg)
    key = str(pub_of(cfg))

    def rebuilt_and_faithful() -> None:
        built(cfg)
        assert subprocess.run(["sha256sum", "--quiet", "-c", layout.SUMS], cwd=out).returncode == 0
        code, output = verify(str(out), "--key", key)
        assert code == 0 and "a faithful copy" in output, output

    sums = out / layout.SUMS
    stamp = sums.stat().st_mtime_ns
    rebuilt_and_faithful()
    assert sums.stat().st_mtime_ns == stamp  # nothing changed: not even rewritten
    cname = out / "CNAME"
    cname.write_text("mirror.example.org\n", "utf-8")  # a file the build does not manage
    rebuilt_and_faithful()
    assert "  CNAME\n" in sums.read_text("utf-8")
    moment = cname.stat().st_mtime_ns
    cname.write_text("mirror.example.net\n", "utf-8")  # edited in place, the same size
    os.utime(cname, ns=(moment + 10**9, moment + 10**9))
    rebuilt_and_faithful()
    page = out / "pages/kzg/p9/1029400.md"
    page.write_text(page.read_text("utf-8") + "伪造\n", "utf-8")  # a page edited by hand is written again
    rebuilt_and_faithful()
    sums.write_text("damaged\n", "utf-8")
    rebuilt_and_faithful()
    (out / layout.SUMS_SIG).unlink()
    rebuilt_and_faithful()


def test_a_clone_verifies_and_every_change_is_named(tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    cfg = mirror(tmp_path, remote=remote)
    init_bare(remote, cfg.mirror.branch)
    built(cfg)
    assert publish(cfg).committed
    assert not publish(cfg).committed  # an unchanged tree: no commit
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(remote), str(clone)], check=True)
    assert not any(p.name.endswith(".key") for p in clone.rglob("*"))  # the private key is never published

    code, output = verify(str(clone), "--key", str(pub_of(cfg)))
    assert code == 0 and "a faithful copy" in output, output
    short = parse_public_key(pub_of(cfg).read_text("utf-8")).short_fingerprint
    assert verify(str(clone), "--fingerprint", short)[0] == 0
    assert verify(str(clone), "-c", str(tmp_path / "newsmirror.toml"))[0] == 0  # the config's key by default

    page = clone / "pages/kzg/p9/1029400.md"
    data = bytearray(page.read_bytes())
    data[-2] ^= 1  # one altered byte
    page.write_bytes(bytes(data))
    (clone / "pages/kzg/p9/1029401.png").unlink()
    (clone / "pages/kzg/p9/fake.md").write_text("# 伪造的文章\n", "utf-8")
    code, output = verify(str(clone), "--key", str(pub_of(cfg)))
    assert code == 1
    assert "altered: pages/kzg/p9/1029400.md" in output
    assert "missing: pages/kzg/p9/1029401.png" in output
    assert "extra: pages/kzg/p9/fake.md" in output
    assert "NOT a faithful copy" in output


def test_a_manifest_resigned_with_another_key_is_refused(tmp_path: Path) -> None:
    cfg = mirror(tmp_path)
    out = built(cfg)
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    # A forger edits a page, writes a matching SHA256SUMS and signs it with a key of their own.
    (copy / "pages/kzg/p9/1029400.md").write_text("# 伪造\n", "utf-8")
    other = tmp_path / "forger" / "k"
    generate_key(other, "forger")
    hashes = {p: sha256_file(copy / p) for p in published_files(copy) if p != layout.SUMS_PUB}
    forger = load_key(other)
    (copy / layout.SUMS_PUB).write_text(forger.public.openssh(), "utf-8")
    hashes[layout.SUMS_PUB] = sha256_file(copy / layout.SUMS_PUB)
    text = manifest_text(hashes)
    (copy / layout.SUMS).write_text(text, "utf-8")
    (copy / layout.SUMS_SIG).write_text(forger.sign(text.encode()), "utf-8")
    assert subprocess.run(["sha256sum", "--quiet", "-c", layout.SUMS], cwd=copy).returncode == 0  # it adds up

    code, output = verify(str(copy), "--key", str(pub_of(cfg)))
    assert code == 1 and "signed with another key" in output, output
    short = parse_public_key(pub_of(cfg).read_text("utf-8")).short_fingerprint
    code, output = verify(str(copy), "--fingerprint", short)
    assert code == 1 and "is not the one of fingerprint" in output, output


class _StaticHost(http.server.SimpleHTTPRequestHandler):
    soft_404 = False  # answer a missing file with a 200 page, as some hosts do

    def log_message(self, *args: object) -> None:
        pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        if code == 404 and self.soft_404:
            body = b"<!doctype html><title>Not here</title><p>Try the <a href='/'>front page</a>."
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().send_error(code, message, explain)


@pytest.fixture(params=[False, True], ids=["404", "soft-404"])
def served(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Path, str]]:
    """A static host on 127.0.0.1 serving the folder tmp_path/site; one answers a missing file with 404,
    the other with a page (status 200)."""
    root = tmp_path / "site"
    root.mkdir()
    handler = type("Host", (_StaticHost,), {"soft_404": request.param})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_copy_on_a_static_host_verifies_by_its_base_url(tmp_path: Path, served: tuple[Path, str]) -> None:
    root, url = served
    cfg = mirror(tmp_path)
    shutil.copytree(built(cfg), root, dirs_exist_ok=True)
    code, output = verify(url, "--key", str(pub_of(cfg)))
    assert code == 0 and "a faithful copy" in output, output
    (root / "indexes/kzg-p9.md").write_text("# 改过的目录\n", "utf-8")
    (root / "pages/kzg/p9/1029401.md").unlink()
    code, output = verify(url + "/", "--key", str(pub_of(cfg)))
    assert code == 1
    assert "altered: indexes/kzg-p9.md" in output and "missing: pages/kzg/p9/1029401.md" in output
    assert "extra:" not in output


def test_from_a_base_url_extra_files_the_pages_link_to_are_found(tmp_path: Path, served: tuple[Path, str]) -> None:
    """A static host cannot be listed: the extra files found are those a page links to (an extra page's
    links too) and those a host serves by itself; an added file nothing links to is not seen."""
    root, url = served
    cfg = mirror(tmp_path)
    shutil.copytree(built(cfg), root, dirs_exist_ok=True)
    code, output = verify(url, "--key", str(pub_of(cfg)))
    assert code == 0 and "a faithful copy" in output and "an added file that no page links to is not seen" in output
    # A doctored page links a page that SHA256SUMS does not list; that one shows an image it does not list.
    index = root / "indexes/kzg-p9.md"
    index.write_text(index.read_text("utf-8") + "\n- [独家](../pages/kzg/p9/%E7%8B%AC%E5%AE%B6.md?t=1#top)\n", "utf-8")
    (root / "pages/kzg/p9/独家.md").write_text("# 独家\n\n![](../../../images/pixel.png)\n", "utf-8")
    (root / "images").mkdir(exist_ok=True)
    (root / "images/pixel.png").write_bytes(b"\x89PNG")
    (root / "404.html").write_text("<p>镜像已迁移，请访问 <a href='pages/moved.html'>新地址</a></p>", "utf-8")
    (root / "pages/moved.html").write_text("<p>新地址</p>", "utf-8")
    (root / "pages/orphan.md").write_text("# 没有链接\n", "utf-8")  # nothing links it
    code, output = verify(url, "--key", str(pub_of(cfg)))
    assert code == 1, output
    assert "altered: indexes/kzg-p9.md" in output
    for path in ("pages/kzg/p9/独家.md", "images/pixel.png", "404.html", "pages/moved.html"):
        assert f"extra: {path}" in output, output
    assert "orphan" not in output
    assert verify(str(root), "--key", str(pub_of(cfg)))[1].count("extra: ") == 5  # a folder shows every one
    helped = " ".join(runner.invoke(app, ["verify", "--help"]).output.split())
    assert (
        "link to or show within the base URL" in helped and "an added file that no page links to is not seen" in helped
    )


def test_a_signing_key_inside_the_output_is_refused(tmp_path: Path) -> None:
    cfg = mirror(tmp_path)
    text = (tmp_path / "newsmirror.toml").read_text("utf-8")
    text = text.replace('store = "store.db"\n', 'store = "store.db"\nsigning_key = "out/key"\n')
    (tmp_path / "newsmirror.toml").write_text(text, "utf-8")
    result = runner.invoke(app, ["keygen", "-c", str(tmp_path / "newsmirror.toml")])
    assert result.exit_code == 2 and "holds the signing key" in result.output and "every remote" in result.output
    assert not (cfg.output_dir / "key").exists()


def test_a_build_without_the_key_takes_the_old_signature_away(tmp_path: Path) -> None:
    cfg = mirror(tmp_path)
    out = built(cfg)
    assert (out / "SHA256SUMS.sig").exists() and (out / "SHA256SUMS.pub").exists()
    cfg.signing_key_path.unlink()  # the operator stops signing
    with Store(cfg.store_path) as store:
        result = build(cfg, store)
    assert result.ok and "SHA256SUMS.sig" in result.removed and "SHA256SUMS.pub" in result.removed
    assert not (out / "SHA256SUMS.sig").exists() and not (out / "SHA256SUMS.pub").exists()
    assert "SHA256SUMS.pub" not in (out / "SHA256SUMS").read_text()  # the manifest lists only what is there
