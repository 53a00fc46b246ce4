"""The command line's frame: the Typer app, its one error handler, and helpers every command group shares."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

from newsmirror.config import Config, load_config
from newsmirror.errors import EXIT_BUG, EXIT_PARTIAL, EXIT_USAGE, NewsmirrorError, UsageError
from newsmirror.progress import LOG_FORMATS, Log

if TYPE_CHECKING:
    from newsmirror.store import Store


# markup=False: every message may quote outside text (paths, URLs, titles, selectors, git's words).
console = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


# Every line for the operator: plain, or JSON lines with --log-format json (set in main()).
log = Log(console)


def say(level: str, message: str, event: str = "") -> None:
    """Print one ``error:``/``warning:``/``stale:`` line (or, with --log-format json, one
    JSON object). The message is plain text, never Rich markup: it quotes URLs, titles,
    selectors and git's words, which may hold brackets."""
    log(level, event or level, message)  # type: ignore[arg-type]


def one_line(text: str) -> str:
    return " ".join(text.split())


class Commands(TyperGroup):
    """The one place where errors become messages and exit codes."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except NewsmirrorError as exc:
            # One line per problem (a config can hold several mistakes).
            for line in str(exc).splitlines() or [type(exc).__name__]:
                say("error", one_line(line))
            raise typer.Exit(exc.exit_code) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # --help, usage errors, Ctrl-C: Typer reports them itself
        except Exception as exc:
            if (ctx.obj or {}).get("debug"):
                console.print(Text("".join(traceback.format_exception(exc))), end="")
            say(
                "error",
                f"unexpected {type(exc).__name__}: {one_line(str(exc))} — a bug in newsmirror; "
                "run again with --debug for the traceback, and report it",
            )
            raise typer.Exit(EXIT_BUG) from None


app = typer.Typer(
    cls=Commands,
    help="Keep a readable, shareable mirror of news sites: sync feeds into a store, "
    "build Markdown pages from it, publish them to git remotes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="The config file.", envvar="NEWSMIRROR_CONFIG", show_default=True)
]


@app.callback()
def main(
    ctx: typer.Context,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            envvar="NEWSMIRROR_DEBUG",
            help="Show the traceback of every unexpected error (one line each otherwise).",
        ),
    ] = False,
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            envvar="NEWSMIRROR_LOG_FORMAT",
            metavar="plain|json",
            help="plain: lines for people (the default); json: one JSON object per line (time, level, event, "
            "feed/article/remote, message) for journald and log collectors.",
        ),
    ] = "plain",
) -> None:
    ctx.obj = {"debug": debug}
    if log_format not in LOG_FORMATS:
        raise typer.BadParameter(f"{log_format!r}: use plain or json", param_hint="--log-format")
    log.format = log_format  # type: ignore[assignment]
    log.take_python_warnings()
    if debug:
        # sync, build and publish log the traceback of an unexpected error in one
        # feed, article, image or remote at DEBUG level, and go on.
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("debug: %(message)s"))
        logger = logging.getLogger("newsmirror")
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    error = UsageError(message)
    error.exit_code = code
    raise error


def load(path: Path) -> Config:
    return load_config(path)


@contextmanager
def locked(cfg: Config) -> Iterator[None]:
    """Hold the run lock, or exit at once if another run holds it: a lock file beside a SQLite
    store, an advisory lock in a PostgreSQL one (so runs take turns across every machine)."""
    from newsmirror.lock import run_lock
    from newsmirror.store import cluster_run_lock
    from newsmirror.sync import owner_name

    with cluster_run_lock(cfg.store_url, owner_name("run")) if cfg.store_url else run_lock(cfg.store_path):
        yield


def open_store(cfg: Config) -> Store:
    from newsmirror.store import Store

    store = Store(cfg.store)
    if store.upgraded:
        log.info("store", str(store.upgraded))
    return store


def finish(ok: bool) -> None:
    if not ok:
        raise typer.Exit(EXIT_PARTIAL)


def open_store_readonly(cfg: Config) -> Store:
    from newsmirror.store import Store, StoreError

    try:
        return Store(cfg.store, readonly=True)
    except StoreError as exc:
        fail(str(exc))
