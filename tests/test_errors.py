"""The one exception tree, caught once by the command line: every error is one plain-text
line (never Rich markup), with its exit code; a full store disk stops a command cleanly."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from newsmirror import errors
from newsmirror.cli import app
from newsmirror.store import Store

BODY = "<p>" + "这是一篇正常的新闻文章，内容足够长，足以被当作正文提取出来。" * 4 + "</p>"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--debug", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.output


def test_every_error_carries_its_exit_code() -> None:
    assert errors.ConfigError("x").exit_code == errors.EXIT_USAGE
    assert errors.UnsafeLayoutError("x").exit_code == errors.EXIT_USAGE
    assert errors.LockBusy("x").exit_code == errors.EXIT_BUSY
    assert errors.FetchError("http://a.example/", "HTTP 404").exit_code == errors.EXIT_PARTIAL
    assert issubclass(errors.BlockedAddressError, errors.FetchError)
    for name in ("StoreError", "BuildError", "PublishError", "CounterError", "FeedError", "ImageError"):
        assert issubclass(getattr(errors, name), errors.NewsmirrorError), name
        assert name in (errors.__doc__ or ""), f"{name} missing from the tree in the docstring"


def test_a_selector_with_markup_brackets_is_reported_as_written(tmp_path: Path) -> None:
    config = tmp_path / "newsmirror.toml"
    config.write_text(
        '[[site]]\nid = "s"\nname = "S"\ncontent = "div[/x]"\n'
        '[[site.channel]]\nid = "c"\nname = "C"\nfeed = "http://127.0.0.1:9/feed.xml"\n',
        "utf-8",
    )
    code, output = run("check", "--config", str(config))
    assert code == 2
    assert "div[/x]" in output and output.count("\n") == 1, output


def test_a_selector_that_matches_nothing_is_quoted_whole(tmp_path: Path) -> None:
    config = tmp_path / "newsmirror.toml"
    config.write_text(
        '[[site]]\nid = "s"\nname = "S"\ncontent = "p[lang=en]"\n'
        '[[site.channel]]\nid = "c"\nname = "C"\nfeed = "http://127.0.0.1:9/feed.xml"\n',
        "utf-8",
    )
    page = tmp_path / "page.html"
    page.write_text(f"<html><body><article>{BODY}</article></body></html>", "utf-8")
    code, output = run("extract", str(page), "--site", "s", "--config", str(config), "--url", "http://a.example/1")
    assert code == 1
    assert "'p[lang=en]'" in output, output


def test_a_remote_rejection_is_printed_as_git_said_it(tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(remote)], check=True)
    hook = remote / "hooks" / "pre-receive"
    hook.write_text('#!/bin/sh\necho "[/x] [bold]frozen[/bold] for maintenance" >&2\nexit 1\n')
    hook.chmod(0o755)
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / "README.md").write_text("# mirror\n", "utf-8")
    config = tmp_path / "newsmirror.toml"
    config.write_text(f'[[remote]]\nname = "hub"\nurl = "{remote}"\n', "utf-8")
    env = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    result = CliRunner(env=env).invoke(app, ["publish", "--config", str(config)])
    assert result.exit_code == 1, result.output
    line = next(line for line in result.output.splitlines() if line.startswith("error: remote hub"))
    assert "[remote rejected]" in line and "[/x] [bold]frozen[/bold]" in line, line


@contextlib.contextmanager
def full_disk(folder: Path) -> Iterator[str]:
    """A folder on a tiny file system that is full: a tmpfs when this test may mount one
    (root with the capability), else a read-only store file (as a user, permissions hold).
    Yields the kind, for the messages."""
    folder.mkdir()
    mounted = os.geteuid() == 0 and (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(folder)], capture_output=True
        ).returncode
        == 0
    )
    if not mounted and os.geteuid() == 0:
        pytest.skip("cannot mount a tmpfs, and root ignores a read-only file")
    try:
        with Store(folder / "store.db") as store:  # the schema fits; articles will not
            if mounted:
                with contextlib.suppress(OSError), open(folder / "filler", "wb") as filler:
                    while True:
                        filler.write(b"\0" * 65536)
                        filler.flush()
            else:
                store.close()
                (folder / "store.db").chmod(0o444)
            yield "full tmpfs" if mounted else "read-only store file"
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.fixture
def site() -> Iterator[HTTPServer]:
    with HTTPServer(host="127.0.0.1") as server:
        items = "".join(
            f"<item><title>文章{n}</title><link>{server.url_for(f'/a/{n}.html')}</link></item>" for n in range(1, 4)
        )
        server.expect_request("/feed.xml").respond_with_data(
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{items}</channel></rss>',
            content_type="application/rss+xml",
        )
        for n in range(1, 4):
            page = f"<html><head><title>文章{n}</title></head><body><article><h1>文章{n}</h1>{BODY}</article>"
            server.expect_request(f"/a/{n}.html").respond_with_data(page, content_type="text/html; charset=utf-8")
        yield server


def test_a_full_store_disk_is_one_line_in_sync(tmp_path: Path, site: HTTPServer) -> None:
    config = tmp_path / "newsmirror.toml"
    with full_disk(tmp_path / "disk") as kind:
        config.write_text(
            f'[mirror]\nstore = "disk/store.db"\nimages = "link"\n[http]\nretries = 0\n'
            f'[[site]]\nid = "s"\nname = "S"\n'
            f'[[site.channel]]\nid = "c"\nname = "C"\nfeed = "{site.url_for("/feed.xml")}"\n',
            "utf-8",
        )
        code, output = run("sync", "--config", str(config))
    assert code == 2, (kind, output)
    lines = output.splitlines()
    assert "Traceback" not in output
    assert any(line.startswith("error: ") and "store.db" in line and "store" in line for line in lines), output
    assert not any(line.startswith("feeds:") for line in lines), output  # the run stopped
