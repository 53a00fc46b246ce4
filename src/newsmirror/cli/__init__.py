"""The command line. Each command is a thin layer over the module that does the work.

``app`` is the Typer application (the ``newsmirror`` entry point). Each module of this
package registers one group of commands on it; importing them in this order is the
order ``--help`` lists them in.
"""

from importlib import import_module

from newsmirror.cli.app import app

for _group in ("setup", "pipeline", "reports", "serving", "offline", "signing"):
    import_module(f"newsmirror.cli.{_group}")

__all__ = ["app"]
