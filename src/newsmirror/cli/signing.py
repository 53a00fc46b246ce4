"""Commands for the signed SHA256SUMS: keygen, and verify for readers and operators."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from newsmirror.cli.app import ConfigOption, app, fail, finish, load, say
from newsmirror.config import DEFAULT_CONFIG


@app.command()
def keygen(
    config: ConfigOption = Path(DEFAULT_CONFIG),
    force: Annotated[bool, typer.Option(help="Replace an existing key (readers will see a new fingerprint).")] = False,
) -> None:
    """Make the key that signs the mirror's SHA256SUMS (mirror.signing_key, outside the output folder).

    Writes an Ed25519 key in OpenSSH's format (mode 0600) and its public key beside it (.pub).
    Every build then signs SHA256SUMS with it and every page shows its short fingerprint.
    Keep the private key off the published tree and back it up: a new key means a new
    fingerprint that readers must learn again.
    """
    from newsmirror.signing import generate_key, public_key_path

    cfg = load(config)
    key = cfg.signing_key_path
    if key.is_relative_to(cfg.output_dir):
        fail(
            f"mirror.signing_key {key} is inside the output folder {cfg.output_dir}: "
            "it would be published; set it outside"
        )
    if key.exists() and not force:
        fail(f"{key} already exists; pass --force to replace it (readers will see a new fingerprint)")
    public = generate_key(key, f"newsmirror {cfg.mirror.title}")
    say("info", f"wrote {key} (private: keep it off the published tree) and {public_key_path(key)}", "keygen")
    say("info", f"fingerprint {public.fingerprint}; pages show {public.short_fingerprint}", "keygen")


@app.command()
def verify(
    copy: Annotated[str, typer.Argument(help="A folder or git clone of the mirror, or its base URL on a static host.")],
    config: ConfigOption = Path(DEFAULT_CONFIG),
    key: Annotated[
        str | None, typer.Option("--key", help="The mirror's public key: a .pub file or its 'ssh-ed25519 AAAA…' line.")
    ] = None,
    fingerprint: Annotated[
        str | None,
        typer.Option("--fingerprint", help="The key's fingerprint, SHA256:… (the short one pages show will do)."),
    ] = None,
) -> None:
    """Check that a copy of the mirror is faithful: SHA256SUMS signed by the mirror's key, every file as listed.

    Reports missing, altered and extra files by name. A folder or clone is
    listed, so every extra file is found. A web address cannot be listed:
    there every listed file is fetched (missing and altered ones are all
    found), and the extra files found are those its Markdown and HTML pages
    link to or show within the base URL (an extra page's links are followed
    too) and what a static host serves by itself (index.html, index.md,
    README.md, 404.html); an added file that no page links to is not seen
    from a URL.

    The key is --key, or --fingerprint (matched against the copy's
    SHA256SUMS.pub), or by default the key of the config in use. Exits 0
    only for a faithful copy, 1 otherwise, 2 when it cannot be checked.
    """
    from newsmirror.config import HttpConfig
    from newsmirror.signing import PublicKey, SigningError, parse_public_key, public_key_path
    from newsmirror.verify import VerifyError, describe, verify_folder, verify_url

    public: PublicKey | None = None
    http = HttpConfig(allow_private=True)  # the address is the user's own choice, loopback included
    try:
        if key is not None:
            text = Path(key).read_text("utf-8") if Path(key).is_file() else key
            public = parse_public_key(text)
        elif fingerprint is None:
            if not config.exists():
                fail(f"{config}: no config to take the key from; pass --key or --fingerprint")
            cfg = load(config)
            pub = public_key_path(cfg.signing_key_path)
            if not pub.exists():
                fail(f"{pub}: no public key; pass --key or --fingerprint, or run 'newsmirror keygen'")
            public = parse_public_key(pub.read_text("utf-8"))
            http = cfg.http.model_copy(update={"allow_private": True})
        if copy.startswith(("http://", "https://")):
            report = verify_url(copy, public, fingerprint, http)
        else:
            report = verify_folder(Path(copy), public, fingerprint)
    except (SigningError, VerifyError) as exc:
        fail(str(exc))
    for line in describe(report):
        say("info" if report.faithful else "error", line, "verify")
    finish(report.faithful)
