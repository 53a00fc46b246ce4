"""The sample news sites: bundled feeds and article pages served on 127.0.0.1.

Used by `newsmirror demo-site` and by the tests. Everything on these sites is
written for this project; the sites, people and events are invented.
"""

from newsmirror.demosite.expected import Expected, ExpectedArticle
from newsmirror.demosite.server import DemoSite, ServedRequest

__all__ = ["DemoSite", "Expected", "ExpectedArticle", "ServedRequest"]
