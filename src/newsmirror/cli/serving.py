"""Commands that serve until stopped: the view counter, the preview, the demo sites; and demo, which mirrors them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from newsmirror.cli.app import ConfigOption, app, console, fail, load
from newsmirror.cli.pipeline import run_all
from newsmirror.config import DEFAULT_CONFIG

_COUNTER_HELP = (
    "Serve the view counter: the 1×1 image of every page, counting views of stored articles.\n\n"
    "With mirror.counter_url set, every built page carries the image <counter_url>/v/<site>/<channel>/<id>.gif. "
    "Each GET of it adds a view of that article (unknown ids get the same image and count nothing). Counts are "
    "saved to the store every second; SIGTERM or Ctrl-C saves what is pending; a crash loses at most the last "
    "second. The next `build` ranks the most-read list from them.\n\n"
    "Privacy: no IP address, user agent or cookie is ever stored or logged. Repeat views within --window-minutes "
    "are recognised in memory by a hash whose random key changes every UTC day and is never written down.\n\n"
    "Deployment: keep the counter on 127.0.0.1 behind a reverse proxy that serves HTTPS, run it with --trust-proxy "
    "(so readers are told apart by their own address, not the proxy's), and turn the proxy's access log off for "
    "it; a proxy on another host: set FORWARDED_ALLOW_IPS to its address. The README's 'View counter' section "
    "has nginx and Caddy examples."
)


@app.command(help=_COUNTER_HELP)
def counter(
    config: ConfigOption = Path(DEFAULT_CONFIG),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8787,
    window_minutes: Annotated[
        float, typer.Option(min=0, help="Repeat views from one client within this many minutes count once; 0: all.")
    ] = 30,
    trust_proxy: Annotated[
        bool,
        typer.Option(
            "--trust-proxy",
            help="Take the client address from X-Forwarded-For, from the addresses in FORWARDED_ALLOW_IPS only "
            "(default 127.0.0.1,::1: a proxy on this host).",
        ),
    ] = False,
) -> None:
    cfg = load(config)
    if not cfg.store_url and not cfg.store_path.exists():
        fail(f"{cfg.store_path}: no store yet; run 'newsmirror sync' first")
    from newsmirror.counter import serve

    serve(cfg.store, host=host, port=port, window_minutes=window_minutes, trust_proxy=trust_proxy)


@app.command()
def demo(
    folder: Annotated[Path, typer.Argument(help="Where the demo mirror goes.")] = Path("demo-mirror"),
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port for the sample sites.")] = 8700,
) -> None:
    """Mirror the bundled sample news sites, served on 127.0.0.1, into ./demo-mirror.

    Serves the sample sites, syncs them into demo-mirror/newsmirror.db, builds the
    Markdown mirror in demo-mirror/mirror and publishes it to the local bare
    repository demo-mirror/remote.git, then stops. Needs no internet. Run again,
    it fetches nothing new (the sample sites answer 304), writes no file and makes
    no commit.
    """
    from newsmirror.demosite import DemoSite
    from newsmirror.demosite.mirror import prepare_demo

    try:
        site = DemoSite(port=port, slow_delay=1.0)
    except OSError as exc:
        fail(f"cannot serve the sample sites on 127.0.0.1:{port}: {exc.strerror or exc}; pass another --port")
    with site:
        demo = prepare_demo(site, folder)
        console.print(f"serving the sample news sites at {site.base_url}; mirroring them into {demo.folder}")
        ok = run_all(demo.config)
    console.print(
        f"\nThe mirror is in {demo.config.output_dir}: start with {demo.home}.\n"
        f"It was published to {demo.remote} (see: git -C {demo.remote} log --stat -1).\n"
        f"Its config is {demo.config_path}; try 'newsmirror build --config {demo.config_path}' after editing it."
    )
    if not ok:
        # The sample sites hold a broken feed and a missing article on purpose.
        console.print("(the errors above are the sample sites' deliberate faults: a malformed feed, a 404)")


@app.command()
def serve(
    config: ConfigOption = Path(DEFAULT_CONFIG),
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free port).")] = 8000,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Serve the built output tree read-only on 127.0.0.1, to preview it in a browser, until Ctrl-C."""
    from newsmirror.preview import preview_server

    cfg = load(config)
    if not cfg.output_dir.is_dir():
        fail(f"{cfg.output_dir}: no output yet; run 'newsmirror build' first")
    try:
        server = preview_server(cfg.output_dir, host, port)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}; pass another --port (0 picks a free one)")
    with server:
        typer.echo(f"http://{host}:{server.server_address[1]}/")
        console.print(f"serving {cfg.output_dir} read-only; press Ctrl-C to stop")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            console.print("stopped")


@app.command("demo-site")
def demo_site(
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free port).")] = 8700,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    write_config: Annotated[
        Path | None, typer.Option("--write-config", help="Also write a newsmirror config that mirrors the demo sites.")
    ] = None,
    slow_delay: Annotated[float, typer.Option(min=0, help="Seconds the slow article takes to answer.")] = 2.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not log each request.")] = False,
) -> None:
    """Serve the bundled sample news sites (feeds and article pages) until Ctrl-C."""
    import os
    import threading

    from newsmirror.demosite import DemoSite

    try:
        request_log = None if quiet else (lambda line: console.print(line, markup=False))
        site = DemoSite(host=host, port=port, slow_delay=slow_delay, log=request_log)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}; pass another --port (0 picks a free one)")
    with site:
        if write_config is not None:
            temp = write_config.with_name(write_config.name + ".tmp")
            temp.write_text(site.config_toml(), "utf-8")
            os.replace(temp, write_config)
            console.print(f"wrote {write_config}: run 'newsmirror sync --config {write_config}' while this runs")
        typer.echo(site.base_url)
        console.print("serving the demo sites; press Ctrl-C to stop")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            console.print("stopped")
