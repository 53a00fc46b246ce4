"""One self-contained HTML file per article, to send in a chat app or carry on a USB stick: its images
inlined as ``data:image/…`` URIs — the only place the mirror uses them: a data URI is only worth its
third more bytes when the page must travel as one file.
"""

from __future__ import annotations

import base64

from newsmirror.bundle.content import IMAGE_TYPES, OfflineArticle, OfflineMirror, image_refs
from newsmirror.render.html_site import wrap_page
from newsmirror.render.templating import plain_text

# A file opened from a chat app must not reach the network: only its own inlined images load.
SINGLE_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def single_name(item: OfflineArticle) -> str:
    """The file's name: site, channel and id say which article it is, and are safe file names."""
    return f"{item.key.site}-{item.key.channel}-{item.key.id}.html"


def single_html(copy: OfflineMirror, item: OfflineArticle, body: str) -> bytes:
    """The article (``body``: its ``body_html``) as one file, every image it shows inlined."""
    refs: dict[str, str] = {}
    for url, name in item.images.items():
        data = copy.store.image_data(url)
        if data is not None:
            refs[name] = f"data:{IMAGE_TYPES[name.rsplit('.', 1)[1]]};base64,{base64.b64encode(data).decode()}"
    fragment = image_refs(copy.article_html(item, body, nav=False), refs.get)
    title = copy.convert(item.article.title, item.key.site) or copy.convert(copy.config.mirror.title)
    lang = copy.variant.lang if copy.variant else item.view.site.language
    return wrap_page(fragment, plain_text(title), root="", lang=lang, csp=SINGLE_CSP).encode()
