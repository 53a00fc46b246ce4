"""Strict config: every mistake an operator makes is one line in TOML's words, at `check`."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from newsmirror.cli import app
from newsmirror.config import (
    ChannelConfig,
    ConfigError,
    HttpConfig,
    MirrorConfig,
    RemoteConfig,
    SiteConfig,
    parse_config,
)

GOOD = """
[mirror]
base_url = "https://github.com/someone/mirror/blob/main"
{mirror}

[http]
{http}

[[site]]
id = "kzg"
name = "看中国"

  [[site.channel]]
  id = "p9"
  name = "看世界"
  feed = "{feed}"
"""


def problems(mirror: str = "", http: str = "", feed: str = "https://www.kzg.io/p9.xml", text: str = "") -> list[str]:
    with pytest.raises(ConfigError) as error:
        parse_config(text or GOOD.format(mirror=mirror, http=http, feed=feed), "m.toml")
    return error.value.problems


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        (
            {"feed": "www.kzg.io/p9.xml"},
            'm.toml: site["kzg"].channel["p9"].feed: "www.kzg.io/p9.xml" is not a web address (it must start with '
            'http:// or https:// and name a host); write it in full, e.g. "https://www.kzg.io/p9.xml"',
        ),
        (
            {"mirror": 'mirrors = [{ name = "copy", url = "/srv/mirror" }]'},
            'm.toml: mirror.mirrors["copy"].url: "/srv/mirror" is not a web address (it must start with http:// or '
            "https:// and name a host): a file path is no address a reader or a server can open",
        ),
        (
            {"mirror": 'site_url = "file:///srv/mirror"'},
            'm.toml: mirror.site_url: "file:///srv/mirror" is not a web address (it must start with http:// or '
            "https:// and name a host): a file path is no address a reader or a server can open",
        ),
        (
            {"mirror": 'counter_url = "counter.kzg.io"'},
            'm.toml: mirror.counter_url: "counter.kzg.io" is not a web address (it must start with http:// or '
            'https:// and name a host); write it in full, e.g. "https://counter.kzg.io"',
        ),
        (
            {"http": 'proxy = "ftp://127.0.0.1:1080"'},
            'm.toml: http.proxy: "ftp://127.0.0.1:1080" is not a proxy address (it must start with http://, '
            "https://, socks5:// or socks5h:// and name a host)",
        ),
        (
            {"mirror": 'index_size = "100"'},
            'm.toml: mirror.index_size: an integer is expected; "100" (a string) was given (write 100 without quotes)',
        ),
        (
            {"mirror": "html = 1"},
            "m.toml: mirror.html: true or false (without quotes) is expected; 1 (an integer) was given",
        ),
        (
            {"mirror": 'html = "yes"'},
            'm.toml: mirror.html: true or false (without quotes) is expected; "yes" (a string) was given',
        ),
        (
            {"mirror": 'mirrors = ["https://gitlab.com/someone/mirror"]'},
            "m.toml: mirror.mirrors[1]: a table with name and url is expected (e.g. { name = …, url = … }); "
            '"https://gitlab.com/someone/mirror" (a string) was given',
        ),
        (
            {"mirror": 'outbound_links = "none"'},
            'm.toml: mirror.outbound_links: one of "plain", "keep" or "original" is expected; '
            '"none" (a string) was given',
        ),
        (
            {"mirror": "keep_per_channel = 0"},
            "m.toml: mirror.keep_per_channel: a value of at least 1 is expected; 0 (an integer) was given",
        ),
        ({"http": "concurency = 4"}, "m.toml: http.concurency: unknown key; did you mean concurrency?"),
    ],
)
def test_each_mistake_is_one_line_in_tomls_words(mistake: dict[str, str], message: str) -> None:
    assert problems(**mistake) == [message]
    assert "Input should" not in message and "MirrorLink" not in message


def test_a_table_where_an_array_of_tables_is_meant() -> None:
    single = GOOD.format(mirror="", http="", feed="https://www.kzg.io/p9.xml").replace("[[site]]", "[site]")
    assert problems(text=single.replace("[[site.channel]]", "[site.channel]")) == [
        "m.toml: site: `[[site]]` (an array of tables) is expected; `[site]` was given"
    ]
    assert problems(
        text=GOOD.format(mirror="", http="", feed="https://a.io/f").replace("[[site.channel]]", "[site.channel]")
    ) == [
        'm.toml: site["kzg"].channel: `[[site.channel]]` (an array of tables) is expected; `[site.channel]` was given'
    ]
    assert problems(text="[[mirror]]\ntitle = 'x'\n") == [
        "m.toml: mirror: `[mirror]` (a table) is expected; `[[mirror]]` (an array of tables) was given"
    ]


def test_every_mistake_is_reported_at_once_one_line_each(tmp_path: Path) -> None:
    config = tmp_path / "newsmirror.toml"
    config.write_text(GOOD.format(mirror='html = 1\nindex_size = "100"', http="", feed="kzg.io/p9.xml"), "utf-8")
    result = CliRunner().invoke(app, ["check", "--config", str(config)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith(f"error: {config}: ") for line in lines), result.output
    assert [line.split(": ")[2] for line in lines] == [
        "mirror.index_size",
        "mirror.html",
        'site["kzg"].channel["p9"].feed',
    ]


def test_the_untouched_starter_warns_at_check_without_failing(tmp_path: Path) -> None:
    config = tmp_path / "newsmirror.toml"
    assert CliRunner().invoke(app, ["init", "--config", str(config)]).exit_code == 0
    result = CliRunner().invoke(app, ["check", "--config", str(config)])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        f"warning: {config}: mirror.base_url is still the starter's example "
        '"https://github.com/example/mirror/blob/main": put your own address here',
        f'warning: {config}: site["example"].channel["world"].feed is still the starter\'s example '
        '"https://www.example.com/rss/world.xml": put your own address here',
        f"{config}: ok — 1 site, 1 channel, no remotes; "
        f"output {tmp_path / 'mirror'}, store {tmp_path / 'newsmirror.db'}",
    ]


def test_example_domains_anywhere_warn_and_a_finished_config_is_quiet() -> None:
    text = GOOD.format(mirror='counter_url = "https://counter.example.org"', http="", feed="https://www.kzg.io/p9.xml")
    assert parse_config(text, "m.toml").warnings == [
        'm.toml: mirror.counter_url: "https://counter.example.org" is an example address (example.org): '
        "put the real one here"
    ]
    assert parse_config(GOOD.format(mirror="", http="", feed="https://www.kzg.io/p9.xml")).warnings == []


def test_plurals_in_the_check_summary(tmp_path: Path) -> None:
    config = tmp_path / "newsmirror.toml"
    text = GOOD.format(mirror="", http="", feed="https://www.kzg.io/p9.xml")
    text += '\n  [[site.channel]]\n  id = "p1"\n  name = "p1"\n  feed = "https://www.kzg.io/p1.xml"\n'
    text += '\n[[remote]]\nname = "github"\nurl = "git@github.com:someone/mirror.git"\n'
    config.write_text(text, "utf-8")
    result = CliRunner().invoke(app, ["check", "--config", str(config)])
    assert result.exit_code == 0 and "ok — 1 site, 2 channels, 1 remote;" in result.output


def test_the_starter_itself_is_valid_and_strict_types_still_take_toml_numbers_and_paths() -> None:
    starter = resources.files("newsmirror").joinpath("starter.toml").read_text("utf-8")
    config = parse_config(starter)
    assert config.http.connect_timeout == 10.0  # an integer where a float is expected is fine
    assert config.mirror.output == Path("mirror")


def test_counted_words() -> None:
    from newsmirror.words import counted

    assert [counted(n, "site") for n in (0, 1, 2, 1200)] == ["0 sites", "1 site", "2 sites", "1,200 sites"]
    assert counted(1, "body", "bodies") == "1 body" and counted(3, "body", "bodies") == "3 bodies"
    assert counted(0, "remote", zero="no") == "no remotes"


def _keys_of(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items() if not f.exclude]


# pydantic's own English and Python's names: none of it may reach an operator.
_PYDANTIC_WORDS = re.compile(r"Input |instance of|dictionary|[A-Z]\w+Config|<class|function-|Value error")
_WRONG = ["{ x = 1 }", "[1, 2]", '"text"', "12", "true", "1.5", "1979-05-27T07:32:00Z"]
_TABLES = {
    "mirror": ("[mirror]\n", MirrorConfig),
    "http": ("[http]\n", HttpConfig),
    "site": ('[[site]]\nid = "kzg"\nname = "看中国"\n', SiteConfig),
    "channel": ('  [[site.channel]]\n  id = "p9"\n  name = "看世界"\n', ChannelConfig),
    "remote": ('[[remote]]\nname = "github"\n', RemoteConfig),
}


@pytest.mark.parametrize(("table", "key"), [(t, k) for t, (_, m) in _TABLES.items() for k in _keys_of(m)])
def test_every_key_given_a_wrong_type_says_so_in_tomls_words(table: str, key: str) -> None:
    """Generic, so keys added later are covered too: no pydantic English, no class name, one line."""
    header = _TABLES[table][0]
    base = GOOD.format(mirror="", http="", feed="https://www.kzg.io/p9.xml") + '\n[[remote]]\nname = "github"\n'
    base += 'url = "git@github.com:someone/mirror.git"\n'
    for wrong in _WRONG:
        text = base.replace(header, f"{header}{key} = {wrong}\n", 1)
        try:
            parse_config(text, "m.toml")
        except ConfigError as error:
            for line in error.problems:
                assert "\n" not in line and line.startswith("m.toml: ")
                assert not re.search(
                    r"Input |instance of|dictionary|[A-Z]\w+Config|<class|function-|Value error", line
                ), line
