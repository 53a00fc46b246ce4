"""build: a channel's index pages are made again only when what they show changed, or their file did."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsmirror.render import build, list_steps
from newsmirror.render.channels import ChannelView
from newsmirror.store import Store
from test_build import article, make_config, snapshot

P9, P1 = "indexes/kzg-p9.md", "indexes/kzg-p1.md"


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The channels whose index pages the builds render, in order."""
    channels: list[str] = []
    real = list_steps.render_indexes

    def render_indexes(view: ChannelView, *args: object, **kwargs: object) -> dict[str, str]:
        channels.append(view.channel.id)
        return real(view, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(list_steps, "render_indexes", render_indexes)
    return channels


def bytes_of(root: Path) -> dict[str, bytes]:
    return {path: data for path, (_mtime, data) in snapshot(root).items()}


def test_an_unchanged_index_is_not_made_again_and_a_changed_one_is(
    tmp_path: Path, store: Store, rendered: list[str]
) -> None:
    config = make_config(tmp_path, "html = true\n")
    for n in range(4):
        store.save_article(article(n, ("p9", "p1")[n % 2]))
    build(config, store)
    assert sorted(rendered) == ["p1", "p9"]
    before = snapshot(config.output_dir)

    rendered.clear()
    assert build(config, store).written == []
    assert rendered == []  # nothing changed: no index rendered

    store.save_article(article(4, "p9"))
    result = build(config, store)
    assert rendered == ["p9"]
    after = snapshot(config.output_dir)
    assert P9 in result.written and "indexes/kzg-p9.2.md" in result.written
    assert after[P1] == before[P1] and after[P1.replace(".md", ".html")] == before[P1.replace(".md", ".html")]
    assert "第4篇" in after[P9][1].decode()

    # What it made is what a first build of the same store makes, home page and HTML twins too.
    fresh = make_config(tmp_path / "fresh", "html = true\n")
    build(fresh, store)
    assert bytes_of(config.output_dir) == bytes_of(fresh.output_dir)


def test_an_index_edited_or_deleted_by_hand_is_made_again(tmp_path: Path, store: Store, rendered: list[str]) -> None:
    config = make_config(tmp_path)
    for n in range(4):
        store.save_article(article(n, ("p9", "p1")[n % 2]))
    build(config, store)
    original = (config.output_dir / P1).read_bytes()
    (config.output_dir / P1).write_bytes(original.replace("频道".encode(), "频到".encode()))
    (config.output_dir / P9).unlink()

    rendered.clear()
    result = build(config, store)
    assert sorted(rendered) == ["p1", "p9"] and {P1, P9} <= set(result.written)
    assert (config.output_dir / P1).read_bytes() == original and (config.output_dir / P9).exists()


def test_new_index_settings_make_every_index_again(tmp_path: Path, store: Store, rendered: list[str]) -> None:
    for n in range(4):
        store.save_article(article(n, ("p9", "p1")[n % 2]))
    build(make_config(tmp_path), store)
    rendered.clear()
    result = build(make_config(tmp_path, 'variants = ["zh-Hant"]\n'), store)  # every index links its twin
    assert set(rendered) == {"p1", "p9"} and {P1, P9} <= set(result.written)
    assert "zh-hant/indexes/kzg-p1.md" in (tmp_path / "out" / P1).read_text()
