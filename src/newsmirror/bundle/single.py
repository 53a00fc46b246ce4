"""One self-contained HTML file per article, to send in a chat app or carry on a USB stick: its images
inlined as ``data:image/…`` URIs — the only place the mirror uses them: a data URI is only worth its
third more bytes when the page must travel as one file.
"""

from __future__ import annotations

import base64

from newsmirror.bundle.content import IMAGE_TYPES, OfflineArticle, OfflineMirror
from newsmirror.render.html_site import to_html

# A file opened from a chat app must not reach the network: only its own inlined images load.
SINGLE_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def single_name(item: OfflineArticle) -> str:
    """The file's name: site, channel and id say which article it is, and are safe file names."""
    return f"{item.key.site}-{item.key.channel}-{item.key.id}.html"


def single_html(copy: OfflineMirror, item: OfflineArticle) -> bytes:
    refs: dict[str, str] = {}
    for url, name in item.images.items():
        data = copy.store.image_data(url)
        if data is not None:
            refs[name] = f"data:{IMAGE_TYPES[name.rsplit('.', 1)[1]]};base64,{base64.b64encode(data).decode()}"
    markdown = copy.standalone(item, refs)
    return to_html(markdown, single_name(item), copy.config.mirror.title, feed=False, csp=SINGLE_CSP).encode()
