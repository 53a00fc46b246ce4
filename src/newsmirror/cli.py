"""The command line. Each command is a thin layer over the module that does the work."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from newsmirror.config import DEFAULT_CONFIG, Config, ConfigError, load_config

# Exit codes, documented in the README.
EXIT_OK = 0
EXIT_PARTIAL = 1  # the run finished, but some feeds, articles or remotes failed
EXIT_USAGE = 2  # bad config, bad arguments, missing files
EXIT_BUSY = 3  # another run holds the lock

app = typer.Typer(
    help="Keep a readable, shareable mirror of news sites: sync feeds into a store, "
    "build Markdown and HTML pages from it, publish them to git remotes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True, highlight=False, soft_wrap=True)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="The config file.", envvar="NEWSMIRROR_CONFIG", show_default=True)
]


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    console.print(f"[red]error:[/red] {message}", markup=True, soft_wrap=True)
    raise typer.Exit(code)


def load(path: Path) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        fail(str(exc))


@app.command()
def init(
    config: ConfigOption = Path(DEFAULT_CONFIG),
    force: Annotated[bool, typer.Option(help="Overwrite an existing config.")] = False,
) -> None:
    """Write a commented starter config to edit."""
    if config.exists() and not force:
        fail(f"{config} already exists; edit it, or pass --force to overwrite it")
    config.write_text(resources.files("newsmirror").joinpath("starter.toml").read_text("utf-8"), "utf-8")
    console.print(f"wrote {config}: edit the sites and channels, then run 'newsmirror check'")


@app.command()
def check(config: ConfigOption = Path(DEFAULT_CONFIG)) -> None:
    """Validate a config without fetching anything."""
    cfg = load(config)
    channels = sum(len(site.channels) for site in cfg.sites)
    if not cfg.sites:
        fail(f"{config}: no [[site]] defined; add one (see 'newsmirror init')")
    console.print(
        f"{config}: ok — {len(cfg.sites)} sites, {channels} channels, {len(cfg.remotes)} remotes; "
        f"output {cfg.output_dir}, store {cfg.store_path}"
    )


if __name__ == "__main__":
    app()
