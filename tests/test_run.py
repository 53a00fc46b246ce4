"""`newsmirror run` and `newsmirror demo` end to end: the sample sites over real
HTTP, the build, and real git with local bare repositories as remotes."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from newsmirror.demosite import DemoSite
from newsmirror.layout import page_path, qr_path
from newsmirror.lock import run_lock
from newsmirror.models import ArticleKey, article_id

BASE_URL = "https://github.com/example/mirror/blob/main"


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsmirror.cli", *args], capture_output=True, text=True, timeout=180, cwd=cwd
    )


def git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout


def bare(path: Path) -> Path:
    subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(path)], check=True)
    return path


def refuse_pushes(remote: Path) -> None:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'mirror is read-only today' >&2\nexit 1\n")
    hook.chmod(0o755)


def snapshot(tree: Path) -> dict[str, int]:
    """Every file's mtime (folders change when a file is renamed into them)."""
    return {
        str(p.relative_to(tree)): p.stat().st_mtime_ns for p in tree.rglob("*") if ".git" not in p.parts and p.is_file()
    }


@pytest.fixture
def demo():
    with DemoSite(slow_delay=0.2) as site:
        yield site


@pytest.fixture
def mirror(tmp_path: Path, demo: DemoSite) -> Path:
    """A config mirroring the sample sites to two bare remotes, the second refusing pushes."""
    good, refusing = bare(tmp_path / "good.git"), bare(tmp_path / "refusing.git")
    refuse_pushes(refusing)
    config = tmp_path / "newsmirror.toml"
    config.write_text(
        demo.config_toml(output="out", store="store.db", base_url=BASE_URL)
        + f'\n[[remote]]\nname = "good"\nurl = "{good}"\n\n[[remote]]\nname = "refusing"\nurl = "{refusing}"\n',
        "utf-8",
    )
    return config


def test_run_mirrors_the_sample_sites_to_every_remote(tmp_path: Path, demo: DemoSite, mirror: Path) -> None:
    result = cli("run", "--config", str(mirror))
    assert result.returncode == 1, result.stderr  # the sample sites' faults, and the refusing remote
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert any(line.startswith("error: remote refusing (") and "read-only today" in line for line in errors), errors
    out = tmp_path / "out"
    expected = demo.expected.all_articles()

    # Every stored article has its page, with title, body, share URL, QR code and original address.
    pages = sorted(p.relative_to(out).as_posix() for p in (out / "pages").rglob("*.md"))
    assert pages == sorted(f"pages/{a.site}/{a.channel}/{article_id(a.url)}.md" for a in expected)
    for article in expected:
        path = f"pages/{article.site}/{article.channel}/{article_id(article.url)}"
        text = (out / f"{path}.md").read_text("utf-8")
        assert text.startswith(f"# {article.title}\n")
        assert article.text in " ".join(text.split())
        assert f"{BASE_URL}/{path}.md" in text
        assert f"]({article_id(article.url)}.png)" in text
        assert article.url in text
        assert (out / f"{path}.png").read_bytes().startswith(b"\x89PNG")
        assert "<script" not in text and "<span" not in text and "display:none" not in text

    # Indexes list exactly the stored articles of their channel, newest first, with working links.
    for (site, channel), articles in demo.expected.articles.items():
        index = out / "indexes" / f"{site}-{channel}.md"
        text = index.read_text("utf-8")
        linked = re.findall(r"\]\((\.\./pages/[^)?]+\.md)\)", text)
        assert linked == [f"../pages/{site}/{channel}/{article_id(a.url)}.md" for a in articles]
        assert all((index.parent / link).resolve().is_file() for link in linked)

    # The good remote has the commit; the refusing one is reported and has nothing.
    head = git("-C", str(out), "rev-parse", "HEAD").strip()
    assert git("--git-dir", str(tmp_path / "good.git"), "rev-parse", "main").strip() == head
    assert f"{len(expected)} added" in git("-C", str(out), "log", "-1", "--format=%s")
    with pytest.raises(subprocess.CalledProcessError):
        git("--git-dir", str(tmp_path / "refusing.git"), "rev-parse", "--verify", "main")

    # A second run fetches nothing, writes nothing, commits nothing; the refusing
    # remote, accepting again, gets what it missed.
    before = snapshot(out)
    (tmp_path / "refusing.git" / "hooks" / "pre-receive").unlink()
    demo.clear_requests()
    again = cli("run", "--all", "--config", str(mirror))
    assert "built" in again.stderr and "0 written, 0 removed" in again.stderr, again.stderr
    assert "no change in the output tree, no commit" in again.stderr
    assert snapshot(out) == before
    assert git("-C", str(out), "rev-parse", "HEAD").strip() == head
    assert git("--git-dir", str(tmp_path / "refusing.git"), "rev-parse", "main").strip() == head
    assert all(r.status in (304, 404) or r.path.endswith(".xml") for r in demo.requests), demo.requests


def test_one_new_article_changes_only_its_page_and_the_lists(tmp_path: Path, demo: DemoSite, mirror: Path) -> None:
    cli("run", "--config", str(mirror))
    out = tmp_path / "out"
    before = snapshot(out)
    url = demo.add_article(
        "harbor", "science", "Seagrass meadows return to the bay", "<p>Divers counted new shoots.</p>"
    )
    result = cli("run", "--all", "--config", str(mirror))
    assert "1 new" in result.stderr
    after = snapshot(out)
    changed = sorted(path for path in after if before.get(path) != after[path])
    page = f"pages/harbor/science/{article_id(url)}"
    assert f"{page}.md" in changed and f"{page}.png" in changed
    # Only the new page and QR code, and the lists that show it.
    assert set(changed) <= {
        f"{page}.md",
        f"{page}.png",
        "README.md",
        "feed.xml",
        "SHA256SUMS",
        "SHA256SUMS.sig",
        "indexes/harbor-science.md",
        "pages/harbor/science",
    }
    assert "1 added, 0 updated, 0 removed" in git("-C", str(out), "log", "-1", "--format=%s")


def test_run_exits_at_once_while_another_run_holds_the_lock(tmp_path: Path, mirror: Path) -> None:
    with run_lock(tmp_path / "store.db"):
        result = cli("run", "--config", str(mirror))
    assert result.returncode == 3
    assert "another newsmirror run is still going" in result.stderr
    assert not (tmp_path / "out").exists()


def test_qr_code_decodes_to_the_page_url(
    tmp_path: Path, demo: DemoSite, mirror: Path, decode_qr: Callable[[Path], str]
) -> None:
    cli("run", "--config", str(mirror))
    article = demo.expected.all_articles()[0]
    key = ArticleKey(article.site, article.channel, article_id(article.url))
    assert decode_qr(tmp_path / "out" / qr_path(key)) == f"{BASE_URL}/{page_path(key)}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_demo_twice_fetches_writes_and_commits_nothing_the_second_time(tmp_path: Path) -> None:
    folder, port = tmp_path / "demo-mirror", str(free_port())
    first = cli("demo", str(folder), "--port", port)
    assert "The mirror is in" in first.stderr, first.stderr
    assert (folder / "mirror" / "README.md").is_file()
    # The demo shows the HTML site with its search, the traditional copy and the offline bundles of both.
    for shown in ("index.html", "search.html", "pagefind/pagefind-entry.json", "zh-hant/search.html"):
        assert (folder / "mirror" / shown).is_file(), shown
    mirror = folder / "mirror"
    assert "(offline/mirror.zim)" in (mirror / "README.md").read_text("utf-8")
    assert "(offline/mirror.zim)" in (mirror / "zh-hant/README.md").read_text("utf-8")
    assert (mirror / "offline/mirror.zim").is_file() and (mirror / "zh-hant/offline/mirror.zim").is_file()
    head = git("--git-dir", str(folder / "remote.git"), "rev-parse", "main").strip()
    before = snapshot(folder / "mirror")
    config_mtime = (folder / "newsmirror.toml").stat().st_mtime_ns

    second = cli("demo", str(folder), "--port", port)
    assert "0 new, 0 updated" in second.stderr and "0 written" in second.stderr, second.stderr
    assert "no change in the output tree, no commit" in second.stderr
    assert snapshot(folder / "mirror") == before
    assert (folder / "newsmirror.toml").stat().st_mtime_ns == config_mtime
    assert git("--git-dir", str(folder / "remote.git"), "rev-parse", "main").strip() == head
