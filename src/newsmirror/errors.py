"""Every error newsmirror reports, in one tree.

An error's message is one line for the user (a config error: one line per mistake): it names what failed (the config
key, the file, the feed, article, image or remote) and says what to do. Each
class carries the exit code a command ends with when it stops on that error;
the command line catches ``NewsmirrorError`` once and prints the message as
plain text (never as markup: it may quote a URL, a title or git's words).

    NewsmirrorError                 exit 2: the command cannot go on
     ├── UsageError                 bad arguments, a missing file or folder
     ├── ConfigError                a config that cannot be used (names the key)
     │    └── UnsafeLayoutError     the output folder would publish a private file
     ├── StoreError                 the store cannot be opened, read or written
     ├── BuildError                 the output tree cannot be written
     ├── PublishError               nothing could be committed
     ├── CounterError               the view counter cannot start
     ├── LockBusy                   exit 3: another run holds the lock
     └── ItemError                  exit 1: one feed, article, page or image failed;
          │                         a run reports it on one line and goes on
          ├── FetchError            a URL could not be fetched
          │    └── BlockedAddressError   it leads to a loopback, private, link-local,
          │                              multicast or reserved address (http.allow_private)
          ├── FeedError             a response that is not a usable feed or listing
          ├── ExtractionError       a page holding no article
          └── ImageError            bytes that are not an image the mirror may copy

Anything else that escapes a command is a bug: the command line reports it on
one line (exit 4) and ``--debug`` shows its traceback.
"""

from __future__ import annotations

import traceback

EXIT_OK = 0
EXIT_PARTIAL = 1  # the run finished, but some feeds, articles, images or remotes failed
EXIT_USAGE = 2  # a usage, config, store or output error: nothing (more) was done
EXIT_BUSY = 3  # another run holds the lock
EXIT_BUG = 4  # an unexpected error: a bug in newsmirror


class NewsmirrorError(Exception):
    """Base of every error newsmirror reports; the message is one line for the user."""

    exit_code = EXIT_USAGE


class UsageError(NewsmirrorError):
    """Bad command-line arguments, or a file or folder they name is missing."""


class ConfigError(NewsmirrorError):
    """A config that cannot be used: one line per mistake, each naming the file and the key."""

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else problems
        super().__init__("\n".join(self.problems))


class UnsafeLayoutError(ConfigError):
    """The output folder holds, or lies inside the folder of, something private
    (the store, the config, the lock, a key): publishing it would leak it."""


class StoreError(NewsmirrorError):
    """The store cannot be opened, read or written (a full disk, a read-only file)."""


class BuildError(NewsmirrorError):
    """The output tree cannot be written."""


class PublishError(NewsmirrorError):
    """Nothing could be committed or published (one remote failing is not this)."""


class CounterError(NewsmirrorError):
    """The view counter cannot start."""


class LockBusy(NewsmirrorError):
    """Another run holds the lock."""

    exit_code = EXIT_BUSY


class ItemError(NewsmirrorError):
    """One feed, article, page or image failed; a run reports it and goes on."""

    exit_code = EXIT_PARTIAL


class FetchError(ItemError):
    """A URL could not be fetched; the message is one line naming the URL."""

    def __init__(self, url: str, reason: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status
        # Seconds the server asked us to wait (Retry-After), for the feed's schedule.
        self.retry_after = retry_after


class BlockedAddressError(FetchError):
    """A URL whose host is, or resolves to, an address the mirror must not reach."""


class FeedError(ItemError):
    """A response that is not a usable feed or listing."""


class ExtractionError(ItemError):
    """A page from which no article could be extracted."""


class ImageError(ItemError):
    """Bytes that are not an image the mirror may copy; the message names the URL."""


def unexpected(exc: BaseException) -> str:
    """One line for an exception that is not a ``NewsmirrorError``: a bug met by some input."""
    text = " ".join(str(exc).split())
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    at = f" at {where.filename.rsplit('/', 1)[-1]}:{where.lineno}" if where else ""
    return f"unexpected {type(exc).__name__}{at}: {text or '(no message)'} (--debug shows the traceback)"
