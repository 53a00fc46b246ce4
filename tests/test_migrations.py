"""Store versions: an older store is upgraded in place and keeps everything; a newer one is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsmirror.cli import app
from newsmirror.models import ArticleKey
from newsmirror.store import Store, StoreError, migrations

FIXTURE = Path(__file__).parent / "fixtures" / "store-unversioned.sql"


def unversioned_store(path: Path) -> Path:
    """A store as newsmirror wrote it before stores had a schema version (the committed fixture)."""
    with sqlite3.connect(path) as db:
        db.executescript(FIXTURE.read_text("utf-8"))
    db.close()
    return path


def rows(path: Path) -> dict[str, set[tuple[object, ...]]]:
    """Every row of every table, by table, with the columns the table has."""
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: set(db.execute(f'SELECT * FROM "{table}"')) for table in tables}


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def test_migrations_are_numbered_in_order() -> None:
    assert [m.version for m in migrations.MIGRATIONS] == list(range(1, len(migrations.MIGRATIONS) + 1))
    assert all(step.strip() and ";" not in step.strip().rstrip(";") for m in migrations.MIGRATIONS for step in m.sqlite)


def test_an_unversioned_store_upgrades_in_place_and_keeps_everything(tmp_path: Path) -> None:
    path = unversioned_store(tmp_path / "old.db")
    before = rows(path)
    assert user_version(path) == 0
    assert len(before["articles"]) == 3 and len(before["images"]) == 2 and len(before["views"]) == 4

    with Store(path) as store:
        assert store.upgraded is not None
        assert str(store.upgraded) == (
            f"{path}: upgraded the store in place from schema version 0 to {migrations.LATEST}"
        )
        # Through the API: the articles, images and views are all there.
        article = store.article(ArticleKey("kzg", "p9", "1029400"))
        assert article is not None and article.title == "王毅抵达莫斯科 不排除与普京会晤可能性"
        assert {h.key.id for h in store.article_heads("kzg", "p9")} == {"1029400", "1029401"}
        image = store.image_data("https://img.example.com/pic/2023/2-20/p1.png")
        assert image is not None and image.startswith(b"\x89PNG")
        assert store.view_totals()[ArticleKey("kzg", "p9", "1029400")] == 17
        assert store.article_image_files()[ArticleKey("kzg", "p9", "1029400")]

    assert user_version(path) == migrations.LATEST
    after = rows(path)
    for table, old_rows in before.items():
        # Later migrations may add columns (at the end) and tables; no row may be lost or changed.
        width = len(next(iter(old_rows))) if old_rows else 0
        assert {row[:width] for row in after[table]} >= old_rows, table

    # Upgraded once: the next open says nothing and changes nothing.
    with Store(path) as store:
        assert store.upgraded is None
    assert rows(path) == after


def test_the_upgrade_is_one_line_from_the_command_line(tmp_path: Path) -> None:
    unversioned_store(tmp_path / "newsmirror.db")
    (tmp_path / "newsmirror.toml").write_text('[mirror]\ntitle = "t"\nbase_url = "https://example.com/m"\n', "utf-8")
    runner = CliRunner()
    first = runner.invoke(app, ["build", "-c", str(tmp_path / "newsmirror.toml")])
    assert first.exit_code == 0, first.output
    upgrade_lines = [line for line in first.output.splitlines() if "upgraded the store" in line]
    assert upgrade_lines == [
        f"{tmp_path / 'newsmirror.db'}: upgraded the store in place from schema version 0 to {migrations.LATEST}"
    ]
    second = runner.invoke(app, ["build", "-c", str(tmp_path / "newsmirror.toml")])
    assert second.exit_code == 0 and "upgraded" not in second.output


def test_a_new_store_starts_at_the_latest_version_without_a_message(tmp_path: Path) -> None:
    with Store(tmp_path / "new.db") as store:
        assert store.upgraded is None
    assert user_version(tmp_path / "new.db") == migrations.LATEST


def test_a_store_from_a_newer_release_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = unversioned_store(tmp_path / "future.db")
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {migrations.LATEST + 1}")
    db.close()
    before = rows(path)
    for readonly in (False, True):
        with pytest.raises(StoreError, match=r"written by a newer release\. Upgrade newsmirror"):
            Store(path, readonly=readonly)
    assert rows(path) == before and user_version(path) == migrations.LATEST + 1


def test_a_failing_migration_leaves_the_store_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = unversioned_store(tmp_path / "old.db")
    before = rows(path)
    broken = migrations.Migration(
        migrations.LATEST + 1,
        "a step that fails after one that succeeds",
        ("ALTER TABLE articles ADD COLUMN extra TEXT", "ALTER TABLE no_such_table ADD COLUMN x TEXT"),
    )
    monkeypatch.setattr("newsmirror.store.MIGRATIONS", (*migrations.MIGRATIONS, broken))
    monkeypatch.setattr("newsmirror.store.LATEST", broken.version)
    with pytest.raises(StoreError, match=r"cannot upgrade the store from schema version 0 to \d+: .*unchanged"):
        Store(path)
    # One transaction: neither version 1's steps nor the first step of the broken one stayed.
    assert rows(path) == before and user_version(path) == 0
    with sqlite3.connect(path) as db:
        assert "extra" not in {r[1] for r in db.execute("PRAGMA table_info(articles)")}


def test_a_readonly_open_asks_for_the_upgrade_instead_of_failing_later(tmp_path: Path) -> None:
    path = unversioned_store(tmp_path / "old.db")
    with pytest.raises(StoreError, match="once to upgrade it in place"):
        Store(path, readonly=True)
    assert user_version(path) == 0
