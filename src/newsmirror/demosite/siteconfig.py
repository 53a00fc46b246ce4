"""The newsmirror.toml that mirrors the demo sites."""

from __future__ import annotations

import json

from newsmirror.demosite.content import Site


def _toml_list(values: list[str]) -> str:
    # JSON string and list syntax is valid TOML for these plain strings.
    return json.dumps(values, ensure_ascii=False)


def config_toml(sites: list[Site], server: str, output: str, store: str, mirror_url: str) -> str:
    lines = [
        "# newsmirror config for the demo sites (`newsmirror demo-site`).",
        f"# The demo server was at {server} when this was written.",
        "",
        "[mirror]",
        'title = "新闻镜像（演示）"',
        f"base_url = {json.dumps(mirror_url)}",
        f"output = {json.dumps(output)}",
        f"store = {json.dumps(store)}",
        "",
        "[http]",
        "concurrency = 16",
        "per_host = 4",
        "connect_timeout = 5",
        "read_timeout = 10",
        "retries = 1",
        "backoff = 0.1",
        "allow_private = true   # the demo sites are served on 127.0.0.1",
    ]
    for site in sites:
        lines += ["", "[[site]]", f"id = {json.dumps(site.id)}", f"name = {json.dumps(site.name, ensure_ascii=False)}"]
        if site.content:
            lines.append(f"content = {json.dumps(site.content)}")
        elif not site.body_from_feed:
            lines.append("# no extraction rules: the generic extractor finds the article")
        if site.remove:
            lines.append(f"remove = {_toml_list(site.remove)}")
        if site.drop_blocks_matching:
            lines.append(f"drop_blocks_matching = {_toml_list(site.drop_blocks_matching)}")
        if site.body_from_feed:
            lines.append("body_from_feed = true   # its pages are a JavaScript shell; the feed has the text")
        lines.append(f"skip_titles_matching = {_toml_list(site.skip_titles_matching)}")
        lines.append(f"update_markers = {_toml_list(site.update_markers)}")
        for channel in site.channels:
            lines += ["", "  [[site.channel]]", f"  id = {json.dumps(channel.id)}"]
            lines.append(f"  name = {json.dumps(channel.name, ensure_ascii=False)}")
            if channel.kind == "listing":
                lines.append(f"  listing = {json.dumps(server + channel.path, ensure_ascii=False)}")
                lines.append(f"  links = {json.dumps(channel.links)}")
            else:
                lines.append(f"  feed = {json.dumps(server + channel.path, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"
