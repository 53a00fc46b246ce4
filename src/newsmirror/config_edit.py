"""Adding channels to a config file, keeping everything else in it byte for byte.

tomlkit edits the TOML document in place: the operator's comments, spacing,
key order and commented-out examples stay as they were; only the new tables
are added (to the given site, or as a new ``[[site]]``). The result is checked
as a whole before it is written, and written atomically.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import tomlkit
from tomlkit.items import AoT, Table

from newsmirror.config import ConfigError, parse_config
from newsmirror.discover import Discovery, channel_id_for, site_id_for


@dataclass(frozen=True, slots=True)
class NewChannel:
    id: str
    name: str
    source: str  # the feed, or the listing page
    links: str = ""  # the listing's link selector


@dataclass(frozen=True, slots=True)
class ConfigChange:
    text: str  # the whole new config
    site: str  # the site id the channels went to
    new_site: bool
    channels: list[NewChannel]
    already: list[str]  # sources already in the config, left alone


def add_channels(text: str, found: Discovery, site_id: str | None, source: str = "newsmirror.toml") -> ConfigChange:
    """The config ``text`` with ``found``'s feeds (or its listing proposal) added."""
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    sites = doc.get("site")
    if sites is not None and not isinstance(sites, AoT):
        raise ConfigError(f"{source}: site: `[[site]]` (an array of tables) is expected; `[site]` was given")
    site_tables: list[Table] = list(sites) if sites is not None else []
    known = {
        str(channel.get(key))
        for site in site_tables
        for channel in site.get("channel", [])
        for key in ("feed", "listing")
        if channel.get(key)
    }
    taken_sites = {str(site.get("id")) for site in site_tables}
    target = next((s for s in site_tables if site_id and s.get("id") == site_id), None)
    new_site = target is None
    if target is None:
        target = tomlkit.table()
        target.add("id", site_id or site_id_for(found.page, taken_sites))
        target.add("name", found.site_name)
        target.add(tomlkit.nl())
    taken_channels = {str(c.get("id")) for c in target.get("channel", [])}

    wanted: list[NewChannel] = []
    already: list[str] = []
    for feed in found.feeds:
        if feed.url in known:
            already.append(feed.url)
            continue
        channel_id = channel_id_for(feed.url, feed.title, taken_channels)
        taken_channels.add(channel_id)
        wanted.append(NewChannel(channel_id, feed.title or channel_id, feed.url))
    if found.listing and found.listing.url not in known:
        channel_id = channel_id_for(found.listing.url, "", taken_channels)
        wanted.append(NewChannel(channel_id, found.site_name or channel_id, found.listing.url, found.listing.links))
    elif found.listing:
        already.append(found.listing.url)

    site = str(target.get("id"))
    if not wanted:
        return ConfigChange(text, site, False, [], already)
    channels = target.get("channel")
    if channels is None:
        channels = tomlkit.aot()
        target.add("channel", channels)
    for channel in wanted:
        table = tomlkit.table()
        table.add("id", channel.id)
        table.add("name", channel.name)
        if channel.links:
            table.add("listing", channel.source)
            table.add("links", channel.links)
            table["links"].comment("guessed by newsmirror add: check it with newsmirror sync --channel " + channel.id)
        else:
            table.add("feed", channel.source)
        table.add(tomlkit.nl())
        channels.append(table)
    if new_site:
        if sites is None:
            sites = tomlkit.aot()
            doc.add("site", sites)
        sites.append(target)
    new_text = tomlkit.dumps(doc)
    if not new_text.endswith("\n"):
        new_text += "\n"
    parse_config(new_text, source)  # the whole config must still be valid; raises ConfigError
    return ConfigChange(new_text, site, new_site, wanted, already)


def write_config(path: Path, text: str) -> None:
    """Replace the config atomically: a temp file beside it, then a rename."""
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        temp.write_text(text, "utf-8")
        if path.exists():
            os.chmod(temp, path.stat().st_mode & 0o7777)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
