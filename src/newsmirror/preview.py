"""A read-only preview server of the output tree (`newsmirror serve`), on loopback by default.

Standard library only: it is for looking at a build before publishing it, not
for serving readers. It answers GET and HEAD for files inside the output folder
and nothing else: no listing of folders, no hidden files (``.git``), nothing
reached through ``..`` or a symbolic link out of the folder. ``/`` is
``index.html`` when the HTML site is built, else the home page's Markdown.
"""

from __future__ import annotations

import os
import posixpath
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from newsmirror.layout import HOME, HTML_HOME

_TYPES = {
    ".html": "text/html; charset=utf-8",
    # Shown as text in a browser, where text/markdown would be downloaded.
    ".md": "text/plain; charset=utf-8",
    ".xml": "text/xml; charset=utf-8",
    ".png": "image/png",
}


class PreviewHandler(SimpleHTTPRequestHandler):
    server_version = "newsmirror-preview"

    def __init__(self, *args: object, directory: str, **kwargs: object) -> None:
        self.root = Path(directory).resolve()
        self.extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **_TYPES}
        super().__init__(*args, directory=str(self.root), **kwargs)  # type: ignore[arg-type]

    def send_head(self):  # type: ignore[no-untyped-def]
        target = self._target()
        if target is None:
            self.send_error(HTTPStatus.NOT_FOUND, "Not found in the mirror")
            return None
        self.path = "/" + target.relative_to(self.root).as_posix()
        return super().send_head()

    def _target(self) -> Path | None:
        """The file a request names, if it is a file inside the output folder and not hidden."""
        path = unquote(urlsplit(self.path).path)
        parts = [p for p in path.split("/") if p]
        if any(p.startswith(".") or "\\" in p or "\0" in p for p in parts):
            return None  # "..", ".git", hidden files
        if not parts:
            parts = [HTML_HOME] if (self.root / HTML_HOME).is_file() else [HOME]
        candidate = self.root.joinpath(posixpath.join(*parts))
        try:
            resolved = candidate.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not resolved.is_relative_to(self.root) or not resolved.is_file():
            return None  # a symbolic link out of the folder, or a folder
        if any(p.startswith(".") for p in resolved.relative_to(self.root).parts):
            return None  # a link to a hidden file
        return resolved

    def list_directory(self, path: str | os.PathLike[str]):  # type: ignore[no-untyped-def]
        self.send_error(HTTPStatus.NOT_FOUND, "Not found in the mirror")
        return None

    def log_message(self, format: str, *args: object) -> None:
        pass


def preview_server(root: Path, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """A server of ``root`` bound to host:port (port 0: any free port); call serve_forever() to run it."""
    return ThreadingHTTPServer((host, port), partial(PreviewHandler, directory=str(root)))
