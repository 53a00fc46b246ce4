"""Page → article: title, metadata and the cleaned body as HTML, Markdown and text.

Modules, in the order a page goes through them:

- ``dom``: tree helpers every step shares (parsing, block tags, text keys, removal, copies, URLs);
- ``metadata``: title, author, lead image, JSON-LD body from the page's markup; ``dates``: publication dates;
- ``generic``: the article body of a page without site rules, picked by evidence;
  ``density``: the text-and-punctuation density method, its second opinion;
- ``article``: the pipeline (``extract_article``, ``extract_fragment``) and what it returns;
- ``clean``: boilerplate out, URLs absolute, only safe HTML left; ``images``: the body's images;
  ``portal``: the junk of old portals and Chinese pages, and their <br>-broken lines;
- ``markdown``: clean HTML → GitHub Markdown;
- ``files``: saved pages and output formats for the ``extract`` command.
"""

from newsmirror.extract.article import (
    Extracted,
    ExtractionError,
    SiteRules,
    extract_article,
    extract_fragment,
    parse_page,
)
from newsmirror.extract.dates import parse_date
from newsmirror.extract.files import FORMATS, extract_saved, is_page_file, page_stem, read_page, render

__all__ = [
    "FORMATS",
    "Extracted",
    "ExtractionError",
    "SiteRules",
    "extract_article",
    "extract_fragment",
    "extract_saved",
    "is_page_file",
    "page_stem",
    "parse_date",
    "parse_page",
    "read_page",
    "render",
]
