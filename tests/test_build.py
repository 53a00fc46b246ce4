"""build: the output tree rendered from a store, checked file by file."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from newsmirror.config import Config, parse_config
from newsmirror.layout import HOME, html_path, page_path, qr_path
from newsmirror.models import Article, ArticleKey
from newsmirror.render import build
from newsmirror.store import Store

BASE = "https://github.com/example/mirror/blob/main"
START = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
_LINK = re.compile(r"\]\(<?([^)>\s]+)>?\)")


def make_config(root: Path, extra_mirror: str = "", channels: tuple[str, ...] = ("p9", "p1"), keep: int = 3) -> Config:
    channel_tables = "".join(
        f'\n  [[site.channel]]\n  id = "{c}"\n  name = "频道{c}"\n  feed = "https://www.example.com/{c}.xml"\n'
        for c in channels
    )
    text = f"""
[mirror]
title = "测试镜像"
base_url = "{BASE}/"
output = "out"
store = "store.db"
keep_per_channel = {keep}
index_size = 2
home_headlines = 4
mirrors = [
  {{ name = "GitLab", url = "https://gitlab.com/example/mirror" }},
  {{ name = "Codeberg", url = "https://codeberg.org/example/mirror" }},
]
{extra_mirror}

[[site]]
id = "kzg"
name = "看中国"
{channel_tables}
"""
    return parse_config(text, root=root)


def article(n: int, channel: str = "p9", **changes: object) -> Article:
    fields: dict[str, object] = dict(
        site="kzg",
        channel=channel,
        id=str(1_029_400 + n),
        url=f"https://www.example.com/news/gb/2026/01/01/{1_029_400 + n}.html",
        title=f"王毅抵达莫斯科 第{n}篇",
        markdown=f"正文第一段，第{n}篇。\n\n## 小标题\n\n第二段。",
        html="",
        published=START + timedelta(hours=n),
        fetched=START + timedelta(hours=n, minutes=3),
        author="闻天清",
    )
    fields.update(changes)
    return Article(**fields)  # type: ignore[arg-type]


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path, 'counter_url = "https://counter.example.org/"')


def snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file of the tree: relative path → (mtime_ns, bytes)."""
    return {
        p.relative_to(root).as_posix(): (p.stat().st_mtime_ns, p.read_bytes()) for p in root.rglob("*") if p.is_file()
    }


def index_ids(out: Path, first: str) -> list[str]:
    """Article ids listed by a channel index, following its pages in order."""
    ids: list[str] = []
    for number in range(1, 100):
        page = out / "indexes" / (first if number == 1 else first.replace(".md", f".{number}.md"))
        if not page.exists():
            break
        ids += re.findall(r"^- \d{4}-\d\d-\d\d \[.*\]\(\.\./pages/kzg/\w+/(\d+)\.md\)$", page.read_text(), re.M)
    return ids


def test_every_kept_page_has_its_parts(config: Config, store: Store) -> None:
    for n in range(5):
        store.save_article(article(n))
    result = build(config, store)
    out = config.output_dir

    assert result.ok, result.errors
    for n in (2, 3, 4):  # keep_per_channel = 3: the newest three
        a = article(n)
        page = (out / page_path(a.key)).read_text()
        lines = page.splitlines()
        assert lines[0] == f"# {a.title}"
        assert "[首页](../../../README.md)" in lines[2] and "[热点](../../../indexes/hot.md)" in lines[2]
        assert "[频道p9](../../../indexes/kzg-p9.md)" in lines[2]
        assert f"{START + timedelta(hours=n):%Y-%m-%d %H:%M} UTC · 来源：看中国 · 作者：闻天清" in page
        assert f"正文第一段，第{n}篇。" in page and "## 小标题" in page
        assert "手机上长按并复制下列链接或二维码分享本文章" in page
        assert f"<{BASE}/pages/kzg/p9/{a.id}.md>" in page
        assert f"![本文二维码]({a.id}.png)" in page
        assert f"原文地址（需翻墙访问）：<{a.url}>" in page
        assert (out / qr_path(a.key)).read_bytes().startswith(b"\x89PNG")
        # The mirrors' list, then the counter image close the page.
        assert lines[-3].endswith(
            "[GitLab](<https://gitlab.com/example/mirror>) · [Codeberg](<https://codeberg.org/example/mirror>)"
        )
        assert lines[-1] == f"![](https://counter.example.org/v/kzg/p9/{a.id}.gif)"
        # No HTML at all, so nothing for GitHub to strip or show as text.
        assert not re.search(r"<(?!https?://)[a-z/!]", page)
    for n in (0, 1):
        assert not (out / page_path(article(n).key)).exists()


def test_without_counter_url_pages_carry_no_counter(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path)
    store.save_article(article(1))
    build(config, store)
    page = (config.output_dir / page_path(article(1).key)).read_text()
    assert ".gif" not in page and "counter" not in page


def test_qr_code_decodes_to_the_page_url(config: Config, store: Store, decode_qr: Callable[[Path], str]) -> None:
    store.save_article(article(7))
    build(config, store)
    png = config.output_dir / qr_path(article(7).key)
    assert decode_qr(png) == f"{BASE}/pages/kzg/p9/{article(7).id}.md"
    assert png.stat().st_size < 2000  # small


def test_indexes_list_the_kept_articles_newest_first_with_working_links(config: Config, store: Store) -> None:
    for n in range(5):
        store.save_article(article(n, "p9"))
    for n in range(5, 7):
        store.save_article(article(n, "p1"))
    build(config, store)
    out = config.output_dir

    assert index_ids(out, "kzg-p9.md") == [article(n).id for n in (4, 3, 2)]
    assert index_ids(out, "kzg-p1.md") == [article(n).id for n in (6, 5)]
    assert (out / "indexes/kzg-p9.2.md").exists() and not (out / "indexes/kzg-p9.3.md").exists()
    assert not (out / "indexes/kzg-p1.2.md").exists()  # two articles fit one page of two
    first = (out / "indexes/kzg-p9.md").read_text()
    assert "第 1 / 2 页，共 3 篇" in first and "[较旧 →](kzg-p9.2.md)" in first

    home = (out / "README.md").read_text()
    assert home.startswith("# 测试镜像\n")
    assert f"最近更新：{START + timedelta(hours=6, minutes=3):%Y-%m-%d %H:%M} UTC" in home
    assert re.search(r"\[频道p9\]\(indexes/kzg-p9\.md\?t=[0-9a-f]{8}\)", home)
    assert re.search(r"\(indexes/hot\.md\?t=[0-9a-f]{8}\)", home)
    headlines = re.findall(r"^- .*\(pages/kzg/\w+/(\d+)\.md\?t=", home, re.M)
    assert headlines == [article(n).id for n in (6, 5, 4, 3)]  # home_headlines = 4, newest first

    # Every link between pages is relative and leads to a file of the tree.
    for md in out.rglob("*.md"):
        for target in _LINK.findall(md.read_text()):
            if target.startswith("https://"):
                continue
            assert not target.startswith("/"), f"{md}: absolute link {target}"
            assert (md.parent / target.split("?")[0]).resolve().is_file(), f"{md}: broken link {target}"


def test_second_build_writes_nothing(config: Config, store: Store) -> None:
    for n in range(4):
        store.save_article(article(n, "p9" if n % 2 else "p1"))
    first = build(config, store)
    before = snapshot(config.output_dir)
    second = build(config, store)

    assert first.written and not first.removed
    assert second.written == [] and second.removed == []
    assert second.unchanged == len(first.written)
    assert snapshot(config.output_dir) == before


def test_same_store_builds_the_same_bytes_anywhere(tmp_path: Path, store: Store) -> None:
    for n in range(4):
        store.save_article(article(n))
    a = make_config(tmp_path / "a")
    b = make_config(tmp_path / "b")
    build(a, store)
    build(b, store)
    assert {k: v[1] for k, v in snapshot(a.output_dir).items()} == {k: v[1] for k, v in snapshot(b.output_dir).items()}


def test_one_new_article_changes_only_what_lists_it(config: Config, store: Store) -> None:
    store.save_article(article(0, "p9"))
    store.save_article(article(1, "p1"))
    build(config, store)
    before = snapshot(config.output_dir)

    store.save_article(article(2, "p9"))
    result = build(config, store)
    after = snapshot(config.output_dir)

    changed = {p for p in after if before.get(p) != after[p]}
    new = article(2).key
    assert changed == {page_path(new), qr_path(new), "indexes/kzg-p9.md", "README.md", "feed.xml", "SHA256SUMS"}
    assert set(result.written) == changed and result.removed == []


def test_retention_drops_old_pages_from_the_tree_not_the_store(config: Config, store: Store) -> None:
    for n in range(3):
        store.save_article(article(n))
    build(config, store)
    store.save_article(article(3))
    result = build(config, store)

    oldest = article(0).key
    assert set(result.removed) == {page_path(oldest), qr_path(oldest)}
    assert not (config.output_dir / page_path(oldest)).exists()
    assert store.article(article(0).key) is not None
    assert index_ids(config.output_dir, "kzg-p9.md") == [article(n).id for n in (3, 2, 1)]


def test_only_managed_files_are_touched(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path)
    out = config.output_dir
    (out / ".git").mkdir(parents=True)
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (out / "LICENSE").write_text("CC0\n")
    (out / "pages" / "notes.txt").parent.mkdir(parents=True)
    (out / "pages" / "notes.txt").write_text("mine\n")
    (out / "pages" / ".tmp-newsmirror-999-1.md").write_text("half a page from a killed build")
    for n in range(2):
        store.save_article(article(n, "p1"))
    store.save_article(article(2, "p9"))
    build(config, store)
    assert (out / "pages/kzg/p1").is_dir()

    # A channel taken out of the config leaves the tree, its articles stay in the store.
    result = build(make_config(tmp_path, channels=("p9",)), store)
    assert not (out / "pages/kzg/p1").exists() and not (out / "indexes/kzg-p1.md").exists()
    assert "pages/kzg/p1/1029400.md" in result.removed
    assert store.article(article(0, "p1").key) is not None
    assert (out / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert (out / "LICENSE").read_text() == "CC0\n"
    assert (out / "pages" / "notes.txt").read_text() == "mine\n"
    assert not (out / "pages" / ".tmp-newsmirror-999-1.md").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "store.db", "store.db-shm", "store.db-wal"]


def test_a_page_deleted_or_edited_by_hand_comes_back(config: Config, store: Store) -> None:
    store.save_article(article(1))
    build(config, store)
    page = config.output_dir / page_path(article(1).key)
    qr = page.with_suffix(".png")
    original, original_qr = page.read_bytes(), qr.read_bytes()
    page.write_text("vandalised")
    qr.unlink()

    result = build(config, store)
    assert set(result.written) == {str(p.relative_to(config.output_dir)) for p in (page, qr)}
    assert page.read_bytes() == original and qr.read_bytes() == original_qr


def test_changed_base_url_redraws_qr_codes_and_pages(tmp_path: Path, config: Config, store: Store) -> None:
    store.save_article(article(1))
    build(config, store)
    moved = parse_config(
        '[mirror]\nbase_url = "https://codeberg.org/x/mirror/src/branch/main"\noutput = "out"\n'
        '[[site]]\nid = "kzg"\nname = "看中国"\n[[site.channel]]\nid = "p9"\nname = "频道p9"\nfeed = "https://e.com/f"\n',
        root=tmp_path,
    )
    result = build(moved, store)
    key = article(1).key
    assert {page_path(key), qr_path(key)} <= set(result.written)
    assert (
        "https://codeberg.org/x/mirror/src/branch/main/pages/kzg/p9/1029401.md"
        in (moved.output_dir / page_path(key)).read_text()
    )


def test_hostile_store_values_cannot_leave_the_output(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path, keep=10)
    for bad_id in ("../../../escaped", "..", "a/b", ".git", "Upper"):
        store.save_article(article(1, id=bad_id))
    store.save_article(
        article(
            2,
            title="x](javascript:alert(1)) <script>alert(1)</script>\n# not a heading",
            url="javascript:alert(1)",
            author="[a](http://evil.example)",
        )
    )
    result = build(config, store)

    assert len(result.errors) == 5 and all("not a safe file name" in e for e in result.errors)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "store.db", "store.db-shm", "store.db-wal"]
    files = {p.relative_to(config.output_dir).as_posix() for p in config.output_dir.rglob("*") if p.is_file()}
    assert files == {
        "README.md",
        "feed.xml",
        "SHA256SUMS",
        "indexes/hot.md",
        "indexes/deleted.md",
        "indexes/kzg-p1.md",
        "indexes/kzg-p9.md",
        "pages/kzg/p9/1029402.md",
        "pages/kzg/p9/1029402.png",
    }
    page = (config.output_dir / "pages/kzg/p9/1029402.md").read_text()
    assert page.splitlines()[0] == r"# x\](javascript:alert(1)) \<script\>alert(1)\</script\> \# not a heading"
    assert "原文地址（需翻墙访问）：`javascript:alert(1)`" in page
    rendered = MarkdownIt("gfm-like", {"linkify": False}).parse(page)
    hrefs = [t.attrGet("href") for block in rendered for t in block.children or [] if t.type == "link_open"]
    assert not [h for h in hrefs if "javascript" in str(h) or "evil" in str(h)]
    heading = next(t for t in rendered if t.type == "inline")  # the title, shown as the literal text it is
    assert "".join(t.content for t in heading.children or []) == (
        "x](javascript:alert(1)) <script>alert(1)</script> # not a heading"
    )


def test_articles_of_sites_no_longer_configured_are_not_rendered(config: Config, store: Store) -> None:
    store.save_article(article(1, site="gone"))
    store.save_article(article(2, channel="old"))
    result = build(config, store)
    assert result.ok
    assert not list(config.output_dir.glob("pages/**/*.md"))


def test_hot_list_ranks_views_in_the_window(config: Config, store: Store) -> None:
    for n in range(4):
        store.save_article(article(n, "p9" if n < 3 else "p1"))
    build(config, store)
    hot = (config.output_dir / "indexes/hot.md").read_text()
    assert "暂无阅读统计" in hot and "](../pages" not in hot

    store.add_views("2026-02-10", [(article(2).key, 5), (article(3, "p1").key, 9), (article(1).key, 50)])
    store.add_views("2026-02-01", [(article(1).key, 1000)])  # before the 7-day window
    store.add_views("2026-02-08", [(article(2).key, 7), (ArticleKey("kzg", "p9", "404"), 99)])
    build(config, store, now=datetime(2026, 2, 10, 12, 0, tzinfo=UTC))
    hot = (config.output_dir / "indexes/hot.md").read_text()
    ranked = re.findall(r"^(\d+)\. \[.*\]\(\.\./pages/kzg/\w+/(\d+)\.md\) · .* · (\d+) 次阅读$", hot, re.M)
    assert ranked == [("1", article(1).id, "50"), ("2", article(2).id, "12"), ("3", article(3).id, "9")]
    home = (config.output_dir / "README.md").read_text()
    assert re.findall(r"^\d+\. \[.*\]\(pages/kzg/\w+/(\d+)\.md\?t=\w+\) · (\d+) 次阅读$", home, re.M) == [
        (article(1).id, "50"),
        (article(2).id, "12"),
        (article(3).id, "9"),
    ]


def test_without_a_window_end_the_newest_article_sets_it(config: Config, store: Store) -> None:
    store.save_article(article(1))  # fetched 2026-01-01
    store.add_views("2026-01-01", [(article(1).key, 3)])
    store.add_views("2025-12-20", [(article(1).key, 100)])
    build(config, store)
    assert "· 3 次阅读" in (config.output_dir / "indexes/hot.md").read_text()


def test_cache_bust_can_be_turned_off(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path, "cache_bust = false")
    store.save_article(article(1))
    build(config, store)
    home = (config.output_dir / "README.md").read_text()
    assert "?t=" not in home and "(indexes/kzg-p9.md)" in home


def test_a_fresh_checkout_with_new_mtimes_is_recognised_and_same_size_edits_are_not(
    config: Config, store: Store
) -> None:
    for n in range(2):
        store.save_article(article(n))
    build(config, store)
    out = config.output_dir
    for path in out.rglob("*"):  # what a clone does to every file
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    page = out / page_path(article(1).key)
    original = page.read_bytes()
    page.write_bytes(b"x" * len(original))  # same size, new content

    result = build(config, store)
    assert result.written == [page.relative_to(out).as_posix()]
    assert page.read_bytes() == original
    assert (out / qr_path(article(0).key)).stat().st_mtime_ns == 1_000_000_000


def test_build_command_prints_a_summary_and_needs_a_store(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from newsmirror.cli import app

    toml = tmp_path / "newsmirror.toml"
    toml.write_text(
        '[mirror]\noutput = "out"\nstore = "store.db"\n'
        '[[site]]\nid = "kzg"\nname = "看中国"\n[[site.channel]]\nid = "p9"\nname = "看世界"\nfeed = "https://e.com/f"\n'
    )
    missing = CliRunner().invoke(app, ["build", "-c", str(toml)])
    assert missing.exit_code == 2 and "no store yet; run 'newsmirror sync' first" in missing.output

    with Store(tmp_path / "store.db") as store:
        store.save_article(article(1))
    first = CliRunner().invoke(app, ["build", "-c", str(toml)])
    again = CliRunner().invoke(app, ["build", "-c", str(toml)])
    assert first.exit_code == 0 and f"built {tmp_path / 'out'}: 8 written, 0 removed, 0 unchanged" in first.output
    assert again.exit_code == 0 and "0 written, 0 removed, 8 unchanged" in again.output


def test_two_channels_with_the_same_index_name_are_reported(tmp_path: Path, store: Store) -> None:
    config = parse_config(
        '[mirror]\noutput = "out"\n'
        '[[site]]\nid = "a-b"\nname = "A"\n[[site.channel]]\nid = "c"\nname = "C"\nfeed = "https://e.com/1"\n'
        '[[site]]\nid = "a"\nname = "B"\n[[site.channel]]\nid = "b-c"\nname = "BC"\nfeed = "https://e.com/2"\n',
        root=tmp_path,
    )
    store.save_article(article(1, site="a-b", channel="c"))
    store.save_article(article(2, site="a", channel="b-c"))
    result = build(config, store)
    assert result.errors == [
        "channel a/b-c: its index name a-b-c.md is taken by channel a-b/c; rename one of the ids in the config"
    ]
    assert (config.output_dir / "pages/a-b/c/1029401.md").exists()
    assert not (config.output_dir / "pages/a").exists()


def test_a_page_the_renderer_fails_on_is_one_error_and_the_rest_is_built(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsmirror.render import article_work, site_steps

    config = make_config(tmp_path, "html = true")
    for n in range(3):
        store.save_article(article(n))
    assert build(config, store).ok
    out = config.output_dir
    broken = article(1)
    page, html = out / page_path(broken.key), out / page_path(broken.key).replace(".md", ".html")
    before = (page.read_bytes(), html.read_bytes())

    real_page, real_html = article_work.render_page, site_steps.to_html

    def render_page(stored: Article, *args: object, **kwargs: object) -> str:
        if stored.key == broken.key:
            raise RecursionError("maximum recursion depth exceeded")
        return real_page(stored, *args, **kwargs)  # type: ignore[arg-type]

    def to_html(markdown: str, path: str, *args: object, **kwargs: object) -> str:
        if path == HOME:
            raise ValueError("bad table")
        return real_html(markdown, path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(article_work, "render_page", render_page)
    monkeypatch.setattr(site_steps, "to_html", to_html)
    for n in range(3):  # every page changes; one of them cannot be rendered
        store.save_article(article(n, title=f"新标题 {n}"))
    store.save_article(article(3))
    result = build(config, store)

    assert len(result.errors) == 2, result.errors
    assert result.errors[0].startswith(f"article kzg/p9/{broken.id}: cannot render {page_path(broken.key)}: ")
    assert "RecursionError" in result.errors[0] and "the next build tries again" in result.errors[0]
    assert result.errors[1].startswith(f"cannot make {html_path(HOME)} from {HOME}: ")
    assert page.read_bytes() == before[0] and html.read_bytes() == before[1]  # readers keep the last good page
    assert "新标题 2" in (out / page_path(article(2).key)).read_text()
    assert (out / page_path(article(3).key)).exists()

    monkeypatch.setattr(article_work, "render_page", real_page)
    monkeypatch.setattr(site_steps, "to_html", real_html)
    again = build(config, store)
    assert again.ok, again.errors
    assert "新标题 1" in page.read_text() and page_path(broken.key) in again.written
    assert html_path(HOME) in again.written


def test_every_module_outside_render_that_shapes_a_page_is_in_the_code_fingerprint() -> None:
    """A change to how pages link (layout) must re-render them: each module render/ imports from the rest
    of the package is either hashed or known not to shape what a page holds."""
    import ast

    from newsmirror.render import templating

    render = Path(templating.__file__).parent
    # Data and plumbing; the offline bundles have a fingerprint of their own (bundle_fingerprint).
    not_shaping = {"config", "store", "models", "errors", "signing", "private", "processes", "bundle"}
    imported = set()
    for module in render.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("newsmirror"):
                names = [node.module.split(".")[1]] if "." in node.module else [a.name for a in node.names]
                imported.update(name for name in names if name != "render")
    assert imported - not_shaping == set(templating.SHAPING), imported
    hashed = {path.name for path in templating.code_sources()}
    assert {f"{name}.py" for name in templating.SHAPING} <= hashed and "pages.py" in hashed
    assert all(path.exists() for path in templating.code_sources())
