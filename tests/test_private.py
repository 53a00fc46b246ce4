"""Nothing private is published: unsafe layouts are refused by every command, and publish
never commits a store, a lock, a TOML config, a key or an .env file, whatever is in the tree."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsmirror.cli import app

GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
SITE = '[[site]]\nid = "s"\nname = "S"\n[[site.channel]]\nid = "c"\nname = "C"\nfeed = "https://news.example/f.xml"\n'


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner(env=GIT_ENV).invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.output


# (mirror settings, where the config file goes, what the output folder would publish)
LAYOUTS = {
    "output is the config's folder": ('output = "."', "newsmirror.toml", "the store"),
    "store inside the output": ('output = "site"\nstore = "site/newsmirror.db"', "newsmirror.toml", "the store"),
    "config inside the output": ('output = "."\nstore = "../state/newsmirror.db"', "newsmirror.toml", "the config"),
    "output inside the store": ('output = "newsmirror.db/out"', "newsmirror.toml", "lies inside the store"),
}


@pytest.mark.parametrize("command", ["check", "build", "publish", "sync"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_unsafe_layout_is_refused(tmp_path: Path, layout: str, command: str) -> None:
    mirror, name, what = LAYOUTS[layout]
    root = tmp_path / "mirror-home"
    root.mkdir()
    config = root / name
    config.write_text(f"[mirror]\n{mirror}\n\n{SITE}", "utf-8")
    code, output = invoke(command, "--config", str(config))
    assert code == 2, output
    lines = output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: the output folder "), output
    assert what in lines[0], output
    assert not list(tmp_path.rglob(".git")) and not list(tmp_path.rglob("pages")), "something was written"


def test_a_tree_holding_private_files_publishes_none_of_them(tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(remote)], check=True)
    config = tmp_path / "newsmirror.toml"
    config.write_text(f'[mirror]\noutput = "mirror"\n\n{SITE}\n[[remote]]\nname = "r"\nurl = "{remote}"\n', "utf-8")
    tree = tmp_path / "mirror"
    (tree / "pages").mkdir(parents=True)
    (tree / "README.md").write_text("# 镜像\n", "utf-8")
    (tree / "pages" / "a.md").write_text("# 一\n", "utf-8")
    # What an operator's mistakes leave in the tree.
    db = sqlite3.connect(tree / "newsmirror.db")
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    (tree / "newsmirror.db-wal").write_bytes(b"wal")
    (tree / "newsmirror.db-shm").write_bytes(b"shm")
    (tree / "newsmirror.db.lock").write_text("pid 1", "utf-8")
    (tree / "old.toml").write_text('[http]\nproxy = "socks5h://user:password@127.0.0.1:1080"\n', "utf-8")
    (tree / ".env").write_text("TOKEN=secret\n", "utf-8")
    (tree / "signing.key").write_text("secret key\n", "utf-8")
    (tree / "pages" / "backup.bin").write_bytes((tree / "newsmirror.db").read_bytes())  # a store by another name
    (tree / ".gitignore").write_text("!*.db\n!*.toml\n", "utf-8")  # a negation cannot bring them back

    code, output = invoke("publish", "--config", str(config))
    assert code == 0, output
    published = subprocess.run(
        ["git", "-C", str(remote), "ls-tree", "-r", "--name-only", "main"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert sorted(published) == [".gitignore", "README.md", "pages/a.md"]
    history = subprocess.run(["git", "-C", str(remote), "log", "--all", "-p"], capture_output=True, text=True).stdout
    assert "password" not in history and "secret" not in history
    assert "not published:" in output and "backup.bin" in output

    # Nothing changed: no commit, not even an empty one.
    code, output = invoke("publish", "--config", str(config))
    assert code == 0 and "no change in the output tree, no commit" in output, output
